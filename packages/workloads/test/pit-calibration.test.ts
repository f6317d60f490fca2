import { describe, expect, it } from 'vitest';
import { CAL2_LATCH, CAL_LATCH, PIT_CALIBRATION, pitCalibration } from '../src/pit-calibration.ts';
import { resolveParameters } from '../src/workload.ts';
import type { FakeDevice } from './scripted-io.ts';
import { drive } from './scripted-io.ts';

/** Port 61h whose OUT2 (bit 5) rises after `turns` reads following each counter-2 start; a PM timer that counts. */
function board(turns: number): FakeDevice & { starts: number } {
  let left = 0;
  let pm = 1000;
  const device = {
    starts: 0,
    pending: () => undefined,
    in(port: number): number {
      if (port === 0x608) return (pm += 7);
      if (port !== 0x61) return 0xff;
      if (left === 0) return 0x20;
      left--;
      return 0;
    },
    out(port: number): void {
      if (port === 0x42) { device.starts++; left = turns; }
    },
  };
  return device;
}

describe('pit-calibration', () => {
  it('gates counter 2 through port 61h (speaker off, OUT2 read back as it was), starts it in mode 0 with CAL_LATCH, and polls OUT2 with RDTSC each turn', () => {
    const fake = board(1500);
    const run = pitCalibration({ calibrations: 1, reference: 'none' });
    const { log } = drive(run.guest, fake, 10_000, 2_000);
    expect(log.slice(0, 6)).toEqual(['in 61', 'out 61 21', 'out 43 b0', `out 42 ${(CAL_LATCH & 0xff).toString(16)}`, `out 42 ${(CAL_LATCH >> 8).toString(16)}`, 'in 61']);
    expect(CAL_LATCH).toBe(11_931);
    const last = run.last();
    expect(last?.loops).toBe(1500);
    expect(last?.tries).toBe(3); // no reference: all three tries, the lowest PIT value kept
    // Each turn is one exit (2,000 cycles here) and its op: 1500 turns over 10 ms.
    expect(last?.tscKhz).toBe(last?.pitKhz);
    expect(Math.abs((last?.pitKhz ?? 0) - Math.floor((1500 * 2_002) / 10))).toBeLessThan(500);
    expect(run.pitFailures()).toBe(0);
  });

  it('moves to CAL2_LATCH after two tries with too few turns, and takes the PM timer when the PIT fails throughout', () => {
    const fake = board(500);
    const run = pitCalibration({ calibrations: 1 });
    const { log } = drive(run.guest, fake, 10_000, 2_000);
    const starts = log.filter((e) => e.startsWith('out 42 '));
    expect(starts.slice(4)).toEqual([`out 42 ${(CAL2_LATCH & 0xff).toString(16)}`, `out 42 ${(CAL2_LATCH >> 8).toString(16)}`]);
    expect(log.filter((e) => e === 'in 608').length).toBeGreaterThanOrEqual(3 * 2 * 3);
    expect(run.pitFailures()).toBe(3);
    const last = run.last();
    expect([last?.pitKhz, last?.tscKhz === last?.refKhz, (last?.refKhz ?? 0) > 0]).toEqual([0, true, true]);
    expect(PIT_CALIBRATION.create(resolveParameters(PIT_CALIBRATION, {})).progress()).toMatchObject({ calibrations: 0, tscKhz: 0 });
  });
});
