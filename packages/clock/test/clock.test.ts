import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NEVER } from '@splitvisor/abi';
import { GuestClock, TimerQueue } from '../src/index.ts';

describe('timer queue', () => {
  it('fires in deadline order, ties in arming order, each told its deadline', () => {
    const queue = new TimerQueue();
    const fired: string[] = [];
    const make = (name: string) => queue.timer((now) => fired.push(`${name}@${now}`));
    const [a, b, c, d] = [make('a'), make('b'), make('c'), make('d')];
    c.arm(30);
    a.arm(10);
    b.arm(10);
    d.arm(5);
    d.arm(40); // re-armed: moves
    expect(queue.nextDeadline()).toBe(10);
    expect(queue.runDue(30)).toBe(3);
    expect(fired).toEqual(['a@10', 'b@10', 'c@30']);
    expect(queue.nextDeadline()).toBe(40);
    d.cancel();
    expect([queue.nextDeadline(), queue.size, d.deadline]).toEqual([NEVER, 0, undefined]);
  });

  it('fires timers a callback arms for a time already reached, in the same run', () => {
    const queue = new TimerQueue();
    const fired: number[] = [];
    const periodic = queue.timer((now) => {
      fired.push(now);
      if (now < 50) periodic.arm(now + 10);
    });
    periodic.arm(10);
    queue.runDue(45);
    expect(fired).toEqual([10, 20, 30, 40]);
    expect(queue.nextDeadline()).toBe(50);
  });

  it('agrees with a sorted list under any sequence of arms and cancels', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 49 }), fc.option(fc.integer({ min: 0, max: 1000 }))), { maxLength: 400 }), (ops) => {
      const queue = new TimerQueue();
      const model = new Map<number, { deadline: number; order: number }>();
      let order = 0;
      const fired: number[] = [];
      const timers = Array.from({ length: 50 }, (_, i) => queue.timer(() => fired.push(i)));
      for (const [i, deadline] of ops) {
        if (deadline === null) {
          timers[i]?.cancel();
          model.delete(i);
        } else {
          timers[i]?.arm(deadline);
          model.set(i, { deadline, order: ++order });
        }
      }
      const expected = [...model].sort(([, x], [, y]) => x.deadline - y.deadline || x.order - y.order).map(([i]) => i);
      expect(queue.size).toBe(model.size);
      queue.runDue(1000);
      expect(fired).toEqual(expected);
    }), { numRuns: 500 });
  });

  it('holds ten thousand timers', () => {
    const queue = new TimerQueue();
    const fired: number[] = [];
    const timers = Array.from({ length: 10_000 }, (_, i) => queue.timer(() => fired.push(i)));
    timers.forEach((t, i) => { t.arm((i * 7919) % 10_000); });
    queue.runDue(10_000);
    expect(fired).toHaveLength(10_000);
    expect(fired.map((i) => (i * 7919) % 10_000)).toEqual([...Array(10_000).keys()]);
  });
});

describe('guest clock', () => {
  it('advances time by the cycles the guest ran, at its TSC rate', () => {
    const clock = new GuestClock(2_000_000_000);
    expect(clock.ran(3)).toBe(1); // 1.5 ns, rounded down; the cycle count stays exact
    expect(clock.tsc()).toBe(3);
    expect(clock.ran(1)).toBe(2);
    clock.advanceTo(1_000_000);
    expect([clock.tsc(), clock.now()]).toEqual([2_000_000, 1_000_000]);
    clock.advanceTo(5); // never backwards
    expect(clock.now()).toBe(1_000_000);
  });

  it('runs the guest exactly up to a deadline', () => {
    fc.assert(fc.property(fc.constantFrom(1_193_182, 1_000_000_000, 2_400_000_000, 2_900_000_007), fc.nat({ max: 1e9 }), fc.nat({ max: 1e9 }), (hz, start, gap) => {
      const clock = new GuestClock(hz);
      clock.ran(start);
      const deadline = clock.now() + gap;
      const cycles = clock.cyclesUntil(deadline);
      const short = new GuestClock(hz);
      short.ran(start);
      // The guest reaches the deadline with these cycles, not with one fewer (exactly on it when cycles are finer than 1 ns).
      const reached = clock.ran(cycles);
      expect(reached).toBeGreaterThanOrEqual(deadline);
      if (hz >= 1e9) expect(reached).toBe(deadline);
      if (cycles > 0) expect(short.ran(cycles - 1)).toBeLessThan(deadline);
    }), { numRuns: 3000 });
    expect(new GuestClock(1e9).cyclesUntil(NEVER)).toBe(Number.POSITIVE_INFINITY);
  });
});
