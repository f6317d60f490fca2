// The 8237 pair through its ports, with devices on channels: the register file, the flip-flop, masks, status,
// terminal count and auto-initialization, word channels and page registers, the cascade, and refused memory.
import { createTestContext } from '@splitvisor/device-testkit';
import { describe, expect, it } from 'vitest';
import { ControlRegister, DmaConfigError, I8237Pair, Mode, PAGE_CHANNEL } from '../src/index.ts';
import { DmaBench, biosSetup, inp, out, pageOffset, program, readWord } from './harness.ts';

const SINGLE_WRITE = Mode.SINGLE | Mode.WRITE; // 44h: device → memory, as Linux's DMA_MODE_READ
const SINGLE_READ = Mode.SINGLE | Mode.READ; // 48h: memory → device, as Linux's DMA_MODE_WRITE

function setup(memoryBytes = 1 << 20) {
  const context = createTestContext({ memoryBytes });
  const pair = new I8237Pair(context);
  const bench = new DmaBench(pair);
  biosSetup(pair);
  return { context, pair, bench };
}

describe('registers', () => {
  it('writes and reads address and count a byte at a time through the flip-flop, low byte first', () => {
    const { pair } = setup();
    program(pair, 3, { address: 0x1234, count: 0xabcd, mode: SINGLE_WRITE }, false);
    expect(readWord(pair, 3, false)).toBe(0x1234);
    expect(readWord(pair, 3, true)).toBe(0xabcd);
    // Without clearing the flip-flop, the next access continues where the last left it: a write moves it too.
    out(pair, 3, ControlRegister.CLEAR_FLIP_FLOP, 0);
    out(pair, 3, 6, 0x78); // low byte of channel 3's address
    expect(inp(pair, 3, 6)).toBe(0x12); // the high byte is next
    expect(inp(pair, 3, 6)).toBe(0x78);
  });

  it('gives each channel its PC page port (81h ch2, 82h ch3, 83h ch1, 87h ch0, 89h ch6, 8Ah ch7, 8Bh ch5, 8Fh ch4)', () => {
    const { pair } = setup();
    const ports = { 0: 0x87, 1: 0x83, 2: 0x81, 3: 0x82, 4: 0x8f, 5: 0x8b, 6: 0x89, 7: 0x8a } as const;
    for (const [n, port] of Object.entries(ports)) {
      expect(pageOffset(Number(n)) + 0x81).toBe(port);
      pair.write('page', port - 0x81, 1, 0x10 + Number(n));
    }
    for (const [n, port] of Object.entries(ports)) expect(pair.read('page', port - 0x81, 1)).toBe(0x10 + Number(n));
    // The spare page registers of the block read back what was written.
    const spare = PAGE_CHANNEL.flatMap((c, offset) => (c === undefined ? [offset] : []));
    expect(spare.map((o) => o + 0x81)).toEqual([0x84, 0x85, 0x86, 0x88, 0x8c, 0x8d, 0x8e]);
    spare.forEach((o, i) => { pair.write('page', o, 1, 0xa0 + i); });
    expect(spare.map((o) => pair.read('page', o, 1))).toEqual([0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6]);
  });

  it('decodes the word controller at even ports, the odd port above each an alias', () => {
    const { pair } = setup();
    pair.write('controller-16', 0x19, 1, 0); // D9h: clear flip-flop (alias of D8h)
    pair.write('controller-16', 0x08, 1, 0x34); // C8h: channel 6 address
    pair.write('controller-16', 0x09, 1, 0x12); // C9h: the same register
    pair.write('controller-16', 0x18, 1, 0);
    expect(pair.read('controller-16', 0x08, 1)).toBe(0x34);
    expect(pair.read('controller-16', 0x09, 1)).toBe(0x12);
  });

  it('keeps mask bits: single set/clear, write-all, clear-all, master clear; register 15 reads them', () => {
    const { pair } = setup();
    expect(inp(pair, 0, ControlRegister.ALL_MASK)).toBe(0x0f); // master clear at POST masks every channel
    out(pair, 0, ControlRegister.SINGLE_MASK, 0x02); // clear channel 2
    expect(inp(pair, 0, ControlRegister.ALL_MASK)).toBe(0x0b);
    out(pair, 0, ControlRegister.ALL_MASK, 0xf5);
    expect(inp(pair, 0, ControlRegister.ALL_MASK)).toBe(0x05);
    out(pair, 0, ControlRegister.CLEAR_MASK, 0);
    expect(inp(pair, 0, ControlRegister.ALL_MASK)).toBe(0x00);
    out(pair, 0, ControlRegister.TEMPORARY_MASTER_CLEAR, 0);
    expect(inp(pair, 0, ControlRegister.ALL_MASK)).toBe(0x0f);
    expect(inp(pair, 4, ControlRegister.ALL_MASK)).toBe(0x0e); // channel 4, the cascade, stays open
  });

  it('answers reads of write-only registers with 0 and counts them', () => {
    const { pair } = setup();
    for (const r of [ControlRegister.REQUEST, ControlRegister.SINGLE_MASK, ControlRegister.MODE, ControlRegister.CLEAR_FLIP_FLOP, ControlRegister.CLEAR_MASK]) {
      expect(inp(pair, 0, r)).toBe(0);
    }
    expect(inp(pair, 0, ControlRegister.TEMPORARY_MASTER_CLEAR)).toBe(0); // temporary register: no memory-to-memory
    expect(pair.anomalies()).toMatchObject({ illegalReads: 5 });
  });

  it('stores a command with memory-to-memory or inverted DREQ, counting it', () => {
    const { pair, context } = setup();
    out(pair, 0, ControlRegister.STATUS_COMMAND, 0x01);
    out(pair, 0, ControlRegister.STATUS_COMMAND, 0x18); // compressed timing, rotating priority: accepted silently
    expect(pair.anomalies()).toMatchObject({ unsupportedCommands: 1 });
    expect(context.warnings).toHaveLength(1);
  });
});

describe('transfers', () => {
  it('moves a device\'s bytes to memory at page:address, sets TC in status (cleared by reading) and masks the channel', () => {
    const { pair, context } = setup();
    program(pair, 1, { address: 0x3000, count: 99, mode: SINGLE_WRITE, page: 0x02 });
    pair.channel(1).setRequest(true);
    expect(context.ram.subarray(0x2_3000, 0x2_3000 + 100).every((b) => b === 1)).toBe(true);
    expect(context.ram[0x2_3000 + 100]).toBe(0);
    expect(readWord(pair, 1, false)).toBe(0x3064);
    expect(readWord(pair, 1, true)).toBe(0xffff);
    expect(inp(pair, 1, ControlRegister.STATUS_COMMAND)).toBe(0x02);
    expect(inp(pair, 1, ControlRegister.STATUS_COMMAND)).toBe(0x00);
    expect(inp(pair, 1, ControlRegister.ALL_MASK) & 0x02).toBe(0x02);
  });

  it('shows DREQ in the status request bits while the channel waits, masked', () => {
    const { pair } = setup();
    program(pair, 2, { address: 0, count: 511, mode: SINGLE_READ }, false);
    pair.channel(2).setRequest(true);
    expect(inp(pair, 2, ControlRegister.STATUS_COMMAND)).toBe(0x40);
    expect(pair.channel(2).granted).toBe(false);
    out(pair, 2, ControlRegister.SINGLE_MASK, 0x02); // unmask: serviced at once
    expect(inp(pair, 2, ControlRegister.STATUS_COMMAND)).toBe(0x04); // TC, DREQ dropped by the device
  });

  it('auto-initializes at terminal count: the current registers reload, the channel stays unmasked', () => {
    const { pair } = setup();
    program(pair, 1, { address: 0x8000, count: 0x0fff, mode: SINGLE_WRITE | Mode.AUTO_INITIALIZE });
    pair.channel(1).setRequest(true);
    expect(readWord(pair, 1, false)).toBe(0x8000);
    expect(readWord(pair, 1, true)).toBe(0x0fff);
    expect(inp(pair, 1, ControlRegister.ALL_MASK) & 0x02).toBe(0);
    expect(inp(pair, 1, ControlRegister.STATUS_COMMAND) & 0x0f).toBe(0x02);
    expect(pair.channel(1).autoInitialize).toBe(true);
  });

  it('stops a transfer mid-buffer at terminal count and tells the device', () => {
    const context = createTestContext();
    const pair = new I8237Pair(context);
    biosSetup(pair);
    program(pair, 3, { address: 0x100, count: 9, mode: SINGLE_WRITE });
    const channel = pair.channel(3);
    const results: unknown[] = [];
    channel.attach(() => {
      results.push(channel.writeMemory(new Uint8Array(4).fill(0xaa)));
      results.push(channel.writeMemory(new Uint8Array(16).fill(0xbb)));
      results.push(channel.writeMemory(new Uint8Array(16).fill(0xcc)));
      channel.setRequest(false);
    });
    channel.setRequest(true);
    expect(results).toEqual([{ bytes: 4, terminalCount: false }, { bytes: 6, terminalCount: true }, { bytes: 0, terminalCount: false }]);
    expect([...context.ram.subarray(0x100, 0x10b)]).toEqual([0xaa, 0xaa, 0xaa, 0xaa, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0]);
  });

  it('reads memory for a device (memory → device) and counts a verify transfer without touching memory', () => {
    const { pair, context, bench } = setup();
    context.ram.set([1, 2, 3, 4, 5, 6, 7, 8], 0x4000);
    program(pair, 2, { address: 0x4000, count: 7, mode: SINGLE_READ });
    pair.channel(2).setRequest(true);
    expect(bench.received[2]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);

    program(pair, 1, { address: 0x5000, count: 15, mode: Mode.SINGLE | Mode.VERIFY });
    pair.channel(1).setRequest(true);
    expect(context.ram.subarray(0x5000, 0x5010).every((b) => b === 0)).toBe(true);
    expect(readWord(pair, 1, true)).toBe(0xffff);
  });

  it('counts addresses down in decrement mode, placing successive bytes at falling addresses', () => {
    const { pair, context } = setup();
    const channel = pair.channel(3);
    channel.attach(() => { channel.writeMemory(Uint8Array.of(1, 2, 3, 4)); channel.setRequest(false); });
    program(pair, 3, { address: 0x2003, count: 3, mode: SINGLE_WRITE | Mode.DECREMENT });
    channel.setRequest(true);
    expect([...context.ram.subarray(0x2000, 0x2004)]).toEqual([4, 3, 2, 1]);
    expect(readWord(pair, 3, false)).toBe(0x1fff);
  });

  it('wraps the address within its 64 KiB page (the page register does not count)', () => {
    const { pair, context } = setup();
    program(pair, 1, { address: 0xfffe, count: 3, mode: SINGLE_WRITE, page: 0x03 });
    pair.channel(1).setRequest(true);
    expect([...context.ram.subarray(0x3_fffe, 0x4_0002)]).toEqual([1, 1, 0, 0]);
    expect([...context.ram.subarray(0x3_0000, 0x3_0002)]).toEqual([1, 1]);
  });

  it('addresses word channels in words: (page & FEh) × 64 KiB + address × 2, count in words', () => {
    const { pair, context } = setup();
    program(pair, 5, { address: 0x8000, count: 3, mode: SINGLE_WRITE, page: 0x05 }); // page bit 0 ignored
    pair.channel(5).setRequest(true);
    const base = 0x4_0000 + 0x1_0000; // (5 & FEh) << 16 = 40000h, + 8000h words = 10000h bytes
    expect(context.ram.subarray(base, base + 8).every((b) => b === 5)).toBe(true);
    expect(context.ram[base + 8]).toBe(0);
    expect(context.ram[base - 1]).toBe(0);
    expect(readWord(pair, 5, false)).toBe(0x8004);
    expect(inp(pair, 5, ControlRegister.STATUS_COMMAND)).toBe(0x02); // channel 5 is bit 1 of the second controller
  });

  it('moves whole words only on word channels, reading memory for a device', () => {
    const { pair, context, bench } = setup();
    context.ram.set([0x11, 0x22, 0x33, 0x44], 0x2_0000 + 0x200);
    program(pair, 6, { address: 0x100, count: 1, mode: SINGLE_READ, page: 0x02 });
    pair.channel(6).setRequest(true);
    expect(bench.received[6]).toEqual([0x11, 0x22, 0x33, 0x44]);
  });

  it('services channels 0–3 only through channel 4 in cascade mode, unmasked', () => {
    const context = createTestContext();
    const pair = new I8237Pair(context);
    new DmaBench(pair);
    program(pair, 1, { address: 0x1000, count: 0, mode: SINGLE_WRITE });
    pair.channel(1).setRequest(true);
    expect(context.ram[0x1000]).toBe(0); // power-on: channel 4 masked, not cascade
    pair.write('controller-16', ControlRegister.MODE * 2, 1, 0xc0);
    expect(context.ram[0x1000]).toBe(0); // still masked
    pair.write('controller-16', ControlRegister.SINGLE_MASK * 2, 1, 0x00);
    expect(context.ram[0x1000]).toBe(1);
  });

  it('does not service a disabled controller (command bit 2) until it is enabled again', () => {
    const { pair, context } = setup();
    out(pair, 1, ControlRegister.STATUS_COMMAND, 0x04);
    program(pair, 1, { address: 0x1000, count: 0, mode: SINGLE_WRITE });
    pair.channel(1).setRequest(true);
    expect(context.ram[0x1000]).toBe(0);
    out(pair, 1, ControlRegister.STATUS_COMMAND, 0x00);
    expect(context.ram[0x1000]).toBe(1);
  });

  it('services a software request (request register) like DREQ, and clears it at terminal count', () => {
    const { pair, context } = setup();
    program(pair, 1, { address: 0x1000, count: 1, mode: Mode.BLOCK | Mode.WRITE });
    out(pair, 1, ControlRegister.REQUEST, 0x05);
    expect([...context.ram.subarray(0x1000, 0x1003)]).toEqual([1, 1, 0]);
    expect(inp(pair, 1, ControlRegister.STATUS_COMMAND)).toBe(0x02);
  });

  it('refuses memory outside guest RAM, counts and logs it, and still runs the counters', () => {
    const { pair, context } = setup(64 * 1024);
    program(pair, 3, { address: 0x0000, count: 0x0f, mode: SINGLE_WRITE, page: 0x10 }); // 100000h: no RAM there
    const channel = pair.channel(3);
    channel.attach(() => { channel.writeMemory(new Uint8Array(16).fill(9)); channel.setRequest(false); });
    channel.setRequest(true);
    expect(pair.anomalies()).toMatchObject({ unbackedTransfers: 1 });
    expect(context.warnings.some((w) => w.includes('100000h') && w.includes('outside guest RAM'))).toBe(true);
    expect(readWord(pair, 3, true)).toBe(0xffff);
    expect(context.ram.every((b) => b === 0)).toBe(true);
  });

  it('moves the part inside RAM of a transfer that straddles its end', () => {
    const { pair, context, bench } = setup(0x1_0008);
    context.ram.set([1, 2, 3, 4, 5, 6, 7, 8], 0x1_0000);
    program(pair, 2, { address: 0x0004, count: 7, mode: SINGLE_READ, page: 0x01 });
    pair.channel(2).setRequest(true);
    expect(bench.received[2]).toEqual([5, 6, 7, 8, 0xff, 0xff, 0xff, 0xff]);
    expect(pair.anomalies()).toMatchObject({ unbackedTransfers: 1 });
  });

  it('counts a device moving data against the programmed direction, with no memory cycle', () => {
    const { pair, context } = setup();
    program(pair, 1, { address: 0x1000, count: 3, mode: SINGLE_READ }); // the device on 1 writes memory
    pair.channel(1).setRequest(true);
    expect(context.ram[0x1000]).toBe(0);
    expect(pair.anomalies()).toMatchObject({ transferTypeMismatches: 1 });
    expect(pair.channel(1).transferType).toBe('read');
  });

  it('refuses a second device on a channel, and any device on channel 4', () => {
    const { pair } = setup();
    expect(() => { pair.channel(1).attach(() => undefined); }).toThrow(DmaConfigError);
    expect(() => { pair.channel(4).attach(() => undefined); }).toThrow(DmaConfigError);
    expect(() => pair.channel(8)).toThrow(DmaConfigError);
  });
});

describe('state', () => {
  it('restores registers, flip-flop, masks, status and DREQ lines into a fresh pair', () => {
    const { pair } = setup();
    program(pair, 6, { address: 0x1234, count: 0x55, mode: SINGLE_WRITE | Mode.AUTO_INITIALIZE, page: 0x22 }, false);
    pair.channel(6).setRequest(true);
    out(pair, 6, ControlRegister.CLEAR_FLIP_FLOP, 0);
    inp(pair, 6, 4);
    const copy = new I8237Pair(createTestContext());
    copy.setState(pair.getState());
    expect(copy.getState()).toEqual(pair.getState());
    expect(inp(copy, 6, 4)).toBe(0x12);
    expect(inp(copy, 6, ControlRegister.STATUS_COMMAND)).toBe(0x40);
    expect(() => { copy.setState({ ...pair.getState(), version: 2 } as never); }).toThrow();
  });
});
