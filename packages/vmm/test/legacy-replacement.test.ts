// The legacy replacement route on the board: irqs 0 and 8 from the PIT and the RTC, or — while the HPET's
// LEG_RT_CNF is set — from HPET timers 0 and 1, wherever the irqchip and the three devices are placed.
import { IdleCpu } from '@splitvisor/scripted-guest';
import { RTC_VECTOR, clocksourceRead, linuxIdleHpet, rtcPeriodic } from '@splitvisor/workloads';
import { describe, expect, it } from 'vitest';
import { Vm } from '../src/index.ts';
import { legacyReplacement, LegacyLine } from '../src/legacy-replacement.ts';
import { placement } from './profiles.ts';

describe('the legacy replacement select', () => {
  it('passes the PIT and RTC lines until LEG_RT_CNF, then the HPET timers, raising and lowering only on a change', () => {
    const seen: string[] = [];
    const line = legacyReplacement((gsi, level) => seen.push(`${gsi}${level ? '+' : '-'}`));
    line(LegacyLine.pitOut0, true);
    line(LegacyLine.hpetTimer0, true); // not selected: nothing
    line(LegacyLine.rtcIrq, true);
    line(LegacyLine.hpetRoute, true); // the HPET's lines take over: irq 0 stays high (timer 0 is), irq 8 falls
    line(LegacyLine.pitOut0, false); // cut off
    line(LegacyLine.hpetTimer0, false);
    line(14, true); // any other GSI passes straight through
    expect(seen).toEqual(['2+', '8+', '8-', '2-', '14+']);
  });

  it('lets the HPET tick a legacy kernel while the PIT still runs the square wave firmware left it', async () => {
    for (const name of ['kvm-irqchip', 'qemu-tcg', 'kvm-split', 'plex86']) {
      const { guest, jiffies } = linuxIdleHpet({ hz: 1000 });
      const vm = new Vm(placement(name), guest);
      // SeaBIOS leaves counter 0 in mode 3 at 18.2 Hz; on this board the PIT's OUT0 would mask the HPET's edges.
      vm.io('out', 0x43, 1, 0x36);
      vm.io('out', 0x40, 1, 0);
      vm.io('out', 0x40, 1, 0);
      vm.run(100_000_000);
      expect(jiffies(), name).toBeGreaterThanOrEqual(99);
      await vm.close();
    }
  });

  it("cuts the RTC's periodic interrupt off while the HPET has the route", async () => {
    const run = rtcPeriodic({ hz: 1024 });
    const vm = new Vm(placement('kvm-irqchip'), run.guest);
    vm.run(10_000_000);
    const before = run.guest.taken.get(RTC_VECTOR) ?? 0;
    expect(before).toBeGreaterThan(5);
    vm.mmio(true, 0xfed0_0010, 4, 2n); // LEG_RT_CNF
    vm.run(20_000_000);
    expect(run.guest.taken.get(RTC_VECTOR) ?? 0).toBeLessThanOrEqual(before + 1);
    await vm.close();
  });

  it('serves a clocksource read loop on the HPET and on the PIT, the PIT with and without its port 80h delays', async () => {
    for (const [clocksource, ioDelay, perRead] of [['hpet', '0x80', 1], ['pit', '0x80', 6], ['pit', 'none', 3]] as const) {
      const run = clocksourceRead({ clocksource, ioDelay, reads: 100 });
      const vm = new Vm(placement('kvm-irqchip'), run.guest);
      const summary = vm.run(10_000_000);
      expect([summary.shutdown, run.reads(), run.backwardSteps()]).toEqual([true, 100, 0]);
      const setup = clocksource === 'hpet' ? 8 : ioDelay === 'none' ? 3 : 6;
      expect(summary.exits, `${clocksource} ${ioDelay}`).toBe(setup + 100 * perRead);
      await vm.close();
    }
  });
});

describe('an IdleCpu board', () => {
  it('raises irq 0 from the HPET under legacy replacement as QEMU does, with the PIT programmed', async () => {
    const vm = new Vm(placement('kvm-irqchip'), new IdleCpu());
    const irqs: string[] = [];
    vm.interceptIrqs((irq, level) => { if (irq === 0) irqs.push(level ? '+' : '-'); });
    vm.io('out', 0x43, 1, 0x34); // the PIT in mode 2, 1 ms
    vm.io('out', 0x40, 1, 0xa9);
    vm.io('out', 0x40, 1, 0x04);
    vm.mmio(true, 0xfed0_0010, 4, 3n); // HPET on, legacy route
    vm.mmio(true, 0xfed0_0100, 4, 0x104n); // timer 0: interrupt on, 32-bit, one-shot
    vm.mmio(true, 0xfed0_0108, 4, 1000n);
    vm.advanceTo(5_000_000); // five PIT periods, one HPET match
    expect(irqs).toEqual(['+', '-']);
    await vm.close();
  });
});
