// System Control Port A through its port, as firmware and Linux use it: read, set the A20 bit, write back; a
// fast reset by writing bit 0. The lines the board wires are watched on the test context.
import { decodeState, encodeState } from '@splitvisor/abi';
import { createTestContext, loadTrace, replayTrace } from '@splitvisor/device-testkit';
import { describe, expect, it } from 'vitest';
import type { Port92State } from '../src/index.ts';
import { Port92, Port92Line, SystemControlA } from '../src/index.ts';

describe('port 92h', () => {
  it('reads 00h at power-on, the gate closed, no reset asked, no line driven', () => {
    const context = createTestContext();
    const port = new Port92(context);
    expect(port.read('control', 0, 1)).toBe(0x00);
    expect([port.a20(), port.resets()]).toEqual([false, 0]);
    expect(context.lineEdges).toEqual([]);
  });

  it("opens the A20 gate as SeaBIOS's set_a20 does (read, OR in bit 1, write), driving the a20 line once per change", () => {
    const context = createTestContext();
    const port = new Port92(context);
    const setA20 = (on: boolean) => {
      const old = port.read('control', 0, 1);
      port.write('control', 0, 1, on ? old | SystemControlA.A20_GATE : old & ~SystemControlA.A20_GATE);
    };
    setA20(true);
    setA20(true); // no change: no edge
    expect([port.read('control', 0, 1), port.a20(), context.lineLevel(Port92Line.a20)]).toEqual([0x02, true, true]);
    setA20(false);
    expect(context.lineEdges.map((e) => [e.line, e.level])).toEqual([['a20', true], ['a20', false]]);
    expect(port.resets()).toBe(0);
  });

  it('asks for a reset on each 0→1 of bit 0 only, pulsing the reset line; the bit reads back until cleared', () => {
    const context = createTestContext();
    const port = new Port92(context);
    port.write('control', 0, 1, 0x03); // a fast reset with the gate kept open
    expect(port.resets()).toBe(1);
    expect(port.read('control', 0, 1)).toBe(0x03);
    port.write('control', 0, 1, 0x03); // already set: no new request
    expect(port.resets()).toBe(1);
    port.write('control', 0, 1, 0x02);
    port.write('control', 0, 1, 0x03);
    expect(port.resets()).toBe(2);
    expect(context.lineEdges.filter((e) => e.line === Port92Line.reset).map((e) => e.level)).toEqual([true, false, true, false]);
    expect(context.lineLevel(Port92Line.reset)).toBe(false);
  });

  it('clears bit 0 when the board has reset the CPU, keeping the gate; the next 0→1 is a new request', () => {
    const port = new Port92(createTestContext());
    port.write('control', 0, 1, 0x03);
    port.reset();
    expect(port.read('control', 0, 1)).toBe(0x02);
    port.write('control', 0, 1, 0x03);
    expect(port.resets()).toBe(2);
  });

  it('latches the reserved bits as QEMU does, counting the writes that set them', () => {
    const port = new Port92(createTestContext());
    port.write('control', 0, 1, 0xc2);
    expect(port.read('control', 0, 1)).toBe(0xc2);
    expect(port.anomalies()).toEqual({ reservedBitsWritten: 1, unacceptedAccesses: 0 });
  });

  it('offers its latch to a cache that a write to the port invalidates', () => {
    const port = new Port92(createTestContext());
    expect(port.hints.cachedReads).toEqual([{ region: 'control', offset: 0, length: 1, invalidatedBy: [{ region: 'control', offset: 0, length: 1 }] }]);
    port.write('control', 0, 1, 0x02);
    expect(port.cachedRead('control', 0)).toBe(port.read('control', 0, 1));
  });

  it('restores into a fresh instance and re-drives the a20 line there (a move to another domain)', () => {
    const port = new Port92(createTestContext());
    port.write('control', 0, 1, 0x03);
    const decoded = decodeState(encodeState(port.getState()));
    if (!decoded.ok) throw new Error(decoded.reason);
    const context = createTestContext();
    const moved = new Port92(context);
    moved.setState(decoded.state as Port92State);
    expect([moved.read('control', 0, 1), moved.resets(), context.lineLevel(Port92Line.a20)]).toEqual([0x03, 1, true]);
    expect(() => { moved.setState({ ...moved.getState(), model: 'i8042' } as unknown as Port92State); }).toThrow(/state of i8042 given to port92/);
  });
});

describe('replay of the shared traces (port92 at 92h)', () => {
  it.each(['seabios-post', 'linux-boot-serial', 'linux-boot-vga'] as const)('%s: every read as QEMU answered it', (name) => {
    const context = createTestContext();
    const port = new Port92(context);
    const result = replayTrace(port, context, loadTrace(name), [{ space: 'port', base: 0x92, region: 'control', length: 1 }]);
    expect(result.mismatches).toEqual([]);
    expect(result.reads).toBeGreaterThan(100);
    expect(result.identical).toBe(result.reads);
    expect(port.a20()).toBe(true);
    expect(port.resets()).toBe(0);
  });
});
