import type { ScriptedGuest } from '@splitvisor/scripted-guest';
import { describe, expect, it } from 'vitest';
import { PM_TIMER_PORT, workloadDefinition, pmTimerDelta, pmTimerMonotonic, pmTimerRead } from '../src/index.ts';

function le32(value: number): Uint8Array {
  return Uint8Array.of(value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24);
}

/** Runs the guest, answering its PM_TMR reads from `answers` in turn; the exits as `in:port/size`, `compute`, or their kind. */
function answer(guest: ScriptedGuest, answers: readonly number[]): string[] {
  const log: string[] = [];
  let next = 0;
  for (;;) {
    const { exit } = guest.run(Number.POSITIVE_INFINITY);
    if (exit.kind === 'io' && exit.direction === 'in') {
      log.push(`in:${exit.port.toString(16)}/${exit.size}`);
      const value = answers[next++];
      if (value === undefined) return log;
      guest.complete(le32(value));
    } else {
      log.push(exit.kind);
      if (exit.kind === 'shutdown') return log;
    }
  }
}

describe('pm-timer-read', () => {
  it('reads PM_TMR three times with 32-bit inl per clocksource read, takes the middle, and ends after `reads`', () => {
    const { guest, values, reads } = pmTimerRead({ reads: 2 });
    const log = answer(guest, [100, 101, 102, 200, 201, 203]);
    const read = `in:${PM_TIMER_PORT.toString(16)}/4`;
    expect(log).toEqual([read, read, read, read, read, read, 'shutdown']);
    expect(values()).toEqual([101, 201]);
    expect(reads()).toBe(2);
    expect(guest.interruptible).toBe(false); // interrupts stay off
  });

  it('reads again while the three are out of order, as acpi_pm_read_verified', () => {
    const { guest, values, retries } = pmTimerRead({ reads: 1 });
    answer(guest, [10, 5, 20, 21, 22, 23]); // 10 lies between 5 and 20 but was read first: a torn read
    expect([values(), retries()]).toEqual([[22], 1]);
  });

  it('masks to 24 bits and accepts a triple across the wrap', () => {
    const { guest, values, retries, backwardSteps } = pmTimerRead({ reads: 2 });
    answer(guest, [0x01ff_fffe, 0xffff_ffff, 0x0000_0001, 5, 6, 7]);
    expect([values(), retries(), backwardSteps()]).toEqual([[0xff_ffff, 6], 0, 0]);
  });

  it('reads once per clocksource read as acpi_pm_read, on the port it is given, forever unless told', () => {
    const { guest, values, backwardSteps } = pmTimerRead({ verified: false, port: 0xb008 });
    const log = answer(guest, [1, 2, 3, 2]);
    expect(log.slice(0, 4)).toEqual(['in:b008/4', 'in:b008/4', 'in:b008/4', 'in:b008/4']);
    expect([values(), backwardSteps()]).toEqual([[1, 2, 3, 2], 1]);
  });

  it('judges monotonicity modulo 2^24', () => {
    expect(pmTimerDelta(0xff_fff0, 0x10)).toBe(0x20);
    expect(pmTimerMonotonic([0xff_fff0, 0xff_fff0, 0x10, 0x7f_0000])).toBe(true);
    expect(pmTimerMonotonic([1, 2, 0])).toBe(false);
    expect(() => pmTimerRead({ reads: -1 })).toThrow(RangeError);
    expect(workloadDefinition('pm-timer-read')?.parameters.map((p) => p.name)).toEqual(['clocksource', 'reads', 'io-delay']);
  });
});
