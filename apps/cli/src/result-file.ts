/**
 * What `--json` prints and `splitvisor report` reads: a result of `run`,
 * `compare` or `experiment`, tagged with its format and version. The zod
 * schema here is the format's definition; `schema/result-v1.json` is the
 * JSON Schema generated from it (`splitvisor report --schema`). A result of
 * another version, a truncated file or something else is refused in one
 * line naming the file.
 */
import { z } from 'zod';
import { CliError } from './cli-error.ts';
import { readJsonFile } from './json-file.ts';
import { RESULT_FORMAT, RESULT_VERSION } from './result-format.ts';


const Domain = z.enum(['guest', 'monitor', 'kernel', 'user']);
const ByDomain = z.record(z.string(), z.partialRecord(Domain, z.number().int().nonnegative()));
const Percentiles = z.object({ count: z.number(), p50: z.number(), p90: z.number(), p99: z.number(), max: z.number(), bins: z.array(z.tuple([z.number(), z.number()])) });

const Timeline = z.object({
  fromNs: z.number(),
  toNs: z.number(),
  startsIn: Domain,
  startsHaltedIn: Domain.optional(),
  events: z.array(z.object({ time: z.number(), from: Domain, to: Domain, reason: z.string(), device: z.string().nullable() })),
  dropped: z.number(),
});

/** One workload under one placement (`ProfileRun`), the fields a report draws. */
const Run = z.looseObject({
  profile: z.string(),
  irqchip: z.string(),
  mode: z.enum(['modelled', 'live']),
  costModel: z.string(),
  exits: z.number(),
  lightweightExits: z.number(),
  heavyweightExits: z.number(),
  exitsByDevice: ByDomain,
  kicksByDevice: ByDomain,
  cyclesByDevice: z.record(z.string(), z.number()),
  overheadCycles: z.number(),
  overheadPercent: z.number(),
  guestNs: z.number(),
  interruptLatencyNs: Percentiles,
  timerLatenessNs: z.record(z.string(), Percentiles),
  timeline: Timeline.optional(),
});

const Cell = z.union([z.string(), z.number()]);

/** A QEMU trace replayed under a placement (`ReplayReport`), the fields a report draws. */
const Replay = {
  trace: z.string(), profile: z.string(), irqchip: z.string(), costModel: z.string(),
  exits: z.number(), lightweightExits: z.number(), heavyweightExits: z.number(),
  exitsByDevice: ByDomain, kicksByDevice: ByDomain, overheadCycles: z.number(), overheadPercent: z.number(),
  fidelity: z.array(z.looseObject({ mr: z.string(), device: z.string(), reads: z.number(), identical: z.number(), mismatches: z.number(), identicalPercent: z.number() })),
};

const Header = { format: z.literal(RESULT_FORMAT), version: z.literal(RESULT_VERSION) };

export const ResultFile = z.discriminatedUnion('kind', [
  z.looseObject({ ...Header, kind: z.literal('run'), workload: z.looseObject({ workload: z.string() }), run: Run }),
  z.looseObject({ ...Header, kind: z.literal('compare'), workload: z.looseObject({ workload: z.string() }), runs: z.array(Run).min(1) }),
  z.looseObject({ ...Header, kind: z.literal('replay'), ...Replay }),
  z.looseObject({
    ...Header, kind: z.literal('experiment'), experiment: z.string(), seed: z.string(),
    tables: z.array(z.object({ title: z.string(), rows: z.array(z.record(z.string(), Cell)) })),
  }),
]);
export type ResultFile = z.infer<typeof ResultFile>;
export type ResultRun = z.infer<typeof Run>;

/** The JSON Schema of the format, generated from the zod schema. */
export function resultSchema(): unknown {
  return { $id: `https://splitvisor.invalid/schema/result-v${RESULT_VERSION}.json`, title: `splitvisor result, version ${RESULT_VERSION}`, ...z.toJSONSchema(ResultFile, { io: 'input' }) };
}

/** `file` read and checked as a result; one line naming the file and the problem otherwise. */
export function readResult(file: string): ResultFile {
  const input = readJsonFile(file, 'result', 'not JSON, or cut short');
  if (typeof input !== 'object' || input === null || (input as { format?: unknown }).format !== RESULT_FORMAT) {
    throw new CliError(`${file}: not a splitvisor result (what run, compare, replay or experiment print with --json)`);
  }
  const { version } = input as { version?: unknown };
  if (version !== RESULT_VERSION) throw new CliError(`${file}: a result of format version ${JSON.stringify(version)}; this splitvisor reads version ${RESULT_VERSION}`);
  const parsed = ResultFile.safeParse(input);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new CliError(`${file}: ${first === undefined ? 'not a result' : `${first.path.join('.') || '(the file)'}: ${first.message}`}${parsed.error.issues.length > 1 ? ` (and ${parsed.error.issues.length - 1} more)` : ''}`);
  }
  return parsed.data;
}
