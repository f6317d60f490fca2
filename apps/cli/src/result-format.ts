// The header of every result `--json` prints (format, version, kind), apart from the schema that checks one
// (`result-file.ts`): a command prints results without carrying the validator.
export const RESULT_FORMAT = 'splitvisor-result';
export const RESULT_VERSION = 1;

export type ResultKind = 'run' | 'compare' | 'replay' | 'experiment';

/** A result as `--json` prints it: the format, its version and kind first. */
export function asResult<T extends object>(kind: ResultKind, body: T): { readonly format: typeof RESULT_FORMAT; readonly version: typeof RESULT_VERSION; readonly kind: ResultKind } & T {
  return { format: RESULT_FORMAT, version: RESULT_VERSION, kind, ...body };
}
