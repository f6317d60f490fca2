// The parallel port through its three registers, as firmware and drivers use it: SeaBIOS's probe (clear the direction
// bit, write AAh, read it back), the direction bit turning the data pins into inputs, printing into no printer. The
// irq output is watched on the test context: with nothing to acknowledge, it never rises.
import { decodeState, encodeState } from '@splitvisor/abi';
import { TRACE_NAMES, createTestContext, loadTrace, regionIo, replayTrace } from '@splitvisor/device-testkit';
import { describe, expect, it } from 'vitest';
import type { ParallelPortState } from '../src/index.ts';
import { Control, ParallelPort, ParallelRegister } from '../src/index.ts';

const { DATA, STATUS, CONTROL } = ParallelRegister;

describe('the parallel port', () => {
  it('powers on as QEMU\'s LPT1 reads: data FFh, status D9h, control CCh', () => {
    const port = new ParallelPort();
    const io = regionIo(port, 'registers');
    expect([io.in(DATA), io.in(STATUS), io.in(CONTROL)]).toEqual([0xff, 0xd9, 0xcc]);
    expect(port.getState()).toEqual({ model: 'parallel-port', version: 1, data: 0xff, control: 0x0c });
  });

  it("is found by SeaBIOS's probe: the direction bit cleared, AAh written to the data latch and read back", () => {
    const port = new ParallelPort();
    const io = regionIo(port, 'registers');
    const control = io.in(CONTROL);
    io.out(CONTROL, control & ~Control.DIRECTION);
    io.out(DATA, 0xaa);
    expect(io.in(DATA)).toBe(0xaa);
    expect(port.latch()).toBe(0xaa);
    expect(port.anomalies()).toEqual({ ignoredWrites: 0, dataWritesWhileInput: 0, unacceptedAccesses: 0 });
  });

  it('reads the undriven data pins, FFh, while the direction bit makes them inputs; the latch comes back when it clears', () => {
    const port = new ParallelPort();
    const io = regionIo(port, 'registers');
    io.out(DATA, 0x55);
    io.out(CONTROL, 0x0c | Control.DIRECTION);
    expect([io.in(DATA), io.in(CONTROL)]).toEqual([0xff, 0xec]);
    io.out(DATA, 0x3c); // the latch takes it, nothing drives it: counted
    expect(io.in(DATA)).toBe(0xff);
    io.out(CONTROL, 0x0c);
    expect(io.in(DATA)).toBe(0x3c);
    expect(port.anomalies()).toMatchObject({ dataWritesWhileInput: 1 });
  });

  it('reads back control bits 5–0 as written, bits 7–6 always set', () => {
    const port = new ParallelPort();
    const io = regionIo(port, 'registers');
    for (let value = 0; value < 0x100; value++) {
      io.out(CONTROL, value);
      expect(io.in(CONTROL)).toBe((value & 0x3f) | 0xc0);
    }
    expect(port.anomalies()).toEqual({ ignoredWrites: 0, dataWritesWhileInput: 0, unacceptedAccesses: 0 });
  });

  it('prints into no printer: strobes, an initialise and the IRQ enable change no status and raise no irq', () => {
    const context = createTestContext();
    const port = new ParallelPort();
    const io = regionIo(port, 'registers');
    io.out(CONTROL, 0x0c | Control.IRQ_ENABLE);
    for (const c of 'hello\n') {
      io.out(DATA, c.charCodeAt(0));
      io.out(CONTROL, 0x0c | Control.IRQ_ENABLE | Control.STROBE);
      context.advance(1000);
      io.out(CONTROL, 0x0c | Control.IRQ_ENABLE);
      expect(io.in(STATUS)).toBe(0xd9);
    }
    io.out(CONTROL, 0x08); // nINIT low: initialise the printer
    context.advance(100_000);
    io.out(CONTROL, 0x0c);
    expect([io.in(STATUS), io.in(DATA)]).toEqual([0xd9, 0x0a]);
    expect(context.irqEdges).toEqual([]);
  });

  it('ignores and counts writes to the read-only status port, and accesses it does not take', () => {
    const port = new ParallelPort();
    port.write('registers', STATUS, 1, 0x01); // an EPP timeout cleared, as Linux's parport_pc tries
    port.write('registers', STATUS, 1, 0x00);
    expect(port.read('registers', STATUS, 1)).toBe(0xd9);
    expect(port.read('registers', 3, 1)).toBe(0xff);
    expect(port.read('registers', DATA, 2)).toBe(0xff);
    port.write('control', 0, 1, 0x00);
    expect(port.read('registers', CONTROL, 1)).toBe(0xcc);
    expect(port.anomalies()).toEqual({ ignoredWrites: 2, dataWritesWhileInput: 0, unacceptedAccesses: 3 });
  });

  it('restores into a fresh instance through the wire (a move to another domain), and refuses another model or version', () => {
    const port = new ParallelPort();
    port.write('registers', DATA, 1, 0x42);
    port.write('registers', CONTROL, 1, 0x3d);
    const decoded = decodeState(encodeState(port.getState()));
    if (!decoded.ok) throw new Error(decoded.reason);
    const moved = new ParallelPort();
    moved.setState(decoded.state as ParallelPortState);
    const io = regionIo(moved, 'registers');
    expect([io.in(DATA), io.in(CONTROL), moved.latch()]).toEqual([0xff, 0xfd, 0x42]);
    io.out(CONTROL, 0x0c);
    expect(io.in(DATA)).toBe(0x42);
    expect(() => { moved.setState({ ...moved.getState(), model: 'port92' } as unknown as ParallelPortState); }).toThrow(/state of port92 given to parallel-port/);
    expect(() => { moved.setState({ ...moved.getState(), version: 2 } as unknown as ParallelPortState); }).toThrow(/version 2/);
  });
});

describe('replay of the shared traces (the parallel port at 378h)', () => {
  it.each(TRACE_NAMES)("%s: SeaBIOS's probe answered as QEMU answered it", (name) => {
    const context = createTestContext();
    const port = new ParallelPort();
    const records = loadTrace(name);
    const result = replayTrace(port, context, records, [{ space: 'port', base: 0x378, region: 'registers', length: 3 }]);
    // Read 37Ah → CCh, write CCh, write AAh to 378h, read 378h → AAh.
    expect(result).toMatchObject({ accesses: 4, reads: 2, identical: 2, mismatches: [] });
    expect(context.irqEdges).toEqual([]);
    // Nothing else of LPT1 in them: no access past the SPP's three ports in QEMU's 8-port window, none to an ECP's registers at +400h.
    const lpt = records.filter((r) => r.kind === 'pio' && ((r.addr >= 0x378 && r.addr < 0x380) || (r.addr >= 0x778 && r.addr < 0x780)));
    expect(lpt.map((r) => r.addr)).toEqual([0x37a, 0x37a, 0x378, 0x378]);
  });
});
