// Replays every i8042 access of the shared QEMU traces (SeaBIOS POST, Linux 6.1 boots) and compares our answers with
// QEMU's; in the Linux boots, also compares our irq 1 / irq 12 rising edges with the interrupt messages QEMU's IOAPIC sent.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { TraceName } from '@splitvisor/device-testkit';
import { TRACE_NAMES, createTestContext, loadTrace, replayTrace } from '@splitvisor/device-testkit';
import { describe, expect, it } from 'vitest';
import { I8042 } from '../src/index.ts';

/** The PC's decoding: data at 60h, status/command at 64h (QEMU regions `i8042-data`, `i8042-cmd`). */
const placements = [
  { space: 'port', base: 0x60, length: 1, region: 'data' },
  { space: 'port', base: 0x64, length: 1, region: 'command' },
] as const;

interface IrqMessage {
  readonly t: number;
  readonly vector: number;
  readonly ctx: 'vcpu' | 'other';
}

function irqMessages(name: TraceName): IrqMessage[] {
  const path = fileURLToPath(new URL(`../../../../shared/traces/${name}.irqmsg.jsonl.gz`, import.meta.url));
  return gunzipSync(readFileSync(path)).toString('utf8').split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as IrqMessage);
}

/**
 * Linux's vectors for the two lines in these boots, identified by timing: every vector 23h message is raised in
 * vCPU context within the access that loads a keyboard byte with KBD_INT set, every 22h message within one that
 * loads an aux byte with AUX_INT set (the D3h loopback at 4.5567 s, psmouse's F2h at 4.578 s).
 */
const VECTOR_OF_OUTPUT = { 0: 0x23, 1: 0x22 } as const;
/** How far apart (ns) an access and an interrupt message it raised may be stamped. */
const SAME_ACCESS = 50_000;

describe.each(TRACE_NAMES)('trace %s', (name) => {
  it('answers every i8042 read as QEMU did', () => {
    const context = createTestContext();
    const kbc = new I8042(context);
    const records = loadTrace(name);
    const result = replayTrace(kbc, context, records, placements);
    expect(result.reads).toBeGreaterThan(40);
    expect(result.mismatches).toEqual([]);
    expect(result.timeDependent).toEqual({}); // no i8042 read depends on when it is made: QEMU answers at once
    expect(result.identical / result.reads).toBeGreaterThanOrEqual(0.995);
    expect(kbc.anomalies()).toMatchObject({ unsupportedCommands: 0, emptyDataReads: 0, controllerBytesLost: 0 });
    console.log(`${name}: ${result.accesses} accesses, ${result.reads} reads, ${result.identical} identical`);

    if (name === 'seabios-post') return; // SeaBIOS runs the 8259s without the IOAPIC: no interrupt messages
    // From the first message on a line (the IOAPIC pin is masked before Linux requests the irq), every rising edge
    // of ours is one message of that line's vector, raised within the same access. The log stamps a write before
    // QEMU handles it and a read after, and logging under TCG is slow: they are up to 33 µs apart.
    const messages = irqMessages(name);
    for (const [output, vector] of Object.entries(VECTOR_OF_OUTPUT)) {
      const theirs = messages.filter((m) => m.vector === vector && m.ctx === 'vcpu').map((m) => m.t);
      const first = theirs[0] ?? Infinity;
      const ours = context.irqEdges.filter((e) => e.output === Number(output) && e.level && e.time >= first - SAME_ACCESS).map((e) => e.time);
      expect(ours).toHaveLength(theirs.length);
      ours.forEach((t, i) => { expect(Math.abs(t - (theirs[i] ?? 0))).toBeLessThanOrEqual(SAME_ACCESS); });
      console.log(`${name}: irq ${output === '0' ? 1 : 12}: ${ours.length} rising edges, ${theirs.length} vector ${vector.toString(16)}h messages`);
    }
  }, 60_000);
});
