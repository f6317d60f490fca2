// Replays every RTC/CMOS access of the shared QEMU traces (SeaBIOS POST, Linux 6.1 boots) and compares our answers with QEMU's.
import type { TraceAccess, TraceName } from '@splitvisor/device-testkit';
import { TRACE_NAMES, createTestContext, loadTrace, replayTrace } from '@splitvisor/device-testkit';
import { describe, expect, it } from 'vitest';
import type { PcCmosConfig, RtcDateTime } from '../src/index.ts';
import { Mc146818, RegA, RegC, RtcReg, decodeValue, fieldsFromSeconds, secondsFromFields } from '../src/index.ts';

/** The PC's decoding (IBM PC/AT technical reference): index at 70h, data at 71h. */
const INDEX_PORT = 0x70;
const DATA_PORT = 0x71;
const placements = [
  { space: 'port', base: INDEX_PORT, length: 1, region: 'index' },
  { space: 'port', base: DATA_PORT, length: 1, region: 'data' },
] as const;
const NS = 1_000_000_000;
const CENTURY = 0x32;

/**
 * The machines the traces were recorded on (shared/traces/README.md): `-M pc -m 256`, one CPU, a blank 16 MiB IDE disk
 * (QEMU's guessed geometry 32/16/63), and in seabios-post a 1.44 MB floppy image; without `-fda` QEMU's empty `auto`
 * drive A has the 2.88 MB type.
 */
const MACHINES: Readonly<Record<TraceName, PcCmosConfig>> = {
  'seabios-post': { ramBytes: 256 << 20, floppyDrives: ['1.44M'], hardDisks: [{ cylinders: 32, heads: 16, sectors: 63 }] },
  'linux-boot-serial': { ramBytes: 256 << 20, floppyDrives: ['2.88M'], hardDisks: [{ cylinders: 32, heads: 16, sectors: 63 }] },
  'linux-boot-vga': { ramBytes: 256 << 20, floppyDrives: ['2.88M'], hardDisks: [{ cylinders: 32, heads: 16, sectors: 63 }] },
};

type Field = keyof RtcDateTime;
const TIME_BYTES: ReadonlyMap<number, Field | 'century'> = new Map([
  [RtcReg.SECONDS, 'second'], [RtcReg.MINUTES, 'minute'], [RtcReg.HOURS, 'hour'], [RtcReg.DATE_OF_MONTH, 'day'],
  [RtcReg.MONTH, 'month'], [RtcReg.YEAR, 'year'], [RtcReg.DAY_OF_WEEK, 'year'], [CENTURY, 'century'],
] as const);

/** Each data-port access with the index selected when it was made. */
function* dataAccesses(records: readonly TraceAccess[]): Generator<{ access: TraceAccess; index: number }> {
  let index = 0;
  for (const access of records) {
    if (access.kind !== 'pio') continue;
    if (access.addr === INDEX_PORT && access.op === 'w') index = access.value & 0x7f;
    if (access.addr === DATA_PORT) yield { access, index };
  }
}

interface LearnedClock {
  /** The calendar at the trace's t = 0 and how far into its second t = 0 fell. */
  readonly start: number;
  readonly startNanoseconds: number;
  /** The phase of QEMU's 1 Hz edge (ns after a whole second of t) that was chosen, and the width of the interval every seconds read allows. */
  readonly phase: number;
  readonly feasibleNs: number;
}

/**
 * QEMU's clock was the host's date when the VM started; the trace does not say when its seconds turned. The date comes
 * from the first read of each time byte (these traces never cross a minute). The phase of the 1 Hz edge is the middle of
 * the widest interval (1 µs steps, circular) consistent with every seconds read and with UF in every register C read:
 * QEMU starts its clock a whole second before its first update, before the trace's first access, so UF clear in the
 * first read of register C means that update had not come yet.
 */
function learnClock(records: readonly TraceAccess[]): LearnedClock {
  const first = new Map<Field | 'century', number>();
  const seconds: { t: number; value: number }[] = [];
  const flags: { t: number; updated: boolean }[] = [];
  for (const { access, index } of dataAccesses(records)) {
    if (access.op === 'r' && index === RtcReg.C) flags.push({ t: access.t, updated: (access.value & RegC.UF) !== 0 });
    const field = TIME_BYTES.get(index);
    if (access.op !== 'r' || field === undefined || index === RtcReg.DAY_OF_WEEK) continue;
    const value = decodeValue(access.value, false); // the traces run in BCD (register B 02h throughout)
    if (!first.has(field)) first.set(field, value);
    if (field === 'second') seconds.push({ t: access.t, value });
  }
  const [head] = seconds;
  if (head === undefined) throw new Error('no seconds read in the trace');
  const agreesWithSeconds = (phase: number) => seconds.every(({ t, value }) => {
    const elapsed = Math.floor((t - phase) / NS) - Math.floor((head.t - phase) / NS);
    return (((value - head.value - elapsed) % 60) + 60) % 60 === 0;
  });
  /** Updates by time t: the first at `phase` (or a whole second after t = 0 for phase 0). */
  const updatesBy = (phase: number, t: number) => {
    const first = phase === 0 ? NS : phase;
    return t < first ? 0 : Math.floor((t - first) / NS) + 1;
  };
  const agreesWithFlags = (phase: number) => flags.every(({ t, updated }, i) =>
    updatesBy(phase, t) - updatesBy(phase, flags[i - 1]?.t ?? -1) > 0 === updated);
  const feasible = (phase: number) => agreesWithSeconds(phase) && agreesWithFlags(phase);
  const steps = 1_000_000;
  const ok = Array.from({ length: steps }, (_, i) => feasible(i * 1000));
  // Runs of feasible phases, walked once round the circle from an infeasible one.
  const wall = ok.indexOf(false);
  let best = { from: 0, length: wall === -1 ? steps : 0 };
  for (let k = 1, run = 0; wall !== -1 && k <= steps; k++) {
    const i = (wall + k) % steps;
    run = ok[i] === true ? run + 1 : 0;
    if (run > best.length) best = { from: (i - run + 1 + steps) % steps, length: run };
  }
  const phase = ((best.from + Math.floor(best.length / 2)) % steps) * 1000;
  const century = first.get('century') ?? 20;
  const atHead = secondsFromFields({
    year: century * 100 + (first.get('year') ?? 0), month: first.get('month') ?? 1, day: first.get('day') ?? 1,
    hour: first.get('hour') ?? 0, minute: first.get('minute') ?? 0, second: head.value,
  });
  const start = atHead - (Math.floor((head.t - phase) / NS) - Math.floor(-phase / NS));
  return { start, startNanoseconds: (NS - phase) % NS, phase, feasibleNs: best.length * 1000 };
}

describe.each(TRACE_NAMES)('trace %s', (name) => {
  it('answers every RTC/CMOS read as QEMU did; time bytes, UIP and flags counted apart', () => {
    const records = loadTrace(name);
    const clock = learnClock(records);
    const context = createTestContext();
    const rtc = new Mc146818(context, { start: clock.start, startNanoseconds: clock.startNanoseconds, cmos: MACHINES[name] });
    let index = 0;
    const kinds = new Map<string, number>();
    const result = replayTrace(rtc, context, records, placements, {
      // Not a skip: follows the index the way the device does, so each data read knows its register, and sorts the reads.
      skip: (access) => {
        if (access.addr === INDEX_PORT && access.op === 'w') index = access.value & 0x7f;
        if (access.op === 'r') {
          const kind = access.addr === INDEX_PORT ? 'index port' : TIME_BYTES.has(index) ? 'time'
            : index < RtcReg.A ? 'alarm' : index <= RtcReg.D ? `register ${'ABCD'.charAt(index - RtcReg.A)}` : 'RAM';
          kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
        }
        return false;
      },
      timeDependent: (access) => {
        if (access.addr !== DATA_PORT) return undefined;
        if (TIME_BYTES.has(index)) return 'time and date bytes';
        if (index === RtcReg.A) return 'register A';
        if (index === RtcReg.C) return 'register C';
        return undefined;
      },
      close: (access, ours) => {
        // Register A: equal but for UIP. Register C: equal but for PF, which QEMU sets only while PIE is on.
        if (index === RtcReg.A) return ((ours ^ access.value) & ~RegA.UIP) === 0;
        if (index === RtcReg.C) return ((ours ^ access.value) & ~RegC.PF) === 0;
        return false;
      },
    });
    const nonTime = result.identical + result.mismatches.length;
    const date = fieldsFromSeconds(clock.start);
    console.log(`${name}: ${result.accesses} accesses, ${result.reads} reads (${JSON.stringify(Object.fromEntries(kinds))}); `
      + `${result.identical}/${nonTime} other reads identical; `
      + `time-dependent ${JSON.stringify(result.timeDependent)}; start ${JSON.stringify(date)} + ${clock.startNanoseconds} ns `
      + `(1 Hz edge at ${clock.phase / 1e6} ms past t's second, feasible over ${clock.feasibleNs / 1e6} ms)`);
    expect(result.mismatches).toEqual([]);
    for (const [register, counts] of Object.entries(result.timeDependent)) {
      expect({ register, close: counts.close }).toEqual({ register, close: counts.reads });
      if (register === 'time and date bytes') expect(counts.exact).toBe(counts.reads);
    }
    expect(rtc.anomalies()).toMatchObject({ readOnlyWrites: 0, invalidTimeValues: 0 });
  }, 60_000);
});
