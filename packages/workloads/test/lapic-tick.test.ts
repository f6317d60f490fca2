import type { ScriptedGuest } from '@splitvisor/scripted-guest';
import { describe, expect, it } from 'vitest';
import { APIC_DIVISOR, GUEST_TSC_HZ, LAPIC_BUS_HZ, LOCAL_TIMER_VECTOR, workloadDefinition, lapicTick } from '../src/index.ts';

const TMICT = 0xfee0_0380;
/** Power-on values of the registers Linux reads: SVR FFh (software-disabled), TDCR 0. */
const POWER_ON: Readonly<Record<number, number>> = { [0xfee0_00f0]: 0xff, [0xfee0_03e0]: 0 };

function le32(value: number): Uint8Array {
  return Uint8Array.of(value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24);
}

/** Each guest's TSC as these tests drive it: the cycles it ran, and the time a `hlt` skipped. */
const tscOf = new WeakMap<ScriptedGuest, number>();

/** Runs the guest to its next exit, answering reads with power-on values; the exit as `r:addr`, `w:addr=value`, or its kind. */
function step(guest: ScriptedGuest): { text: string; cycles: number; value: number } {
  const { exit, cycles } = guest.run(Number.POSITIVE_INFINITY, false, tscOf.get(guest) ?? 0);
  tscOf.set(guest, (tscOf.get(guest) ?? 0) + cycles);
  if (exit.kind !== 'mmio') return { text: exit.kind, cycles, value: 0 };
  const address = exit.address.toString(16);
  if (!exit.isWrite) {
    guest.complete(le32(POWER_ON[exit.address] ?? 0));
    return { text: `r:${address}`, cycles, value: 0 };
  }
  const value = new DataView(exit.data.buffer).getUint32(0, true);
  return { text: `w:${address}=${value.toString(16)}`, cycles, value };
}

/**
 * Drives the guest as the VM would, on the model's clocks (TSC 2 GHz, bus 1
 * GHz): a one-shot counts from the bus tick of its TMICT write; `hlt` jumps
 * to its expiry, where the timer interrupt is injected. Returns the expiries
 * in nanoseconds and the counts written.
 */
function drive(guest: ScriptedGuest, ticks: number): { expiries: number[]; counts: number[] } {
  const expiries: number[] = [];
  const counts: number[] = [];
  let expiry: number | undefined;
  while (expiries.length < ticks) {
    const { text, value } = step(guest);
    const tsc = tscOf.get(guest) ?? 0;
    if (text.startsWith(`w:${TMICT.toString(16)}=`)) {
      counts.push(value);
      expiry = Math.floor(tsc * LAPIC_BUS_HZ / GUEST_TSC_HZ) + value * APIC_DIVISOR; // in bus ticks = ns at 1 GHz
    } else if (text === 'hlt') {
      if (expiry === undefined) throw new Error('halted with no timer armed: a lost tick');
      tscOf.set(guest, Math.max(tsc, expiry * 2));
      expiries.push(expiry);
      expiry = undefined;
      guest.inject(LOCAL_TIMER_VECTOR);
    }
  }
  return { expiries, counts };
}

describe('lapic-tick', () => {
  it('enables the APIC and sets up the one-shot timer as Linux does, then arms the next tick before each hlt', () => {
    const { guest } = lapicTick();
    const exits = Array.from({ length: 8 }, () => step(guest).text);
    expect(exits).toEqual([
      'r:fee000f0', 'w:fee000f0=1ff', // SVR: software enable, spurious vector FFh
      'w:fee00350=10700', 'w:fee00360=400', // LVT0 ExtINT masked (virtual wire off), LVT1 NMI
      'w:fee00320=ec', // LVTT: LOCAL_TIMER_VECTOR, one-shot
      'r:fee003e0', 'w:fee003e0=3', // TDCR: divide by 16
      // after 50,000 cycles of work, at TSC 50,011 (bus tick 25,005): the count that reaches 1 ms
      `w:fee00380=${Math.ceil((1_000_000 - 25_005) / 16).toString(16)}`,
    ]);
    expect(step(guest).text).toBe('hlt');
    expect(guest.interruptible).toBe(true);
  });

  it('EOIs first, counts a jiffy, and does not re-arm in the handler', () => {
    const { guest, jiffies } = lapicTick();
    while (step(guest).text !== 'hlt');
    tscOf.set(guest, 2_000_000); // woken at 1 ms, when the one-shot fired
    guest.inject(LOCAL_TIMER_VECTOR);
    expect(step(guest).text).toBe('w:fee000b0=0');
    expect([jiffies(), guest.interruptible]).toEqual([0, false]); // the jiffy is counted once the EOI is done
    expect(step(guest).text).toBe(`w:${TMICT.toString(16)}=${(60_875).toString(16)}`); // back in the idle loop: aimed at 2 ms
    expect(jiffies()).toBe(1);
  });

  it('aims every event at the jiffy grid, so no tick drifts, is lost or is added', () => {
    for (const hz of [100, 250, 1000]) {
      const { guest, jiffies } = lapicTick({ hz, workCycles: 123_457, handlerCycles: 4_321 });
      const { expiries } = drive(guest, 1000);
      const period = 1e9 / hz;
      const late = expiries.map((at, i) => at - (i + 1) * period); // ns after the i+1st boundary
      expect(Math.min(...late)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...late)).toBeLessThan(APIC_DIVISOR); // within one count of the divided bus clock
      expect(jiffies()).toBe(999); // the last tick's handler has not run yet
    }
  });

  it('catches up a boundary that has already passed with the minimum delta', () => {
    const { guest } = lapicTick({ hz: 1000, workCycles: 2_100_000 }); // 1.05 ms of work before the first idle
    const { expiries, counts } = drive(guest, 3);
    expect(counts[0]).toBe(0xf);
    expect(expiries[1]).toBeGreaterThanOrEqual(2_000_000);
  });

  it('in TSC-deadline mode, sets LVTT alone and re-arms with RDTSC and a WRMSR aimed at the jiffy grid', () => {
    const { guest } = lapicTick({ timer: 'tsc-deadline' });
    const seen: string[] = [];
    for (let i = 0; i < 7; i++) {
      const { exit, cycles } = guest.run(Number.POSITIVE_INFINITY, false, tscOf.get(guest) ?? 0);
      tscOf.set(guest, (tscOf.get(guest) ?? 0) + cycles);
      if (exit.kind === 'mmio') {
        seen.push(`${exit.isWrite ? 'w' : 'r'}:${exit.address.toString(16)}`);
        if (!exit.isWrite) guest.complete(le32(POWER_ON[exit.address] ?? 0));
      } else if (exit.kind === 'msr') {
        seen.push(`wrmsr ${exit.index.toString(16)}=${new DataView(exit.data.buffer).getBigUint64(0, true).toString()}`);
      } else seen.push(exit.kind);
    }
    // SVR, LVT0, LVT1, then LVTT in TSC-deadline mode on ECh; no TDCR, no TMICT.
    expect(seen.slice(0, 5)).toEqual(['r:fee000f0', 'w:fee000f0', 'w:fee00350', 'w:fee00360', 'w:fee00320']);
    // The first tick's boundary, 1 ms = 2,000,000 TSC cycles, in whole units of 8 cycles from the TSC read.
    const wrmsr = /^wrmsr 6e0=(\d+)$/.exec(seen[5] ?? '');
    expect(Number(wrmsr?.[1])).toBeGreaterThanOrEqual(2_000_000);
    expect(Number(wrmsr?.[1])).toBeLessThan(2_000_008);
    expect(seen[6]).toBe('hlt');
  });

  it('refuses an HZ the timer cannot produce, and lists itself', () => {
    expect(() => lapicTick({ hz: 10_000_000 })).toThrow(/outside 15–2147483647/);
    expect(() => lapicTick({ hz: 0 })).toThrow(RangeError);
    expect(workloadDefinition('linux-idle-lapic')?.parameters.map((p) => p.name)).toEqual(['hz', 'timer']);
  });
});
