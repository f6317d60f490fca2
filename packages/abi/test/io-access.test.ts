import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Access, AccessSize, AddressSpace, Device, IoExit, IoRegion, Mapping, MmioExit, MsrExit } from '../src/index.ts';
import { BusConflictError, IoBus, boundaryOf, decodeAccess, msrAddress, readBytes, readLength, writeBytes } from '../src/index.ts';

/** Records every call; reads answer offset-derived bytes so splits are visible. */
function recordingDevice(regions: IoRegion[]) {
  const calls: string[] = [];
  const device: Device = {
    model: 'recorder',
    regions,
    read(region: string, offset: number, size: AccessSize) {
      calls.push(`r ${region}+${offset}/${size}`);
      let value = 0;
      for (let i = size - 1; i >= 0; i--) value = value * 256 + 0x10 + offset + i;
      return value >>> 0;
    },
    write(region: string, offset: number, size: AccessSize, value: number) {
      calls.push(`w ${region}+${offset}/${size}=${value.toString(16)}`);
    },
    getState: () => ({ model: 'recorder', version: 1 }),
    setState: () => undefined,
    anomalies: () => ({}),
  };
  return { device, calls };
}

const bytePorts: IoRegion = { name: 'ports', space: 'port', length: 4, sizes: [1] };
const words: IoRegion = { name: 'regs', space: 'mmio', length: 16, sizes: [4] };

describe('bus access splitting', () => {
  it('answers an accepted width with one call', () => {
    const { device, calls } = recordingDevice([words]);
    const into = new Uint8Array(4);
    expect(readBytes(device, words, 4, into)).toBe('ok');
    expect(calls).toEqual(['r regs+4/4']);
    expect([...into]).toEqual([0x14, 0x15, 0x16, 0x17]);
  });

  it('splits a wide access into accepted widths, lowest address first (inw on a byte port)', () => {
    const { device, calls } = recordingDevice([bytePorts]);
    const into = new Uint8Array(2);
    expect(readBytes(device, bytePorts, 1, into)).toBe('ok');
    expect(calls).toEqual(['r ports+1/1', 'r ports+2/1']);
    expect([...into]).toEqual([0x11, 0x12]);
    expect(writeBytes(device, bytePorts, 0, Uint8Array.of(0x34, 0x12))).toBe('ok');
    expect(calls.slice(2)).toEqual(['w ports+0/1=34', 'w ports+1/1=12']);
  });

  it('splits an 8-byte MMIO access into two 4-byte ones', () => {
    const { device, calls } = recordingDevice([words]);
    expect(writeBytes(device, words, 8, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 0x80))).toBe('ok');
    expect(calls).toEqual(['w regs+8/4=4030201', 'w regs+12/4=80070605']);
  });

  it('answers open bus for what the device cannot decode, and says why', () => {
    const { device, calls } = recordingDevice([words]);
    const narrow = new Uint8Array(1);
    expect(readBytes(device, words, 0, narrow)).toBe('unaccepted-size');
    expect([...narrow]).toEqual([0xff]);
    const past = new Uint8Array(4);
    expect(readBytes(device, words, 16, past)).toBe('outside-region');
    expect([...past]).toEqual([0xff, 0xff, 0xff, 0xff]);
    expect(writeBytes(device, words, 0, Uint8Array.of(1))).toBe('unaccepted-size');
    expect(calls).toEqual([]);
  });
});

describe('transitions', () => {
  it('names each outward crossing as VMM builders do', () => {
    expect(boundaryOf('guest', 'monitor')).toBe('exit');
    expect(boundaryOf('monitor', 'kernel')).toBe('lightweight-exit');
    expect(boundaryOf('kernel', 'user')).toBe('heavyweight-exit');
    expect(boundaryOf('guest', 'user')).toBe('heavyweight-exit');
    expect(boundaryOf('user', 'kernel')).toBeUndefined();
  });
});

describe('a domain bus', () => {
  it('finds the region for each address, refuses overlaps naming both, and answers unassigned addresses as an empty bus', () => {
    const { device: pit } = recordingDevice([{ name: 'counters', space: 'port', length: 4, sizes: [1] }]);
    const { device: rtc } = recordingDevice([{ name: 'index', space: 'port', length: 2, sizes: [1] }]);
    const bus = new IoBus();
    bus.map('pit', pit, 'counters', 0x40);
    bus.map('rtc', rtc, 'index', 0x70);
    expect(() => { bus.map('rogue', rtc, 'index', 0x43); }).toThrow('rogue index at 0x43–0x44 overlaps pit counters at 0x40–0x43');
    expect(() => { bus.map('rtc', rtc, 'nonesuch', 0x80); }).toThrow(BusConflictError);
    expect(bus.find('port', 0x42)?.name).toBe('pit');
    expect(bus.find('port', 0x44)).toBeUndefined();
    const into = new Uint8Array(1);
    expect(bus.read('port', 0x71, into)).toBe('ok');
    expect([...into]).toEqual([0x11]);
    expect(bus.read('port', 0x60, into)).toBe('unassigned');
    expect([...into]).toEqual([0xff]);
    expect(bus.write('mmio', 0xfee0_0000, Uint8Array.of(1))).toBe('unassigned');
    expect(bus.unassigned).toEqual({ reads: 1, writes: 1 });
  });

  it('takes one region of a device off (a window the board moves), or all of them', () => {
    const { device: vga } = recordingDevice([bytePorts, { name: 'rom', space: 'mmio', length: 0x1_0000, sizes: [1, 2, 4] }]);
    const bus = new IoBus();
    bus.map('vga', vga, 'ports', 0x3c0);
    bus.map('vga', vga, 'rom', 0xfebe_0000);
    expect(bus.unmap('vga', 'rom')).toBe(1);
    expect([bus.find('port', 0x3c0)?.name, bus.find('mmio', 0xfebe_0000)]).toEqual(['vga', undefined]);
    bus.map('vga', vga, 'rom', 0xc_0000); // where it moved
    expect(bus.find('mmio', 0xc_ffff)?.region.name).toBe('rom');
    expect(bus.unmap('vga', 'window')).toBe(0);
    expect(bus.unmap('vga')).toBe(2);
    expect(bus.empty).toBe(true);
  });
});

describe('port lookup', () => {
  it('finds what a search of the mappings finds, at every port and beyond port space', () => {
    const region = fc.record({ length: fc.integer({ min: 1, max: 64 }), base: fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0xffc0, max: 0x1_0040 })) });
    fc.assert(fc.property(fc.array(region, { maxLength: 12 }), fc.array(fc.integer({ min: -2, max: 0x1_0080 }), { maxLength: 200 }), (regions, probes) => {
      const bus = new IoBus();
      const mapped: Mapping[] = [];
      regions.forEach(({ length, base }, i) => {
        const r: IoRegion = { name: 'r', space: 'port', length, sizes: [1] };
        const { device } = recordingDevice([r]);
        try {
          bus.map(`d${i}`, device, 'r', base);
          mapped.push({ name: `d${i}`, device, region: r, base });
        } catch (error) {
          if (!(error instanceof BusConflictError)) throw error;
        }
      });
      for (const port of [...probes, 0, 0xffff, 0x1_0000, ...mapped.flatMap((m) => [m.base - 1, m.base, m.base + m.region.length - 1, m.base + m.region.length])]) {
        const expected = mapped.find((m) => port >= m.base && port < m.base + m.region.length)?.name;
        expect(bus.find('port', port)?.name).toBe(expected);
      }
    }));
  });

  it('still finds a region at a base that is not a whole port, and keeps MMIO apart', () => {
    const { device } = recordingDevice([{ name: 'odd', space: 'port', length: 2, sizes: [1] }, { name: 'regs', space: 'mmio', length: 16, sizes: [4] }]);
    const bus = new IoBus();
    bus.map('odd', device, 'odd', 64.5); // 40h and a half
    bus.map('mm', device, 'regs', 0x40);
    expect(bus.find('port', 0x41)?.name).toBe('odd');
    expect(bus.find('port', 0x40)).toBeUndefined();
    expect(bus.find('mmio', 0x44)?.name).toBe('mm');
    expect(bus.find('mmio', 0x1_0040)).toBeUndefined();
  });
});

/** A fresh access record. */
function access(space: AddressSpace, address: number, width: number, count: number, isWrite: boolean, data: Uint8Array = new Uint8Array(0)): Access {
  return { space, address, width, count, isWrite, data };
}

/** What a domain at the end of the line (the device host) does with an exit: decode it once, answer it, an open bus if nothing holds it. */
function answer(bus: IoBus, exit: IoExit | MmioExit | MsrExit): Uint8Array {
  const decoded = decodeAccess(exit);
  const completion = new Uint8Array(decoded.isWrite ? 0 : readLength(decoded));
  if (bus.access(decoded, completion) === undefined) bus.openBus(decoded, completion);
  return completion;
}

describe('one decoded access', () => {
  it('is answered into the caller\'s buffer, element by element for string I/O, and an address nothing holds is left alone', () => {
    const { device, calls } = recordingDevice([bytePorts, words]);
    const bus = new IoBus();
    bus.map('dev', device, 'ports', 0x60);
    bus.map('dev', device, 'regs', 0xfee0_0000);
    const into = new Uint8Array(2);
    expect(bus.access(access('port', 0x61, 1, 2, false), into)?.name).toBe('dev'); // rep insb: two reads at the same port
    expect([...into]).toEqual([0x11, 0x11]);
    expect(bus.access(access('port', 0x60, 2, 1, true, Uint8Array.of(0x34, 0x12)), into)?.name).toBe('dev'); // outw on byte ports
    const word = new Uint8Array(4);
    expect(bus.access(access('mmio', 0xfee0_0004, 4, 1, false), word)?.name).toBe('dev');
    expect([...word]).toEqual([0x14, 0x15, 0x16, 0x17]);
    expect(calls).toEqual(['r ports+1/1', 'r ports+1/1', 'w ports+0/1=34', 'w ports+1/1=12', 'r regs+4/4']);
    expect(bus.access(access('port', 0x70, 1, 1, false), into)).toBeUndefined();
    expect(bus.unassigned).toEqual({ reads: 0, writes: 0 });
    const exit = { vcpu: 0, time: 0, ifFlag: false, readyForInterruptInjection: false, kind: 'io', direction: 'in', port: 0x61, size: 1, count: 2, data: new Uint8Array(0) } as const;
    expect([...answer(bus, exit)]).toEqual([...into.fill(0x11)]);
  });

  it('answers an MSR exit as the two 4-byte halves of its 8 bytes, low first, at index × 8 in MSR space', () => {
    const { device, calls } = recordingDevice([{ name: 'deadline', space: 'msr', length: 8, sizes: [4] }]);
    const bus = new IoBus();
    bus.map('lapic', device, 'deadline', msrAddress(0x6e0));
    const header = { vcpu: 0, time: 0, ifFlag: false, readyForInterruptInjection: false } as const;
    answer(bus, { ...header, kind: 'msr', index: 0x6e0, isWrite: true, data: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) });
    expect([...answer(bus, { ...header, kind: 'msr', index: 0x6e0, isWrite: false, data: new Uint8Array(0) })]).toEqual([0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17]);
    expect(calls).toEqual(['w deadline+0/4=4030201', 'w deadline+4/4=8070605', 'r deadline+0/4', 'r deadline+4/4']);
    expect([...answer(bus, { ...header, kind: 'msr', index: 0x6e1, isWrite: false, data: new Uint8Array(0) })]).toEqual(new Array(8).fill(0xff)); // no such MSR here
    expect(bus.unassigned).toEqual({ reads: 1, writes: 0 });
    expect(bus.find('port', msrAddress(0x6e0))).toBeUndefined(); // spaces apart
  });
});
