/**
 * Replays the shared QEMU traces (../shared/traces, beside the repository)
 * against one device: each recorded access to the device's addresses is
 * issued at its recorded time, and each read's answer is compared with the
 * value QEMU returned. Registers whose value depends on when they are read
 * (counters, status bits that follow an output) are named by the test and
 * counted apart, with an optional tolerance check.
 */
import { fileURLToPath } from 'node:url';
import type { AddressSpace, Device } from '@splitvisor/abi';
import type { TraceRecord } from '@splitvisor/traces';
import { readTraceSync } from '@splitvisor/traces';
import type { TestContext } from './test-context.ts';

/** One recorded access: the record of `@splitvisor/traces`, checked as it is read. */
export type TraceAccess = Readonly<TraceRecord>;

export const TRACE_NAMES = ['seabios-post', 'linux-boot-serial', 'linux-boot-vga'] as const;
export type TraceName = (typeof TRACE_NAMES)[number];

const cache = new Map<TraceName, readonly TraceAccess[]>();

/**
 * The records of `shared/traces/NAME.jsonl.gz`, read and validated by the
 * one trace reader (`@splitvisor/traces`); throws naming the path when
 * shared/ is not beside the repo, or the file and line of a bad record.
 */
export function loadTrace(name: TraceName): readonly TraceAccess[] {
  const cached = cache.get(name);
  if (cached !== undefined) return cached;
  const path = fileURLToPath(new URL(`../../../../shared/traces/${name}.jsonl.gz`, import.meta.url));
  let records: readonly TraceAccess[];
  try {
    records = readTraceSync(path);
  } catch (error) {
    throw new Error(`cannot read the shared trace ${path} (is ../shared beside the repository?): ${String(error)}`, { cause: error });
  }
  cache.set(name, records);
  return records;
}

/** Where one of the device's regions sits on the board. */
export interface Placement {
  readonly space: AddressSpace;
  readonly base: number;
  readonly region: string;
  readonly length: number;
}

export interface ReplayOptions {
  /** The register's name if a read of it depends on the time of reading, else undefined. */
  timeDependent?(access: TraceAccess): string | undefined;
  /** For a time-dependent read: whether ours is as close to QEMU's as time resolution allows. */
  close?(access: TraceAccess, ours: number): boolean;
  /** Accesses to leave out (e.g. from another phase of the trace). */
  skip?(access: TraceAccess): boolean;
}

export interface Mismatch {
  readonly t: number;
  readonly addr: number;
  readonly expected: number;
  readonly actual: number;
}

export interface ReplayResult {
  readonly accesses: number;
  readonly reads: number;
  readonly identical: number;
  /** Per time-dependent register: reads, reads equal to QEMU's, and reads equal or within the tolerance. */
  readonly timeDependent: Readonly<Record<string, { reads: number; exact: number; close: number }>>;
  readonly mismatches: readonly Mismatch[];
}

function locate(placements: readonly Placement[], access: TraceAccess): { region: string; offset: number } | undefined {
  const space: AddressSpace = access.kind === 'pio' ? 'port' : 'mmio';
  for (const p of placements) {
    if (p.space === space && access.addr >= p.base && access.addr < p.base + p.length) return { region: p.region, offset: access.addr - p.base };
  }
  return undefined;
}

export function replayTrace(
  device: Device,
  context: TestContext,
  records: readonly TraceAccess[],
  placements: readonly Placement[],
  options: ReplayOptions = {},
): ReplayResult {
  let accesses = 0;
  let reads = 0;
  let identical = 0;
  const timeDependent: Record<string, { reads: number; exact: number; close: number }> = {};
  const mismatches: Mismatch[] = [];
  for (const access of records) {
    const at = locate(placements, access);
    if (at === undefined || options.skip?.(access) === true) continue;
    accesses++;
    if (access.t > context.now()) context.advanceTo(access.t);
    if (access.op === 'w') {
      device.write(at.region, at.offset, access.size, access.value);
      continue;
    }
    reads++;
    const ours = device.read(at.region, at.offset, access.size);
    const register = options.timeDependent?.(access);
    if (register !== undefined) {
      const entry = (timeDependent[register] ??= { reads: 0, exact: 0, close: 0 });
      entry.reads++;
      if (ours === access.value) entry.exact++;
      if (ours === access.value || options.close?.(access, ours) === true) entry.close++;
    } else if (ours === access.value) {
      identical++;
    } else {
      mismatches.push({ t: access.t, addr: access.addr, expected: access.value, actual: ours });
    }
  }
  return { accesses, reads, identical, timeDependent, mismatches };
}
