// When a count changes: only on a CLK edge, the count reaching the counting element on the CLK pulse after its write,
// and (mode 3) a count written during counting at the end of the current half-cycle. Through the ports, on a virtual clock.
import { tickTime } from '@splitvisor/abi';
import { createTestContext, regionIo } from '@splitvisor/device-testkit';
import { describe, expect, it } from 'vitest';
import type { I8254State, I8254StateV1 } from '../src/index.ts';
import { I8254, PIT_HZ } from '../src/index.ts';

/** The time of PIT clock edge `n`. */
const clk = (n: number) => tickTime(n, PIT_HZ);
/** Halfway between CLK edges `n` and `n + 1`. */
const mid = (n: number) => clk(n) + Math.floor((clk(n + 1) - clk(n)) / 2);
/** `ticks` PIT clocks, in (whole) nanoseconds. */
const ticks = (n: number) => Math.round((n * 1e9) / PIT_HZ);

function board() {
  const context = createTestContext();
  const pit = new I8254(context);
  const ports = regionIo(pit, 'counters');
  const nmisc = regionIo(pit, 'nmisc');
  const port61 = { in: () => nmisc.in(0), out: (value: number) => { nmisc.out(0, value); } };
  return { context, pit, ports, port61, out2: () => (port61.in() & 0x20) !== 0 };
}

type Board = ReturnType<typeof board>;

/**
 * Counter 2 in `mode`, LSB then MSB, given `count` (BCD digits when `bcd`) at the current instant, GATE high — for
 * modes 1 and 5, a rising GATE in the same instant, the trigger.
 */
function program(b: Board, mode: number, bcd: boolean, count: number): void {
  const triggered = mode === 1 || mode === 5;
  b.port61.out(triggered ? 0x00 : 0x01);
  b.ports.out(3, 0x80 | 0x30 | (mode << 1) | (bcd ? 1 : 0));
  b.ports.out(2, count & 0xff);
  b.ports.out(2, count >> 8);
  if (triggered) b.port61.out(0x01);
}

const word = (b: Board) => b.ports.in(2) | (b.ports.in(2) << 8);

const MODES = [0, 1, 2, 3, 4, 5] as const;

describe('elapsed clocks are whole CLK pulses after the load', () => {
  // Written halfway through CLK 1000: loaded on the next pulse, 1001; decremented on 1002, 1003, …
  const writtenAt = mid(1000);
  const cases = MODES.flatMap((mode) => [false, true].map((bcd) => ({ mode, bcd })));

  it.each(cases)('mode $mode, BCD $bcd: a read 5.97 clocks after the write shows 5 decrements, by latch, read-back and live read', ({ mode, bcd }) => {
    const b = board();
    b.context.advanceTo(writtenAt);
    program(b, mode, bcd, bcd ? 0x0100 : 100);
    b.context.advanceTo(writtenAt + ticks(5.97)); // 1006.47 clocks: the pulse at 1007 has not come
    // Mode 3 counts down by two.
    const value = mode === 3 ? 90 : 95;
    const expected = bcd ? Number.parseInt(String(value), 16) : value;
    b.ports.out(3, 0x80); // counter latch, counter 2
    expect(word(b)).toBe(expected);
    b.ports.out(3, 0xc8); // read-back: count and status of counter 2
    // OUT low in modes 0 and 1 until terminal count; high in 2, 3 (first half), 4 and 5. NULL COUNT clear: loaded.
    const out = mode === 0 || mode === 1 ? 0 : 0x80;
    expect(b.ports.in(2)).toBe(out | 0x30 | (mode << 1) | (bcd ? 1 : 0));
    expect(word(b)).toBe(expected);
    expect(word(b)).toBe(expected); // live
  });

  it.each(cases)('mode $mode, BCD $bcd: a read a nanosecond before a CLK edge shows the count before that edge', ({ mode, bcd }) => {
    const b = board();
    b.context.advanceTo(writtenAt);
    program(b, mode, bcd, bcd ? 0x0100 : 100);
    const decrements = (n: number) => {
      const value = mode === 3 ? 100 - 2 * n : 100 - n;
      return bcd ? Number.parseInt(String(value), 16) : value;
    };
    b.context.advanceTo(clk(1006) - 1);
    expect(word(b)).toBe(decrements(4));
    b.context.advanceTo(clk(1006));
    expect(word(b)).toBe(decrements(5));
    b.context.advanceTo(clk(1007) - 1);
    expect(word(b)).toBe(decrements(5));
  });

  it('NULL COUNT is set from the write until the CLK pulse that loads the count; a second count within that clock is the one loaded', () => {
    const b = board();
    b.context.advanceTo(writtenAt);
    b.port61.out(0x01);
    b.ports.out(3, 0xb4); // counter 2, LSB then MSB, mode 2
    b.ports.out(2, 0x34);
    b.ports.out(2, 0x12);
    b.context.advanceTo(clk(1001) - 1);
    b.ports.out(3, 0xe8); // read-back: status of counter 2
    expect(b.ports.in(2)).toBe(0x80 | 0x40 | 0x30 | 0x04); // OUT high, NULL COUNT, LSB then MSB, mode 2
    b.ports.out(2, 0x78);
    b.ports.out(2, 0x56);
    b.context.advanceTo(clk(1001));
    b.ports.out(3, 0xc8);
    expect(b.ports.in(2)).toBe(0x80 | 0x30 | 0x04);
    expect(word(b)).toBe(0x5678);
  });

  // Datasheet: OUT changes on the CLK pulses the mode names, counted from the load on the pulse after the write (or trigger).
  const edges: readonly (readonly [mode: number, edges: readonly (readonly [clock: number, out: boolean])[]])[] = [
    [0, [[1007, true]]], // high at terminal count, N + 1 pulses after the write
    [1, [[1001, false], [1007, true]]], // low on the pulse after the trigger, for N pulses
    [2, [[1006, false], [1007, true]]], // low for one pulse as the count reaches 1
    [3, [[1004, false], [1007, true], [1010, false]]], // three high, three low
    [4, [[1007, false], [1008, true]]], // a one-pulse strobe at terminal count
    [5, [[1007, false], [1008, true]]],
  ];

  it.each(edges)('mode %i: OUT changes on the CLK edge, not a nanosecond before', (mode, expected) => {
    const b = board();
    b.context.advanceTo(writtenAt);
    program(b, mode, false, 6);
    for (const [clock, out] of expected) {
      b.context.advanceTo(clk(clock) - 1);
      expect(b.out2(), `before CLK ${clock}`).toBe(!out);
      b.context.advanceTo(clk(clock));
      expect(b.out2(), `at CLK ${clock}`).toBe(out);
    }
  });

  it('GATE low stops mode 0 from the next CLK pulse, and high resumes it from the next pulse', () => {
    const b = board();
    b.context.advanceTo(writtenAt);
    b.port61.out(0x01);
    b.ports.out(3, 0xb0); // mode 0, count 10, loaded at 1001
    b.ports.out(2, 10);
    b.ports.out(2, 0);
    b.context.advanceTo(mid(1004));
    b.port61.out(0x00); // 3 decrements (1002–1004): 7 left
    b.context.advanceTo(mid(1100));
    b.port61.out(0x01); // counting again from the pulse at 1101
    b.context.advanceTo(clk(1107) - 1);
    expect(b.out2()).toBe(false);
    b.context.advanceTo(clk(1107));
    expect(b.out2()).toBe(true);
  });
});

describe('lost ticks across the load', () => {
  it('delay: ticks owed since a count was written are all counted, however late the device looks again', () => {
    // A host whose timers never fire: the device looks at OUT0 only when the guest writes to it.
    const context = createTestContext();
    const pulses: number[] = [];
    const idle = { arm: () => undefined, cancel: () => undefined, deadline: undefined };
    const setIrq = (_output: number, level: boolean) => { if (level) pulses.push(context.now()); };
    const pit = new I8254({ now: () => context.now(), timer: () => idle, setIrq, memory: context.memory, log: context.log }, { lostTickPolicy: 'delay' });
    const ports = regionIo(pit, 'counters');
    context.advanceTo(mid(0));
    ports.out(3, 0x34); // mode 2, count 100: loaded at CLK 1, periods ending at 101, 201, …
    ports.out(0, 100);
    ports.out(0, 0);
    context.advanceTo(clk(1001));
    ports.out(3, 0x00); // a latch command: the device looks at OUT0 again, ten periods later
    for (let i = 0; i < 12; i++) pit.irqAcknowledged(0);
    expect(pulses).toHaveLength(10);
  });
});

describe('mode 3: a count written during counting takes effect at the end of the current half-cycle', () => {
  /** Counter 0 in mode 3 with count 100, written within CLK 0: loaded at 1, OUT falls at 51 and rises at 101. */
  function squareWave() {
    const b = board();
    b.ports.out(3, 0x36);
    b.ports.out(0, 100);
    b.ports.out(0, 0);
    b.context.irqEdges.length = 0;
    return b;
  }
  const irq0 = (b: Pick<Board, 'context'>) => b.context.irqEdges.filter((e) => e.output === 0).map((e) => [e.time, e.level]);

  it('written in the high half: loaded at the next OUT edge, counting its low half first', () => {
    const b = squareWave();
    b.context.advanceTo(mid(20));
    b.ports.out(0, 40);
    b.ports.out(0, 0);
    b.context.advanceTo(clk(50));
    b.ports.out(3, 0xe2); // read-back status of counter 0: NULL COUNT until the load
    expect(b.ports.in(0) & 0x40).toBe(0x40);
    b.context.advanceTo(clk(51));
    b.ports.out(3, 0xc2);
    expect(b.ports.in(0) & 0xc0).toBe(0x00); // OUT low, NULL COUNT clear
    expect([b.ports.in(0), b.ports.in(0)]).toEqual([40, 0]); // the new count, just loaded
    b.context.advanceTo(clk(52));
    expect([b.ports.in(0), b.ports.in(0)]).toEqual([38, 0]);
    b.context.advanceTo(clk(151));
    // Before, the whole period ran out first: [51, false], [101, true], [121, false], [141, true].
    expect(irq0(b)).toEqual([[clk(51), false], [clk(71), true], [clk(91), false], [clk(111), true], [clk(131), false], [clk(151), true]]);
  });

  it('written in the low half: loaded at the end of the period, counting its high half first', () => {
    const b = squareWave();
    b.context.advanceTo(mid(60));
    b.ports.out(0, 40);
    b.ports.out(0, 0);
    b.context.advanceTo(clk(181));
    expect(irq0(b)).toEqual([[clk(51), false], [clk(101), true], [clk(121), false], [clk(141), true], [clk(161), false], [clk(181), true]]);
  });

  it('an odd count loaded at a falling edge: its low half is (N − 1)/2 clocks, its high half (N + 1)/2', () => {
    const b = squareWave();
    b.context.advanceTo(mid(20));
    b.ports.out(0, 41);
    b.ports.out(0, 0);
    b.context.advanceTo(clk(153));
    expect(irq0(b)).toEqual([[clk(51), false], [clk(71), true], [clk(92), false], [clk(112), true], [clk(133), false], [clk(153), true]]);
  });

  it('a GATE trigger before the half-cycle ends loads the new count on the next CLK pulse instead', () => {
    const b = board();
    b.port61.out(0x01);
    b.ports.out(3, 0xb6); // counter 2, mode 3, count 100: loaded at 1
    b.ports.out(2, 100);
    b.ports.out(2, 0);
    b.context.advanceTo(mid(20));
    b.ports.out(2, 40);
    b.ports.out(2, 0);
    b.context.advanceTo(mid(30));
    b.port61.out(0x00); // GATE low: OUT high, counting stops; the new count now waits for the trigger
    b.context.advanceTo(clk(60));
    b.ports.out(3, 0xe8);
    expect(b.ports.in(2) & 0xc0).toBe(0xc0); // OUT high, NULL COUNT: not loaded at 51
    b.context.advanceTo(mid(70));
    b.port61.out(0x01); // trigger: loaded at 71, high for 20, low for 20
    const levels = [clk(71) - 1, clk(71), clk(91) - 1, clk(91), clk(111) - 1, clk(111)].map((t) => {
      b.context.advanceTo(t);
      return b.out2();
    });
    expect(levels).toEqual([true, true, true, false, false, true]);
  });

  it('a state taken with a half-cycle reload pending, and one taken after it, continue identically in a fresh instance', () => {
    for (const at of [clk(30), clk(60)]) {
      const b = squareWave();
      b.context.advanceTo(mid(20));
      b.ports.out(0, 40);
      b.ports.out(0, 0);
      b.context.advanceTo(at);
      const state = JSON.parse(JSON.stringify(b.pit.getState())) as I8254State;
      expect(state.version).toBe(2);
      const context = createTestContext({ start: at });
      const copy = new I8254(context);
      copy.setState(state);
      context.irqEdges.length = 0;
      b.context.irqEdges.length = 0;
      b.context.advanceTo(clk(400));
      context.advanceTo(clk(400));
      expect(irq0({ context })).toEqual(irq0(b));
      expect(irq0(b).length).toBeGreaterThan(10);
    }
  });
});

describe('state version 1', () => {
  it('is migrated: a counter version 1 started at the clock of its write goes on at the instants version 1 gave', () => {
    const b = board();
    b.ports.out(3, 0x34); // counter 0, mode 2, count 1193
    b.ports.out(0, 1193 & 0xff);
    b.ports.out(0, 1193 >> 8);
    b.context.advanceTo(clk(500));
    const now = b.pit.getState();
    // Version 1 recorded this write as counting from CLK 0, and had no fields for the held OUT or mode 3's half-cycle.
    const v1: I8254StateV1 = {
      ...now,
      version: 1,
      counters: [{ ...stripV2(now.counters[0]), loadClock: 0 }, stripV2(now.counters[1]), stripV2(now.counters[2])],
    };
    const context = createTestContext({ start: clk(500) });
    const restored = new I8254(context);
    restored.setState(v1);
    expect(restored.getState()).toEqual({ ...now, counters: [{ ...now.counters[0], loadClock: 0 }, now.counters[1], now.counters[2]] });
    context.advanceTo(clk(3 * 1193));
    expect(context.irqEdges.filter((e) => e.level).map((e) => e.time).slice(-3)).toEqual([clk(1193), clk(2 * 1193), clk(3 * 1193)]);
  });
});

describe('a state of another model', () => {
  it('is refused with one line, even at version 1, the device left as it was', () => {
    const pit = new I8254(createTestContext());
    const before = pit.getState();
    const pic = { model: 'i8259', version: 1 } as unknown as I8254StateV1;
    expect(() => { pit.setState(pic); }).toThrow(/state of i8259 given to i8254/);
    expect(pit.getState()).toEqual(before);
  });
});

function stripV2(c: I8254State['counters'][number]): I8254StateV1['counters'][number] {
  const { lowHalfFirst: _low, pendingLowHalfFirst: _pendingLow, heldOut: _out, ...v1 } = c;
  return v1;
}
