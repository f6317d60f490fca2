// Lost-tick policies chosen in the placement act on a VM: a guest that counts ticks and masks interrupts for
// 20 ms every 100 ms loses the ticks that came due meanwhile under `discard` (each timer's hardware answer),
// gets every one of them late under `delay` (re-injected one per acknowledgement), and one late tick for each
// critical section under `merge`; the RTC's `slew` catches up as QEMU's driftfix=slew does. The 8254's `delay`
// is KVM's, whose mask notifier starts re-injection afresh when irq 0 is unmasked: a guest whose handler masks
// and unmasks its irq at the 8259 (Linux's handle_level_irq on the legacy PIC, as this one does) keeps one
// owed tick per stall, as under `merge`.
import type { Placement, TimerDevice } from '@splitvisor/placement';
import type { TickTimer } from '@splitvisor/workloads';
import { tickCount } from '@splitvisor/workloads';
import { describe, expect, it } from 'vitest';
import { Vm } from '../src/index.ts';
import { placement } from './profiles.ts';

const HZ = 1024;
const RUN_NS = 500_000_000;
/** Critical sections at 100, 200, 300, 400 ms, each 20 ms with interrupts masked: about 20 ticks come due in each. */
const MASK_MS = 20;

function counted(where: Placement, timer: TickTimer, policy: string, maskMs = MASK_MS, descheduled?: { everyNs: number; forNs: number }): number {
  const run = tickCount({ timer, hz: HZ, maskMs, maskEveryMs: 100 });
  const lostTicks: Record<TimerDevice, string> = { ...where.lostTicks, [timer]: policy };
  const vm = new Vm({ ...where, lostTicks: lostTicks as Placement['lostTicks'] }, run.guest, descheduled === undefined ? {} : { descheduled });
  const summary = vm.run(RUN_NS);
  expect(run.masked(), `${timer} ${policy}`).toBe(maskMs > 0 ? 4 : 0);
  // Windows at 100 … 400 ms, and one at 500 ms a halted vCPU's next wake-up may fall in.
  if (descheduled !== undefined) expect(summary.descheduled).toBeGreaterThanOrEqual(Math.floor(RUN_NS / descheduled.everyNs) - 1);
  return run.ticks();
}

describe('lost-tick policies from the placement', () => {
  // The PIT and HPET pace by the irqchip's ack notifier: placed with the irqchip (KVM's in-kernel PIT; here the
  // HPET too, in all-kernel). The local APIC's timer paces by its own EOI wherever it is.
  const cases: [TickTimer, string][] = [['pit', 'kvm-irqchip'], ['hpet', 'all-kernel'], ['lapic', 'kvm-split'], ['lapic', 'plex86']];
  /** What `delay` keeps: every tick, but the 8254's re-injection is reset by the unmask at the end of the guest's handler. */
  const delayKeeps = (timer: TickTimer, due: number, merged: number) => (timer === 'pit' ? merged : due);
  it.each(cases)('%s in %s: discard loses the masked ticks, delay delivers them late, merge one per critical section', (timer, profile) => {
    const where = placement(profile);
    const due = counted(where, timer, 'discard', 0);
    expect(due).toBeGreaterThan(500); // ~512 ticks come due in 0.5 s
    const discarded = counted(where, timer, 'discard');
    const delayed = counted(where, timer, 'delay');
    const merged = counted(where, timer, 'merge');
    const lostPerSection = (due - discarded) / 4;
    expect(lostPerSection).toBeGreaterThanOrEqual(18); // 20 ms at 1024 Hz: ~20 ticks, one of them kept pending
    expect(merged).toBe(discarded + 4);
    expect(delayed).toBe(delayKeeps(timer, due, merged));
  });

  it('a descheduled vCPU (20 ms of every 100, its time running on) loses the ticks due meanwhile unless the policy keeps them', () => {
    const window = { everyNs: 100_000_000, forNs: 20_000_000 };
    for (const [timer, profile] of cases) {
      const where = placement(profile);
      const due = counted(where, timer, 'discard', 0);
      const discarded = counted(where, timer, 'discard', 0, window);
      expect(discarded, `${timer} ${profile}`).toBeLessThan(due - 60);
      const merged = counted(where, timer, 'merge', 0, window);
      expect(merged, `${timer} ${profile}`).toBe(discarded + 4); // one late tick a window
      expect(counted(where, timer, 'delay', 0, window), `${timer} ${profile}`).toBe(delayKeeps(timer, due, merged));
    }
  });

  it('the RTC slews: owed periodic interrupts come back after the guest acknowledges, none lost', () => {
    const where = placement('kvm-irqchip');
    const due = counted(where, 'rtc', 'discard', 0);
    const discarded = counted(where, 'rtc', 'discard');
    const slewed = counted(where, 'rtc', 'slew');
    expect(discarded).toBeLessThan(due - 60);
    expect(slewed).toBeGreaterThanOrEqual(due - 2);
  });
});
