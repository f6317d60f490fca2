// Replays every PIC and ELCR access of the shared QEMU traces and compares our answers with QEMU's.
import type { TraceAccess } from '@splitvisor/device-testkit';
import { TRACE_NAMES, createTestContext, loadTrace, replayTrace } from '@splitvisor/device-testkit';
import { describe, expect, it } from 'vitest';
import { Ioapic, LapicReg, LocalApic, PicPair, Redirection } from '../src/index.ts';

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

describe.each(TRACE_NAMES)('trace %s: local APIC', (name) => {
  it('answers every LAPIC register read as QEMU did, but those that depend on interrupts or the timer\'s count', () => {
    const context = createTestContext();
    const lapic = new LocalApic(context, { apicId: 0 });
    const interruptDependent = (offset: number) => (offset >= LapicReg.ISR && offset < LapicReg.ESR) || offset === LapicReg.PPR;
    const result = replayTrace(lapic, context, loadTrace(name), [{ space: 'mmio', base: 0xfee0_0000, length: 0x1000, region: 'registers' }], {
      timeDependent: (access) => {
        const offset = access.addr - 0xfee0_0000;
        if (offset === LapicReg.TIMER_CURRENT) return 'timer current count';
        // Linux disables the APIC in software and enables it again: the SDM (§11.4.7.2) and KVM mask every
        // LVT entry then and keep it masked; QEMU does not. The one place this model parts from QEMU here.
        if (offset >= LapicReg.LVT_CMCI && offset <= LapicReg.LVT_ERROR && offset !== LapicReg.ICR_LOW && offset !== LapicReg.ICR_HIGH) return 'LVT entry (mask after software disable: SDM, not QEMU)';
        return interruptDependent(offset) ? 'ISR/TMR/IRR/PPR (interrupts the trace does not carry)' : undefined;
      },
      close: (access, ours) => {
        const offset = access.addr - 0xfee0_0000;
        // The current count: within 3 µs of QEMU's at the fastest divisor (1 GHz bus).
        if (offset === LapicReg.TIMER_CURRENT) return Math.abs(ours - access.value) <= 3000;
        return ((ours ^ access.value) & ~0x1_0000) === 0; // LVT: identical but for the mask bit
      },
    });
    expect(result.mismatches).toEqual([]);
    for (const [register, counts] of Object.entries(result.timeDependent)) {
      if (!register.startsWith('ISR')) expect({ register, close: counts.close }).toEqual({ register, close: counts.reads });
    }
    console.log(`${name} LAPIC: ${result.accesses} accesses, ${result.reads} reads, ${result.identical} identical, ${JSON.stringify(result.timeDependent)}`);
  });
});
