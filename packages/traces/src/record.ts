/**
 * One recorded guest access, as the JSON Lines traces of `shared/traces`
 * hold them (one record a line: `{"t","kind","op","addr","size","value","mr"}`),
 * and the parser every reader of them uses: each line JSON, each record
 * checked against the schema, time never going backwards. A line that is not
 * such a record stops the parse with one error naming the trace and the line.
 */
import { z } from 'zod';

export const TraceRecordSchema = z.strictObject({
  /** ns since the first record (host wall clock at 1 µs resolution; see the traces README). */
  t: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  kind: z.enum(['pio', 'mmio']),
  op: z.enum(['r', 'w']),
  addr: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  size: z.union([z.literal(1), z.literal(2), z.literal(4)]),
  value: z.number().int().nonnegative().max(0xffff_ffff),
  /** QEMU's MemoryRegion name; `io` is an unassigned port. */
  mr: z.string(),
}).refine((r) => r.kind !== 'pio' || r.addr <= 0xffff, { message: 'a port number is at most 0xffff', path: ['addr'] })
  .refine((r) => r.value < 2 ** (8 * r.size), { message: 'value is wider than size', path: ['value'] });

export type TraceRecord = z.infer<typeof TraceRecordSchema>;

/** A trace could not be used; the message is the one line to print, naming the file (and line). */
export class TraceError extends Error {
  override readonly name = 'TraceError';
}

/**
 * Parses a trace line by line, whatever the lines come from (a stream, a
 * string): `push` each line, then `finish` for the records. Blank lines are
 * skipped but counted, so line numbers are the file's.
 */
export class TraceParser {
  private readonly name: string;
  private readonly records: TraceRecord[] = [];
  private line = 0;
  private last = 0;

  /** `name` names the trace in errors (its path). */
  constructor(name: string) {
    this.name = name;
  }

  push(text: string): void {
    this.line++;
    if (text.trim() === '') return;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new TraceError(`${this.name} line ${this.line}: not JSON`);
    }
    const parsed = TraceRecordSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue === undefined || issue.path.length === 0 ? '' : `${issue.path.join('.')}: `;
      throw new TraceError(`${this.name} line ${this.line}: not a trace record: ${where}${issue?.message ?? 'invalid'}`);
    }
    if (parsed.data.t < this.last) throw new TraceError(`${this.name} line ${this.line}: t goes backwards (${parsed.data.t} after ${this.last})`);
    this.last = parsed.data.t;
    this.records.push(parsed.data);
  }

  /** The records; a trace with none is an error. */
  finish(): TraceRecord[] {
    if (this.records.length === 0) throw new TraceError(`${this.name}: no trace records`);
    return this.records;
  }
}

/** The records of a whole trace held as text; `name` names it in errors. */
export function parseTrace(text: string, name = 'trace'): TraceRecord[] {
  const parser = new TraceParser(name);
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop(); // a final newline ends the last line, it does not start another
  for (const line of lines) parser.push(line);
  return parser.finish();
}
