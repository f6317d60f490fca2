// The debug console through its port, as firmware uses it: probe the readback, then write the log a byte at a time.
import { encodeState, decodeState } from '@splitvisor/abi';
import { createTestContext, loadTrace, replayTrace } from '@splitvisor/device-testkit';
import { describe, expect, it } from 'vitest';
import type { IsaDebugconState } from '../src/index.ts';
import { DEBUGCON_READBACK, IsaDebugcon, LOG_KEPT_BYTES, debugconText } from '../src/index.ts';

const print = (device: IsaDebugcon, text: string) => { for (const c of text) device.write('port', 0, 1, c.charCodeAt(0)); };

describe('isa-debugcon', () => {
  it('answers a read with E9h, QEMU\'s readback: how SeaBIOS knows to log there', () => {
    const device = new IsaDebugcon();
    expect(DEBUGCON_READBACK).toBe(0xe9);
    expect(device.read('port', 0, 1)).toBe(0xe9);
    print(device, 'x');
    expect(device.read('port', 0, 1)).toBe(0xe9); // writes change nothing a read sees
  });

  it('keeps every byte written, in order, as text', () => {
    const device = new IsaDebugcon();
    print(device, 'SeaBIOS (version 1.16.2)\nFound QEMU fw_cfg\n');
    expect(device.text()).toBe('SeaBIOS (version 1.16.2)\nFound QEMU fw_cfg\n');
    expect(device.bytesWritten()).toBe(43);
    device.write('port', 0, 1, 0x1e9); // only the low byte reaches the port
    expect(device.text().endsWith('\xe9')).toBe(true);
    expect(device.anomalies()).toEqual({ unacceptedAccesses: 0 });
  });

  it('keeps the last 64 KiB when the guest writes more, counting all of it', () => {
    const device = new IsaDebugcon();
    for (let i = 0; i < LOG_KEPT_BYTES + 100; i++) device.write('port', 0, 1, i & 0xff);
    const state = device.getState();
    expect(state.log.length).toBe(LOG_KEPT_BYTES);
    expect(state.written).toBe(LOG_KEPT_BYTES + 100);
    expect(state.log[0]).toBe(100 & 0xff); // the first 100 bytes went
    expect(state.log.at(-1)).toBe((LOG_KEPT_BYTES + 99) & 0xff);
  });

  it('carries its log through the wire into a fresh instance, which goes on appending', () => {
    const first = new IsaDebugcon();
    print(first, 'before ');
    const decoded = decodeState(encodeState(first.getState()));
    if (!decoded.ok) throw new Error(decoded.reason);
    const second = new IsaDebugcon();
    second.setState(decoded.state as IsaDebugconState);
    print(second, 'after');
    expect(second.text()).toBe('before after');
    expect(debugconText(second.getState())).toBe('before after');
    expect(second.bytesWritten()).toBe(12);
  });

  it('refuses the state of another model or version', () => {
    const device = new IsaDebugcon();
    expect(() => { device.setState({ ...device.getState(), model: 'port92' } as unknown as IsaDebugconState); }).toThrow(/state of port92 given to isa-debugcon/);
    expect(() => { device.setState({ ...device.getState(), version: 2 } as unknown as IsaDebugconState); }).toThrow(/version 2/);
  });

  it('counts an access the port does not take, and answers it as an open bus', () => {
    const device = new IsaDebugcon();
    expect(device.read('port', 0, 2)).toBe(0xff);
    device.write('nowhere', 0, 1, 0x41);
    expect(device.text()).toBe('');
    expect(device.anomalies()).toEqual({ unacceptedAccesses: 2 });
  });
});

describe('replay of the shared seabios-post trace (isa-debugcon at 402h)', () => {
  it("answers SeaBIOS's probe as QEMU did, and holds SeaBIOS's log", () => {
    const context = createTestContext();
    const device = new IsaDebugcon();
    const records = loadTrace('seabios-post');
    const result = replayTrace(device, context, records, [{ space: 'port', base: 0x402, region: 'port', length: 1 }]);
    expect(result).toMatchObject({ accesses: 4067, reads: 1, identical: 1, mismatches: [] });
    expect(device.text()).toMatch(/^SeaBIOS \(version 1\.16\.2-debian-1\.16\.2-1\)\n/);
    expect(device.text()).toContain('QEMU fw_cfg DMA interface supported\n');
    expect(device.text()).toMatch(/No bootable device\.\n$/);
  });
});
