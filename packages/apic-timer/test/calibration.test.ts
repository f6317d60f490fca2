// Linux's LAPIC timer calibration against the PIT (calibrate_APIC_clock): count the APIC timer down from
// 0xffffffff while the PIT's counter 2 measures the interval through port 61h.
import { createTestContext } from '@splitvisor/device-testkit';
import { I8254, PIT_HZ } from '@splitvisor/pit';
import { describe, expect, it } from 'vitest';
import { ApicTimer, LvtTimer } from '../src/index.ts';

describe('LAPIC timer calibration against the PIT', () => {
  it('measures the APIC bus clock the PIT says elapsed', () => {
    const context = createTestContext();
    const pit = new I8254(context);
    const timer = new ApicTimer(context, () => undefined, { busHz: 1_000_000_000 });
    timer.writeDivideConfig(0x3); // ÷16
    timer.writeLvt(0xec | LvtTimer.MASKED);
    // 50 ms on counter 2: gate on, speaker off, mode 0, then the APIC count from 0xffffffff.
    const latch = Math.floor(PIT_HZ / 20);
    pit.write('nmisc', 0, 1, 0x01);
    pit.write('counters', 3, 1, 0xb0);
    pit.write('counters', 2, 1, latch & 0xff);
    pit.write('counters', 2, 1, latch >> 8);
    timer.writeInitialCount(0xffff_ffff);
    // Poll OUT2 (port 61h bit 5) every microsecond, as the busy loop would.
    while ((pit.read('nmisc', 0, 1) & 0x20) === 0) context.advance(1000);
    const elapsedCounts = 0xffff_ffff - timer.readCurrentCount();
    const apicHz = (elapsedCounts * 16 * PIT_HZ) / latch;
    expect(Math.abs(apicHz - 1e9) / 1e9).toBeLessThan(1e-4);
  });
});
