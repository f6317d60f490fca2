// Replays every PIC and ELCR access of the shared QEMU traces and compares our answers with QEMU's.
import type { TraceAccess } from '@splitvisor/device-testkit';
import { TRACE_NAMES, createTestContext, loadTrace, replayTrace } from '@splitvisor/device-testkit';
import { describe, expect, it } from 'vitest';
import { Ioapic, PicPair, Redirection } from '../src/index.ts';

/** The PC's decoding: master 20h, slave A0h (IBM PC/AT), ELCR 4D0h (PIIX). */
const placements = [
  { space: 'port', base: 0x20, length: 2, region: 'master' },
  { space: 'port', base: 0xa0, length: 2, region: 'slave' },
  { space: 'port', base: 0x4d0, length: 2, region: 'elcr' },
] as const;

/**
 * IRR, ISR and poll reads (port 0 of either chip) depend on the devices' lines and on the CPU's
 * interrupt acknowledges, neither of which a trace of port accesses records. IMR and ELCR reads must match.
 */
function timeDependent(access: TraceAccess): string | undefined {
  return access.addr === 0x20 || access.addr === 0xa0 ? 'IRR/ISR (device lines, CPU acknowledges)' : undefined;
}

describe.each(TRACE_NAMES)('trace %s', (name) => {
  it('answers every IMR and ELCR read as QEMU did', () => {
    const context = createTestContext();
    const pic = new PicPair(context);
    const result = replayTrace(pic, context, loadTrace(name), placements, { timeDependent });
    expect(result.mismatches).toEqual([]);
    expect(result.identical).toBeGreaterThan(0);
    console.log(`${name}: ${result.accesses} accesses, ${result.reads} reads, ${result.identical} identical, ${JSON.stringify(result.timeDependent)}`);
  });
});

describe.each(TRACE_NAMES)('trace %s: I/O APIC', (name) => {
  it('answers every IOAPIC read as QEMU did, but remote IRR (an interrupt in flight)', () => {
    const context = createTestContext();
    const ioapic = new Ioapic(context, { deliver: () => undefined });
    let index = 0;
    const result = replayTrace(ioapic, context, loadTrace(name), [{ space: 'mmio', base: 0xfec0_0000, length: 0x1000, region: 'registers' }], {
      skip: (access) => {
        if (access.op === 'w' && access.addr === 0xfec0_0000) index = access.value & 0xff;
        return false;
      },
      // Remote IRR of a level entry depends on device lines and the LAPIC's EOIs, which the trace does not carry.
      timeDependent: (access) => (access.op === 'r' && access.addr === 0xfec0_0010 && index >= 0x10 && (index & 1) === 0 ? 'redirection entry (remote IRR)' : undefined),
      close: (access, ours) => ((ours ^ access.value) & ~Redirection.REMOTE_IRR) === 0,
    });
    expect(result.mismatches).toEqual([]);
    for (const counts of Object.values(result.timeDependent)) expect(counts.close).toBe(counts.reads);
    console.log(`${name} IOAPIC: ${result.accesses} accesses, ${result.reads} reads, ${result.identical} identical, ${JSON.stringify(result.timeDependent)}`);
  });
});
