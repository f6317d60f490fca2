// One guest, three placements of its timer: Linux's periodic tick on the 8254 at HZ=1000 with 8259 EOIs,
// the irqchip in the kernel (KVM's default), and the PIT in the kernel, the monitor or the device host.
// Under guest-cycle time the guest must see exactly the same; only where the exits land may differ.
import { NEVER, withIrqOutputs } from '@splitvisor/abi';
import type { Access, Exit } from '@splitvisor/abi';
import { GuestClock } from '@splitvisor/clock';
import { PcInterrupts } from '@splitvisor/irqchip';
import { KernelDomain } from '@splitvisor/kernel';
import { TransitionCounts } from '@splitvisor/metrics';
import type { GuestProgram } from '@splitvisor/scripted-guest';
import { ScriptedGuest } from '@splitvisor/scripted-guest';
import { describe, expect, it } from 'vitest';
import type { LocalDomain } from '../src/index.ts';
import { MonitorDomain, RunLoop } from '../src/index.ts';
import type { Where } from './pc-machine.ts';
import { machineWith, scriptedTick } from './pc-machine.ts';

/** The tick with some work: 50 000 cycles before each `hlt`, 2 000 in the handler. */
const linuxTick = () => scriptedTick({ idleCycles: 50_000, handlerCycles: 2_000 });

/** Linux's tick on that machine, every transition counted. */
function machine(pitIn: Where) {
  const clock = new GuestClock(2_000_000_000);
  const { guest, jiffies } = linuxTick();
  const counts = new TransitionCounts();
  return { loop: machineWith(guest, clock, pitIn, counts), counts, jiffies, guest, clock };
}

describe('run loop', () => {
  it('ticks at HZ=1000: 50 interrupts in 50 ms, each EOIed through the 8259', () => {
    const { loop, jiffies, counts } = machine('kernel');
    const summary = loop.runUntil(50_000_000);
    expect(jiffies()).toBe(50);
    expect(summary.interrupts).toBe(50);
    expect(counts.exitsByDevice().get('pic')).toEqual({ monitor: 55, kernel: 55 }); // 5 init writes + 50 EOIs, all in the kernel
  });

  it('shows the guest the same whichever domain holds the PIT; only where its exits land differs', () => {
    const runs = (['kernel', 'monitor', 'user'] as const).map((where) => {
      const { loop, jiffies, counts, guest, clock } = machine(where);
      const summary = loop.runUntil(50_000_000);
      return { where, jiffies: jiffies(), taken: guest.taken.get(0x20), tsc: clock.tsc(), summary, pit: counts.exitsByDevice().get('pit') };
    });
    const [kernel, monitor, user] = runs;
    expect(monitor?.jiffies).toBe(kernel?.jiffies);
    expect(user?.jiffies).toBe(kernel?.jiffies);
    expect(new Set(runs.map((r) => r.tsc)).size).toBe(1); // guest time is the cycles it ran: identical
    expect(kernel?.pit).toEqual({ monitor: 3, kernel: 3 });
    expect(monitor?.pit).toEqual({ monitor: 3 });
    expect(user?.pit).toEqual({ monitor: 3, kernel: 3, user: 3 + 100 }); // its 3 accesses, and its timer's kicks: the PIT's
  });

  it('takes a timer exit when a tick comes due while the guest runs, and none when it finds the guest halted', () => {
    const timerExits = (counts: TransitionCounts, to: 'monitor' | 'kernel') =>
      counts.rows().filter((r) => r.reason === 'timer' && r.to === to).reduce((n, r) => n + r.count, 0);
    const idle = machine('kernel');
    idle.loop.runUntil(20_000_000);
    expect(timerExits(idle.counts, 'monitor')).toBe(0); // every tick finds the CPU in hlt: it is already out
    for (const where of ['kernel', 'monitor', 'user'] as const) {
      const clock = new GuestClock(2_000_000_000);
      const busy = new ScriptedGuest((function* main(): GuestProgram {
        for (const [port, value] of [[0x20, 0x11], [0x21, 0x20], [0x21, 0x04], [0x21, 0x01], [0x21, 0xfe]] as const) yield { op: 'out', port, value };
        for (const [port, value] of [[0x43, 0x34], [0x40, 1193 & 0xff], [0x40, 1193 >> 8]] as const) yield { op: 'out', port, value };
        yield { op: 'sti' };
        for (;;) yield { op: 'compute', cycles: 1_000_000 }; // never idle
      })()).on(0x20, function* timerInterrupt(): GuestProgram {
        yield { op: 'out', port: 0x20, value: 0x20 };
      });
      const counts = new TransitionCounts();
      machineWith(busy, clock, where, counts).runUntil(20_000_000);
      const ticks = busy.taken.get(0x20) ?? 0;
      expect(ticks, where).toBe(20);
      // Out of the guest at every PIT timer event (OUT falls and rises in mode 2: two a tick), as far as the PIT's domain.
      expect(timerExits(counts, 'monitor'), where).toBe(2 * ticks);
      expect(timerExits(counts, 'kernel'), where).toBe(where === 'monitor' ? 0 : 2 * ticks);
    }
  });

  it('shows the guest the same whether or not transitions are recorded', () => {
    const recorded = machine('user');
    const summary = recorded.loop.runUntil(20_000_000);
    const { guest, jiffies } = linuxTick();
    const clock = new GuestClock(2_000_000_000);
    const plain = machineWith(guest, clock, 'user');
    expect(plain.runUntil(20_000_000)).toEqual(summary);
    expect([jiffies(), clock.tsc()]).toEqual([recorded.jiffies(), recorded.clock.tsc()]);
  });

  it('asks a domain through its one entry point, gives the device host records and data of its own, and issues fresh buffers', () => {
    const clock = new GuestClock(1_000_000_000);
    const kept: Exit[] = [];
    const read: number[] = [];
    const guest = new ScriptedGuest((function* main(): GuestProgram {
      for (let i = 0; i < 3; i++) {
        read.push(yield { op: 'in', port: 0x80 }); // the monitor's
        yield { op: 'out', port: 0x3f8, value: 0x41 + i }; // nobody's: to userspace
        read.push(yield { op: 'in', port: 0x3f8 });
      }
    })());
    const monitor: LocalDomain = {
      place: 'monitor',
      access: (access: Access, into: Uint8Array) => {
        if (access.space !== 'port' || access.address !== 0x80) return undefined;
        into[0] = 0x5a;
        return 'post';
      },
      runDue: () => undefined,
      nextDeadline: () => NEVER,
      holdsNothing: false,
      watch: () => undefined,
    };
    const loop = new RunLoop({
      cpu: guest, clock, domains: [monitor, new KernelDomain(() => clock.now())],
      user: { exit: (exit) => { kept.push(exit); return { completion: Uint8Array.of(0x60 + kept.length), deadline: NEVER, requestInterruptWindow: false }; } },
      interrupts: { pending: () => false, acknowledge: () => 0 },
      deviceAt: () => null,
      userDeadline: NEVER,
    });
    expect(loop.runUntil(1_000).shutdown).toBe(true);
    expect(read).toEqual([0x5a, 0x62, 0x5a, 0x64, 0x5a, 0x66]);
    expect(kept.filter((e) => e.kind === 'io' && e.direction === 'out').map((e) => e.kind === 'io' && e.data[0])).toEqual([0x41, 0x42, 0x43]);
    expect(new Set(kept).size).toBe(kept.length);
    const a = loop.issue({ kind: 'io', direction: 'in', port: 0x80, size: 1, count: 1, data: new Uint8Array(0) });
    const b = loop.issue({ kind: 'io', direction: 'in', port: 0x3f8, size: 1, count: 1, data: new Uint8Array(0) });
    expect([a[0], b[0]]).toEqual([0x5a, 0x67]);
  });

  it('hands every domain asked the same decoded access, passes by a domain that holds nothing, and asks it once something is placed there', () => {
    const clock = new GuestClock(2_000_000_000);
    const read: number[] = [];
    const guest = new ScriptedGuest((function* main(): GuestProgram {
      yield { op: 'out', port: 0x21, value: 0xfb };
      read.push(yield { op: 'in', port: 0x21 });
      yield { op: 'compute', cycles: 1_000 };
      yield { op: 'out', port: 0x21, value: 0xfa };
      read.push(yield { op: 'in', port: 0x21 });
    })());
    const seen: Access[] = [];
    const monitor = new MonitorDomain(() => clock.now());
    const asked: LocalDomain = {
      place: 'monitor',
      access: (access, into) => { seen.push(access); return monitor.access(access, into); },
      runDue: (now) => { monitor.runDue(now); },
      nextDeadline: () => monitor.nextDeadline(),
      get holdsNothing() { return monitor.holdsNothing; },
      watch: (watcher) => { monitor.watch(watcher); },
    };
    const kernel = new KernelDomain(() => clock.now());
    const chips = new PcInterrupts(withIrqOutputs(kernel.context('irqchip', () => 0), () => undefined));
    kernel.bus.map('pic', chips.pic, 'master', 0x20);
    const loop = new RunLoop({
      cpu: guest, clock, domains: [asked, kernel],
      user: { exit: () => { throw new Error('nothing here goes to userspace'); } },
      interrupts: { pending: () => false, acknowledge: () => 0 },
      deviceAt: () => 'pic',
      userDeadline: NEVER,
    });
    loop.runUntil(100); // the first out and in, then computing: the monitor holds nothing and is not asked
    expect(read).toEqual([0xfb]);
    expect(seen).toEqual([]);
    monitor.bus.map('pic-slave', chips.pic, 'slave', 0xa0); // something placed in the monitor: it is asked from now on
    expect(loop.runUntil(1_000)).toMatchObject({ exits: 4, shutdown: true });
    expect(read).toEqual([0xfb, 0xfa]);
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBe(seen[1]); // one record, decoded in place for each exit
  });
});
