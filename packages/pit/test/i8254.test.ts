// The 8254 driven through its ports the way drivers drive it, on a virtual clock.
import { tickTime, withIrqOutputs } from '@splitvisor/abi';
import { createTestContext, regionIo } from '@splitvisor/device-testkit';
import { describe, expect, it } from 'vitest';
import type { I8254Config } from '../src/index.ts';
import { I8254, PIT_HZ } from '../src/index.ts';

/** The time of PIT clock edge `n`. */
const clk = (n: number) => tickTime(n, PIT_HZ);

function board(config: I8254Config = {}, start = 0) {
  const context = createTestContext({ start });
  const pit = new I8254(context, config);
  const nmisc = regionIo(pit, 'nmisc');
  return { context, pit, ports: regionIo(pit, 'counters'), port61: { in: () => nmisc.in(0), out: (value: number) => { nmisc.out(0, value); } } };
}

/** Rising edges of irq 0, as times. */
const risingEdges = (context: ReturnType<typeof createTestContext>) =>
  context.irqEdges.filter((e) => e.output === 0 && e.level).map((e) => e.time);

describe('8254 power-on (as QEMU)', () => {
  it('runs counter 0 in mode 3 with count 2^16: irq 0 a square wave at 18.2 Hz', () => {
    const { context, ports } = board();
    expect(ports.in(0)).toBe(0); // count 0x10000 reads as 0
    expect(context.irqLevel(0)).toBe(true);
    context.advanceTo(clk(65_536 * 2) + 1);
    expect(context.irqEdges.map((e) => [e.time, e.level])).toEqual([
      [0, true], [clk(32_768), false], [clk(65_536), true], [clk(65_536 + 32_768), false], [clk(131_072), true],
    ]);
  });

  it('reads the control port as 0 and counts it', () => {
    const { pit, ports } = board();
    expect(ports.in(3)).toBe(0);
    expect(pit.anomalies()).toMatchObject({ controlPortReads: 1 });
  });
});

describe('Linux i8253 clockevent', () => {
  it('periodic at HZ=1000: mode 2, LATCH 1193, a tick every 1193 clocks', () => {
    const { context, ports } = board();
    context.advanceTo(1_000_000);
    // Written within CLK edge `written`; the count is loaded on the next CLK pulse (datasheet).
    const written = Math.floor((1_000_000 * PIT_HZ) / 1e9);
    const load = written + 1;
    ports.out(3, 0x34); // counter 0, LSB then MSB, mode 2
    ports.out(0, 1193 & 0xff);
    ports.out(0, 1193 >> 8);
    context.irqEdges.length = 0;
    context.advanceTo(clk(load + 5 * 1193));
    expect(risingEdges(context)).toEqual([1, 2, 3, 4, 5].map((k) => clk(load + k * 1193)));
    // OUT is low for exactly one clock before each reload.
    expect(context.irqEdges.filter((e) => !e.level).map((e) => e.time)).toEqual([1, 2, 3, 4, 5].map((k) => clk(load + k * 1193 - 1)));
  });

  it('oneshot: mode 0 raises irq 0 at terminal count and stays high', () => {
    const { context, ports } = board();
    ports.out(3, 0x30); // counter 0, LSB then MSB, mode 0
    expect(context.irqLevel(0)).toBe(false); // mode 0 OUT starts low
    ports.out(0, 100);
    ports.out(0, 0);
    // Datasheet, mode 0: "OUT does not go high until N + 1 CLK pulses after the initial count is written".
    context.advanceTo(clk(100));
    expect(context.irqLevel(0)).toBe(false);
    context.advanceTo(clk(101));
    expect(context.irqLevel(0)).toBe(true);
    context.advanceTo(clk(1_000_000));
    expect(risingEdges(context).filter((t) => t > 0)).toEqual([clk(101)]);
  });

  it('shutdown: mode 0 with count 0 holds irq 0 low for 65536 clocks', () => {
    const { context, ports } = board();
    ports.out(3, 0x30);
    ports.out(0, 0);
    ports.out(0, 0);
    context.advanceTo(clk(65_536));
    expect(context.irqLevel(0)).toBe(false);
    context.advanceTo(clk(65_537)); // loaded on the first CLK pulse, then 65536 decrements
    expect(context.irqLevel(0)).toBe(true);
  });
});

describe('Linux PIT calibration through counter 2 and port 61h', () => {
  it('pit_calibrate_tsc: OUT2 (port 61h bit 5) rises exactly at terminal count, N + 1 CLK pulses after the write', () => {
    const { context, ports, port61 } = board();
    const latch = Math.floor(PIT_HZ / (1000 / 50)); // CAL_LATCH for 50 ms
    port61.out((port61.in() & ~0x02) | 0x01); // gate high, speaker off
    ports.out(3, 0xb0); // counter 2, LSB then MSB, mode 0
    ports.out(2, latch & 0xff);
    ports.out(2, latch >> 8);
    context.advanceTo(clk(latch));
    expect(port61.in() & 0x20).toBe(0);
    context.advanceTo(clk(latch + 1));
    expect(port61.in() & 0x20).toBe(0x20);
  });

  it('quick_pit_calibrate: the MSB read back falls by one every 256 clocks', () => {
    const { context, ports, port61 } = board();
    port61.out(0x01);
    ports.out(3, 0xb0);
    ports.out(2, 0xff);
    ports.out(2, 0xff);
    const msbs: number[] = [];
    for (let i = 0; i < 6; i++) {
      context.advanceTo(clk(i * 256 + 10));
      ports.in(2); // LSB
      msbs.push(ports.in(2));
    }
    expect(msbs).toEqual([0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa]);
  });
});

describe('reading counts', () => {
  it('counter latch: the latched value holds until read, and a second latch is ignored', () => {
    const { context, ports } = board();
    ports.out(3, 0x34);
    ports.out(0, 0x00);
    ports.out(0, 0x10); // 0x1000, loaded at CLK 1
    context.advanceTo(clk(0x11));
    ports.out(3, 0x00); // latch counter 0
    context.advanceTo(clk(0x301));
    ports.out(3, 0x00); // ignored: the first latch is unread
    expect([ports.in(0), ports.in(0)]).toEqual([0xf0, 0x0f]);
    expect([ports.in(0), ports.in(0)]).toEqual([0x00, 0x0d]); // live again: 0x1000 - 0x300
  });

  it('read-back: status then count, with NULL COUNT until the count reaches the counting element', () => {
    const { context, ports } = board({}, clk(10));
    ports.out(3, 0x34);
    ports.out(3, 0xe2); // read-back status of counter 0 (COUNT# high: no count latch)
    expect(ports.in(0)).toBe(0x40 | 0x30 | 0x04 | 0x80); // OUT high (mode 2), NULL COUNT, RW 11, mode 2
    ports.out(0, 0x34);
    ports.out(0, 0x12);
    ports.out(3, 0xe2);
    expect(ports.in(0) & 0x40).toBe(0x40); // written this clock: not yet loaded
    context.advanceTo(clk(11));
    ports.out(3, 0xc2); // status and count
    expect(ports.in(0)).toBe(0x80 | 0x30 | 0x04);
    expect([ports.in(0), ports.in(0)]).toEqual([0x34, 0x12]); // loaded by this CLK pulse, not yet decremented
    context.advanceTo(clk(12));
    ports.out(3, 0xc2);
    expect(ports.in(0)).toBe(0x80 | 0x30 | 0x04);
    expect([ports.in(0), ports.in(0)]).toEqual([0x33, 0x12]); // 0x1234 - 1
  });

  it('read-back of several counters at once latches each', () => {
    const { context, ports } = board();
    for (const [counter, control] of [[0, 0x30], [1, 0x70], [2, 0xb0]] as const) {
      ports.out(3, control);
      ports.out(counter, 0);
      ports.out(counter, 0x20 * (counter + 1));
    }
    context.advanceTo(clk(0x101)); // 0x100 decrements after the load at CLK 1
    ports.out(3, 0xde); // count only, counters 0, 1, 2
    context.advanceTo(clk(0x900));
    // Counter 2's GATE (port 61h bit 0) is low: mode 0 holds its count.
    expect([0, 1, 2].map((c) => [ports.in(c), ports.in(c)])).toEqual([[0x00, 0x1f], [0x00, 0x3f], [0x00, 0x60]]);
  });

  it('LSB-only and MSB-only read/write modes', () => {
    const { context, ports } = board();
    ports.out(3, 0x10); // counter 0, LSB only, mode 0
    ports.out(0, 0x80);
    context.advanceTo(clk(0x11));
    expect([ports.in(0), ports.in(0)]).toEqual([0x70, 0x70]);
    ports.out(3, 0x20); // MSB only
    ports.out(0, 0x02); // count 0x0200, loaded at CLK 0x12
    context.advanceTo(clk(0x12 + 0x101));
    expect(ports.in(0)).toBe(0x00); // 0x200 - 0x101 = 0x0ff: MSB 0
  });

  it('counts in BCD', () => {
    const { pit, context, ports } = board();
    ports.out(3, 0x31); // counter 0, LSB then MSB, mode 0, BCD
    ports.out(0, 0x00);
    ports.out(0, 0x10); // 1000 decimal
    context.advanceTo(clk(1));
    expect([ports.in(0), ports.in(0)]).toEqual([0x00, 0x10]); // loaded: 1000
    context.advanceTo(clk(2));
    expect([ports.in(0), ports.in(0)]).toEqual([0x99, 0x09]); // 0999
    context.advanceTo(clk(1002));
    expect([ports.in(0), ports.in(0)]).toEqual([0x99, 0x99]); // wrapped to 9999
    ports.out(3, 0x31);
    ports.out(0, 0x0a);
    ports.out(0, 0x00);
    expect(pit.anomalies()).toMatchObject({ invalidBcdCounts: 1 });
  });
});

describe('modes and gates (counter 2, gated from port 61h)', () => {
  const out2 = (port61: { in(): number }) => (port61.in() & 0x20) !== 0;

  it('mode 1: waits for a GATE trigger, then OUT is low for the count', () => {
    const { context, ports, port61 } = board();
    ports.out(3, 0xb2); // counter 2, LSB then MSB, mode 1
    ports.out(2, 50);
    ports.out(2, 0);
    context.advanceTo(clk(100));
    expect(out2(port61)).toBe(true); // not triggered
    port61.out(0x01); // rising GATE
    expect(out2(port61)).toBe(true); // datasheet: "OUT will go low on the CLK pulse following a trigger"
    context.advanceTo(clk(101));
    expect(out2(port61)).toBe(false);
    context.advanceTo(clk(150));
    expect(out2(port61)).toBe(false);
    context.advanceTo(clk(151));
    expect(out2(port61)).toBe(true);
    port61.out(0x00);
    port61.out(0x01); // retrigger
    expect(out2(port61)).toBe(true);
    context.advanceTo(clk(152));
    expect(out2(port61)).toBe(false);
  });

  it('mode 3: a square wave, forced high while GATE is low', () => {
    const { context, ports, port61 } = board();
    port61.out(0x01);
    ports.out(3, 0xb6); // counter 2, LSB then MSB, mode 3
    ports.out(2, 10);
    ports.out(2, 0);
    const levels: boolean[] = [];
    for (let i = 0; i < 20; i++) {
      context.advanceTo(clk(i));
      levels.push(out2(port61));
    }
    // Loaded on CLK 1 (OUT high from the control word until then), then five high, five low.
    expect(levels).toEqual([...Array<boolean>(6).fill(true), ...Array<boolean>(5).fill(false), ...Array<boolean>(5).fill(true), ...Array<boolean>(4).fill(false)]);
    context.advanceTo(clk(27));
    port61.out(0x00);
    expect(out2(port61)).toBe(true);
  });

  it('mode 0: GATE low suspends the count; writing the first byte stops it', () => {
    const { context, ports, port61 } = board();
    port61.out(0x01);
    ports.out(3, 0xb0);
    ports.out(2, 100);
    ports.out(2, 0);
    context.advanceTo(clk(40));
    port61.out(0x00); // suspend at 61 left (loaded at CLK 1)
    context.advanceTo(clk(500));
    port61.out(0x01);
    context.advanceTo(clk(560));
    expect(out2(port61)).toBe(false);
    context.advanceTo(clk(561));
    expect(out2(port61)).toBe(true);
    ports.out(2, 5); // first byte of a new count: counting stops, OUT low
    expect(out2(port61)).toBe(false);
  });

  it('mode 2: a count written mid-period takes effect when the period ends', () => {
    const { context, ports } = board();
    ports.out(3, 0x34);
    ports.out(0, 100);
    ports.out(0, 0);
    context.advanceTo(clk(30));
    ports.out(0, 40);
    ports.out(0, 0);
    context.advanceTo(clk(301));
    // The first count loaded at CLK 1, so its period ends at 101.
    expect(risingEdges(context).filter((t) => t > 0)).toEqual([clk(101), clk(141), clk(181), clk(221), clk(261), clk(301)]);
  });

  it('mode 4: a one-clock low strobe at terminal count', () => {
    const { context, ports } = board();
    ports.out(3, 0x38); // counter 0, LSB then MSB, mode 4
    ports.out(0, 20);
    ports.out(0, 0);
    context.advanceTo(clk(30));
    // Datasheet, mode 4: OUT goes low for one CLK pulse "N + 1 CLK pulses after the initial count is written".
    expect(context.irqEdges.filter((e) => e.time > 0).map((e) => [e.time, e.level])).toEqual([[clk(21), false], [clk(22), true]]);
  });

  it('mode 5: the strobe comes a count after a GATE trigger', () => {
    const { context, ports, port61 } = board();
    ports.out(3, 0xba); // counter 2, LSB then MSB, mode 5
    ports.out(2, 8);
    ports.out(2, 0);
    port61.out(0x01);
    const lows: number[] = [];
    for (let i = 0; i < 12; i++) {
      context.advanceTo(clk(i));
      if (!out2(port61)) lows.push(i);
    }
    expect(lows).toEqual([9]); // triggered within CLK 0, loaded on CLK 1, terminal count 8 pulses later
  });
});

describe('port 61h', () => {
  it('toggles the refresh bit on every read, stores bits 0–3, and ignores the read-only bits', () => {
    const { pit, port61 } = board();
    expect([port61.in(), port61.in(), port61.in()].map((v) => v & 0x10)).toEqual([0x10, 0x00, 0x10]);
    port61.out(0xff);
    expect(port61.in() & 0xcf).toBe(0x0f);
    expect(pit.anomalies()).toMatchObject({ ignoredNmiscBits: 1 });
  });
});

describe('lost-tick policies', () => {
  function periodic(config: I8254Config) {
    const b = board(config);
    b.ports.out(3, 0x34);
    b.ports.out(0, 100);
    b.ports.out(0, 0);
    b.context.irqEdges.length = 0;
    return b;
  }

  it('discard: the line follows OUT; unserviced ticks are simply lost', () => {
    const { context } = periodic({ lostTickPolicy: 'discard' });
    context.advanceTo(clk(1001)); // periods end at 101, 201, … 1001
    expect(risingEdges(context)).toHaveLength(10);
  });

  it('delay: unacknowledged ticks are re-injected one per acknowledgement (EOI-paced)', () => {
    const { context, pit } = periodic({ lostTickPolicy: 'delay' });
    context.advanceTo(clk(1001)); // ten ticks, none acknowledged
    expect(risingEdges(context)).toHaveLength(1);
    for (let i = 0; i < 9; i++) pit.irqAcknowledged(0);
    expect(risingEdges(context)).toHaveLength(10);
    pit.irqAcknowledged(0);
    expect(risingEdges(context)).toHaveLength(10); // nothing left owed
  });

  it('merge: ticks missed meanwhile collapse into one', () => {
    const { context, pit } = periodic({ lostTickPolicy: 'merge' });
    context.advanceTo(clk(1000));
    pit.irqAcknowledged(0);
    pit.irqAcknowledged(0);
    expect(risingEdges(context)).toHaveLength(2);
  });
});

describe('review regressions', () => {
  it('drives irq 0 only when its level changes (a repeated level would look like an edge to an IOAPIC)', () => {
    const context = createTestContext();
    const calls: boolean[] = [];
    const pit = new I8254(withIrqOutputs(context, (_o, level) => { calls.push(level); }));
    const ports = regionIo(pit, 'counters');
    ports.out(3, 0x34);
    ports.out(0, 1193 & 0xff);
    ports.out(0, 1193 >> 8);
    const before = calls.length;
    for (let i = 0; i < 10; i++) ports.out(3, 0x00); // latch commands: no change of OUT
    expect(calls.length).toBe(before);
  });

  it('clears a latched count when the counter is reprogrammed (datasheet: "until read or reprogrammed")', () => {
    const { context, ports } = board();
    ports.out(3, 0x34);
    ports.out(0, 0x00);
    ports.out(0, 0x10);
    context.advanceTo(clk(1));
    ports.out(3, 0x00); // latch 1000h
    ports.out(3, 0x34);
    ports.out(0, 0x34);
    ports.out(0, 0x12);
    context.advanceTo(clk(2)); // loaded
    expect([ports.in(0), ports.in(0)]).toEqual([0x34, 0x12]);
  });

  it('delay: reloading counter 0, or unmasking irq 0, starts re-injection afresh: ticks owed are dropped (kvm_pit_reset_reinject)', () => {
    const { context, pit, ports } = board({ lostTickPolicy: 'delay' });
    ports.out(3, 0x34);
    ports.out(0, 100);
    ports.out(0, 0);
    context.advanceTo(clk(1001)); // one tick out, nine owed, none acknowledged
    ports.out(3, 0x34);
    ports.out(0, 100);
    ports.out(0, 0); // loaded at CLK 1002: periods end at 1102, 1202, …
    context.irqEdges.length = 0;
    context.advanceTo(clk(1102));
    expect(risingEdges(context)).toHaveLength(1); // re-injection started afresh
    context.advanceTo(clk(1302)); // two more owed behind the unacknowledged one
    pit.irqUnmasked(0);
    context.advanceTo(clk(1402));
    expect(risingEdges(context)).toHaveLength(2); // the next period's tick, at once
    pit.irqAcknowledged(0);
    expect(risingEdges(context)).toHaveLength(2); // and nothing owed behind it
  });
});
