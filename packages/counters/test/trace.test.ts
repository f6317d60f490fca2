// Replays every ACPI PM timer and HPET access of the shared QEMU traces and compares our answers with QEMU's.
import type { TraceAccess } from '@splitvisor/device-testkit';
import { TRACE_NAMES, createTestContext, loadTrace, replayTrace } from '@splitvisor/device-testkit';
import { describe, expect, it } from 'vitest';
import { AcpiPmTimer, HPET_HZ, Hpet, HpetReg, PM_TIMER_HZ } from '../src/index.ts';

/** QEMU's pc machine: PIIX4 PMBASE 600h (PM1 event block at 600h, PM_TMR at 608h); HPET at FED00000h. */
const PM_PLACEMENTS = [
  { space: 'port', base: 0x600, length: 4, region: 'pm1-event' },
  { space: 'port', base: 0x608, length: 4, region: 'pm-timer' },
] as const;
const HPET_BASE = 0xfed0_0000;
const HPET_PLACEMENTS = [{ space: 'mmio', base: HPET_BASE, length: 0x400, region: 'registers' }] as const;

describe.each(TRACE_NAMES)('trace %s', (name) => {
  it('ACPI PM timer: every read advances as QEMU\'s did, to within the trace\'s 1 µs', () => {
    const context = createTestContext();
    const pm = new AcpiPmTimer(context);
    // QEMU's counter runs from VM start, which is before the trace's first record: learn that offset from the first read.
    let offset: number | undefined;
    const result = replayTrace(pm, context, loadTrace(name), PM_PLACEMENTS, {
      timeDependent: (access) => (access.addr === 0x608 ? 'PM_TMR (the count)' : undefined),
      close: (access, ours) => {
        offset ??= access.value - ours;
        const drift = Math.abs((((access.value - ours - offset) % 2 ** 24) + 2 ** 24 + 2 ** 23) % 2 ** 24 - 2 ** 23);
        return drift <= 2 * Math.ceil(PM_TIMER_HZ / 1e6); // 2 µs of the 3.58 MHz clock
      },
    });
    expect(result.mismatches).toEqual([]);
    for (const counts of Object.values(result.timeDependent)) expect(counts.close).toBe(counts.reads);
    console.log(`${name} PM timer: ${result.reads} reads, ${JSON.stringify(result.timeDependent)}`);
  });

  it('HPET: configuration reads exact, main counter within the trace\'s time resolution', () => {
    const context = createTestContext();
    const hpet = new Hpet(context);
    const counterOffsets = new Set([HpetReg.MAIN_CNT, HpetReg.MAIN_CNT + 4]);
    // QEMU takes the enable time a few µs after the trace stamps the write (the stamp is taken as the access is
    // logged): learn that lag from the first count read, then every later read must keep it to within 2 µs.
    let lag: number | undefined;
    const result = replayTrace(hpet, context, loadTrace(name), HPET_PLACEMENTS, {
      timeDependent: (access: TraceAccess) => (counterOffsets.has(access.addr - HPET_BASE) ? 'main counter' : undefined),
      close: (access, ours) => {
        if (access.addr - HPET_BASE !== HpetReg.MAIN_CNT) return false;
        lag ??= ours - access.value;
        return Math.abs(ours - access.value - lag) <= 2 * (HPET_HZ / 1e6);
      },
    });
    if (lag !== undefined) expect(Math.abs(lag)).toBeLessThan(10 * (HPET_HZ / 1e6));
    expect(result.mismatches).toEqual([]);
    for (const counts of Object.values(result.timeDependent)) expect(counts.close).toBe(counts.reads);
    console.log(`${name} HPET: ${result.accesses} accesses, ${result.reads} reads, ${result.identical} identical, ${JSON.stringify(result.timeDependent)}`);
  });
});
