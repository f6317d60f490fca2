// The PC's setup bytes in CMOS RAM, as QEMU's pc machine stores them.
import { createTestContext } from '@splitvisor/device-testkit';
import { describe, expect, it } from 'vitest';
import { CmosByte, Mc146818, pcCmosImage } from '../src/index.ts';

const MIB = 1 << 20;

describe('pcCmosImage', () => {
  it('stores what QEMU stores for the shared traces\' machine (-m 256, a 1.44 MB floppy, a 16 MiB IDE disk)', () => {
    const image = pcCmosImage({ ramBytes: 256 * MIB, floppyDrives: ['1.44M'], hardDisks: [{ cylinders: 32, heads: 16, sectors: 63 }] });
    const at = (from: number, count = 1) => [...image.subarray(from, from + count)];
    expect(at(0x0a, 4)).toEqual([0x26, 0x02, 0x00, 0x80]);
    expect(at(CmosByte.FLOPPY_TYPES)).toEqual([0x40]); // SeaBIOS read 40h in seabios-post
    expect(at(CmosByte.EQUIPMENT)).toEqual([0x07]); // one diskette drive, FPU, PS/2 mouse
    expect(at(CmosByte.BASE_MEMORY, 2)).toEqual([0x80, 0x02]); // 640 KiB
    expect(at(CmosByte.EXTENDED_MEMORY, 2)).toEqual([0xff, 0xff]); // capped at 65 535 KiB
    expect(at(CmosByte.EXTENDED_MEMORY_COPY, 2)).toEqual([0xff, 0xff]);
    expect(at(CmosByte.MEMORY_ABOVE_16M, 2)).toEqual([0x00, 0x0f]); // 240 MiB in 64 KiB units
    expect(at(CmosByte.MEMORY_ABOVE_4G, 3)).toEqual([0, 0, 0]);
    expect(at(CmosByte.HARD_DISK_TYPES)).toEqual([0xf0]);
    expect(at(CmosByte.HARD_DISK_0_TYPE, 2)).toEqual([47, 0]);
    expect(at(CmosByte.HARD_DISK_0_PARAMS, 9)).toEqual([32, 0, 16, 0xff, 0xff, 0xc8, 32, 0, 63]);
    expect([image[CmosByte.BOOT_ORDER_12], image[CmosByte.BOOT_ORDER_3], image[CmosByte.DISK_TRANSLATION]]).toEqual([0x12, 0x30, 0x00]);
    expect(image[CmosByte.CPU_COUNT_MINUS_1]).toBe(0);
    const sum = image.subarray(0x10, 0x2e).reduce((a, v) => a + v, 0);
    expect(at(CmosByte.CHECKSUM, 2)).toEqual([sum >> 8, sum & 0xff]);
  });

  it('gives an empty auto drive QEMU\'s 2.88 MB type when asked, and counts drives in the equipment byte', () => {
    expect(pcCmosImage({ floppyDrives: ['2.88M'] })[CmosByte.FLOPPY_TYPES]).toBe(0x50);
    expect(pcCmosImage({ floppyDrives: ['1.44M', '1.2M'] })[CmosByte.FLOPPY_TYPES]).toBe(0x42);
    expect(pcCmosImage({ floppyDrives: ['1.44M', '1.2M'] })[CmosByte.EQUIPMENT]).toBe(0x47);
    expect(pcCmosImage({ floppyDrives: [] })[CmosByte.EQUIPMENT]).toBe(0x06);
    expect(pcCmosImage({ equipment: 0x21 })[CmosByte.EQUIPMENT]).toBe(0x21);
  });

  it('describes memory above 4 GiB, CPUs, boot order, translation and a second disk', () => {
    const image = pcCmosImage({
      ramBytes: 3 * 1024 * MIB, ramAbove4gBytes: 5 * 1024 * MIB, cpus: 4, bootOrder: ['cdrom', 'network'], floppySignatureCheck: false,
      hardDisks: [null, { cylinders: 1024, heads: 8, sectors: 63, translation: 'lba' }, null, { cylinders: 1, heads: 1, sectors: 1, translation: 'rechs' }],
    });
    expect([...image.subarray(CmosByte.MEMORY_ABOVE_4G, CmosByte.MEMORY_ABOVE_4G + 3)]).toEqual([0x00, 0x40, 0x01]); // 81 920 units of 64 KiB
    expect([...image.subarray(CmosByte.MEMORY_ABOVE_16M, CmosByte.MEMORY_ABOVE_16M + 2)]).toEqual([0x00, 0xbf]); // 3056 MiB
    expect(image[CmosByte.CPU_COUNT_MINUS_1]).toBe(3);
    expect([image[CmosByte.BOOT_ORDER_12], image[CmosByte.BOOT_ORDER_3]]).toEqual([0x43, 0x01]);
    expect(image[CmosByte.HARD_DISK_TYPES]).toBe(0x0f);
    expect([...image.subarray(CmosByte.HARD_DISK_1_PARAMS, CmosByte.HARD_DISK_1_PARAMS + 9)]).toEqual([0x00, 0x04, 8, 0xff, 0xff, 0xc0, 0x00, 0x04, 63]);
    expect(image[CmosByte.DISK_TRANSLATION]).toBe((1 << 2) | (3 << 6));
  });

  it('stores raw bytes last, and leaves the checksum alone when told to', () => {
    const image = pcCmosImage({ bytes: { 0x40: 0xaa, 0x2e: 0x12 }, checksum: false });
    expect([image[0x40], image[0x2e]]).toEqual([0xaa, 0x12]);
  });

  it('refuses what cannot be stored', () => {
    expect(() => pcCmosImage({ floppyDrives: ['1.44M', '1.44M', '1.44M'] })).toThrow(RangeError);
    expect(() => pcCmosImage({ ramBytes: -1 })).toThrow(RangeError);
    expect(() => pcCmosImage({ cpus: 0 })).toThrow(RangeError);
    expect(() => pcCmosImage({ bytes: { 0x80: 1 } })).toThrow(RangeError);
    expect(() => pcCmosImage({ bytes: { 0x40: 256 } })).toThrow(RangeError);
    expect(() => pcCmosImage({ hardDisks: [{ cylinders: 10, heads: 0, sectors: 63 }] })).toThrow(RangeError);
    expect(() => pcCmosImage({ bootOrder: ['floppy', 'floppy', 'floppy', 'floppy'] })).toThrow(RangeError);
  });

  it('is what the clock\'s RAM holds at power-on, registers A and B included', () => {
    const rtc = new Mc146818(createTestContext(), { cmos: { cpus: 2, bytes: { 0x0b: 0x06 } } });
    rtc.write('index', 0, 1, CmosByte.CPU_COUNT_MINUS_1);
    expect(rtc.read('data', 0, 1)).toBe(1);
    rtc.write('index', 0, 1, 0x0b);
    expect(rtc.read('data', 0, 1)).toBe(0x06); // binary, 24-hour from power-on
  });
});
