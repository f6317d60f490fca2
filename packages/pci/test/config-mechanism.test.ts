// Configuration mechanism #1 through its ports, with the answers QEMU 7.2 gave to the same accesses (qtest for the
// aligned ones; a TCG guest, as the traces ran, for the unaligned ones, where qtest's port path splits differently).
import { createTestContext } from '@splitvisor/device-testkit';
import { describe, expect, it } from 'vitest';
import { I440fxPciHost, PciHostLine } from '../src/index.ts';
import { TRACE_OPTIONS, configAddress, pciDriver } from './pci-driver.ts';

function fresh() {
  const context = createTestContext();
  const host = new I440fxPciHost(context, TRACE_OPTIONS);
  return { context, host, pci: pciDriver(host) };
}

describe('CONFIG_ADDRESS (CF8h)', () => {
  it('reads back all 32 bits written, reserved bits included', () => {
    const { host } = fresh();
    host.write('config-address', 0, 4, 0x80fe_1234);
    expect(host.read('config-address', 0, 4)).toBe(0x80fe_1234);
    host.write('config-address', 0, 4, 0x7f00_0000);
    expect(host.read('config-address', 0, 4)).toBe(0x7f00_0000);
  });

  it('answers narrower reads with its low bytes, unshifted, as QEMU (inb CFAh and CFBh read bits 7:0)', () => {
    const { host } = fresh();
    host.write('config-address', 0, 4, 0x80fe_1234);
    // qtest on QEMU 7.2: inb cf8/cfa/cfb → 34h, inw cf8/cfa → 1234h.
    expect([host.read('config-address', 0, 1), host.read('config-address', 2, 1), host.read('config-address', 3, 1)]).toEqual([0x34, 0x34, 0x34]);
    expect([host.read('config-address', 0, 2), host.read('config-address', 2, 2)]).toEqual([0x1234, 0x1234]);
  });

  it('drops writes narrower than 32 bits, counting them', () => {
    const { host } = fresh();
    host.write('config-address', 0, 4, 0x80fe_1234);
    host.write('config-address', 0, 1, 0x55);
    host.write('config-address', 0, 2, 0x5555);
    host.write('config-address', 2, 2, 0x5555);
    host.write('config-address', 3, 1, 0x55);
    host.write('config-address', 2, 1, 0x55);
    expect(host.read('config-address', 0, 4)).toBe(0x80fe_1234);
    expect(host.anomalies().configAddressPartialWrites).toBe(5);
  });

  it('answers unaligned accesses as QEMU\'s memory core rejects them: 0, writes dropped', () => {
    const { host } = fresh();
    host.write('config-address', 0, 4, 0x8000_0000);
    // A TCG guest on QEMU 7.2: inw CFBh → 0 (inl CFAh → 0 too; our bus answers that one, it crosses the region's end).
    expect(host.read('config-address', 3, 2)).toBe(0);
    host.write('config-address', 3, 2, 0xffff);
    expect(host.read('config-address', 0, 4)).toBe(0x8000_0000);
    expect(host.anomalies().unalignedAccesses).toBe(2);
  });
});

describe('the PIIX3 reset control register (CF9h)', () => {
  it('reads 0 at power-on and keeps bit 1 (SRST) only, as QEMU', () => {
    const { host } = fresh();
    expect(host.read('config-address', 1, 1)).toBe(0);
    host.write('config-address', 1, 1, 0x02);
    expect(host.read('config-address', 1, 1)).toBe(0x02);
    host.write('config-address', 1, 1, 0x09);
    expect(host.read('config-address', 1, 1)).toBe(0x00);
    expect(host.anomalies().resetControlReservedBits).toBe(1);
  });

  it('is its own byte inside the CONFIG_ADDRESS window: CONFIG_ADDRESS is untouched, and reads replicate the byte', () => {
    const { host } = fresh();
    host.write('config-address', 0, 4, 0x80fe_1234);
    host.write('config-address', 1, 1, 0x02);
    expect(host.read('config-address', 0, 4)).toBe(0x80fe_1234);
    // A TCG guest on QEMU 7.2 with RCR = 2: inw CF9h → 0202h, inl CF9h → 02020202h.
    expect([host.read('config-address', 1, 2), host.read('config-address', 1, 4)]).toEqual([0x0202, 0x0202_0202]);
  });

  it('requests a reset on a write with bit 2 (RCPU), pulsing the reset line and keeping the register; a system reset clears it', () => {
    const { context, host } = fresh();
    host.write('config-address', 1, 1, 0x02);
    host.write('config-address', 1, 1, 0x06); // SeaBIOS's and Linux's reboot: hard reset, now
    expect(host.resets()).toBe(1);
    expect(context.lineEdges.map((e) => [e.line, e.level])).toEqual([[PciHostLine.reset, true], [PciHostLine.reset, false]]);
    expect(host.read('config-address', 1, 1)).toBe(0x02);
    host.reset();
    expect(host.read('config-address', 1, 1)).toBe(0x00);
    expect(host.getState().resetRequests).toBe(1);
  });
});

describe('CONFIG_DATA (CFCh–CFFh)', () => {
  it('reads the host bridge\'s IDs at every width and byte offset', () => {
    const { pci } = fresh();
    expect(pci.read(0, 0, 0x00, 4)).toBe(0x1237_8086);
    expect([pci.read(0, 0, 0x00, 2), pci.read(0, 0, 0x02, 2)]).toEqual([0x8086, 0x1237]);
    expect([0, 1, 2, 3].map((r) => pci.read(0, 0, r, 1))).toEqual([0x86, 0x80, 0x37, 0x12]);
  });

  it('reads all ones from absent functions, devices and buses, and drops writes to them', () => {
    const { host, pci } = fresh();
    expect(pci.read(1, 2, 0, 2)).toBe(0xffff); // 00:01.2, PIIX3 USB, absent on QEMU's pc
    expect(pci.read(3, 0, 0, 4)).toBe(0xffff_ffff);
    expect(pci.read(31, 7, 0xfc, 4)).toBe(0xffff_ffff);
    host.write('config-address', 0, 4, configAddress(0, 0, 0, 1)); // bus 1: no bridge, nothing there
    expect(host.read('config-data', 0, 4)).toBe(0xffff_ffff);
    pci.write(2, 1, 0x04, 4, 0xffff_ffff);
    expect(pci.read(2, 1, 0x04, 4)).toBe(0xffff_ffff);
    expect(host.anomalies()).toMatchObject({ absentFunctionReads: 5, absentFunctionWrites: 1 });
  });

  it('ignores CONFIG_DATA while the enable bit is clear, whatever the address (reserved bits 30:24 are no part of it)', () => {
    const { host } = fresh();
    host.write('config-address', 0, 4, 0x7f00_0000);
    expect(host.read('config-data', 0, 4)).toBe(0xffff_ffff);
    host.write('config-address', 0, 4, 0x8f00_0000); // enabled, reserved bits set: QEMU reads 00:00.0
    expect(host.read('config-data', 0, 4)).toBe(0x1237_8086);
    expect(host.anomalies().disabledDataAccesses).toBe(1);
  });

  it('ORs CONFIG_ADDRESS bits 1:0 into the offset and crosses dwords, as QEMU', () => {
    const { host, pci } = fresh();
    host.write('config-address', 0, 4, 0x8000_0003);
    // qtest on QEMU 7.2: config address 80000003h, inl CFCh → 12h (bytes 3–6), inb CFDh → 12h, inw CFEh → 12h.
    expect([host.read('config-data', 0, 4), host.read('config-data', 1, 1), host.read('config-data', 2, 2)]).toEqual([0x12, 0x12, 0x12]);
    host.write('config-address', 0, 4, configAddress(1, 0, 0x40) | 3);
    host.write('config-data', 0, 2, 0xa55a); // 01.0 bytes 43h and 44h
    expect([pci.read(1, 0, 0x40, 4), pci.read(1, 0, 0x44, 4)]).toEqual([0x5a00_0000, 0xa5]);
  });

  it('stops at the end of the 256 bytes: a dword at FEh reads two bytes', () => {
    const { host, pci } = fresh();
    pci.write(0, 0, 0xfc, 4, 0xaabb_ccdd);
    host.write('config-address', 0, 4, configAddress(0, 0, 0xfc) | 2);
    expect(host.read('config-data', 0, 4)).toBe(0xaabb);
  });

  it('answers unaligned accesses with 0 and drops their writes, as a TCG guest sees on QEMU', () => {
    const { host, pci } = fresh();
    host.write('config-address', 0, 4, configAddress(1, 0, 0x40));
    // A TCG guest on QEMU 7.2: inw CFDh → 0, inw CFFh → 0 (inb CFDh → the byte); outw CFDh dropped.
    expect([host.read('config-data', 1, 2), host.read('config-data', 3, 2), host.read('config-data', 2, 4)]).toEqual([0, 0, 0]);
    host.write('config-data', 1, 2, 0xa55a);
    expect(pci.read(1, 0, 0x40, 4)).toBe(0);
    host.write('config-address', 0, 4, configAddress(0, 0, 0));
    expect(host.read('config-data', 1, 1)).toBe(0x80);
  });

  it('sizes BARs as firmware does: all ones written read back the size mask with the type bits', () => {
    const { pci } = fresh();
    const size = (device: number, fn: number, register: number) => {
      const old = pci.read(device, fn, register, 4);
      pci.write(device, fn, register, 4, register === 0x30 ? 0xffff_f800 : 0xffff_ffff);
      const mask = pci.read(device, fn, register, 4);
      pci.write(device, fn, register, 4, old);
      return mask;
    };
    // The seabios-post trace: IDE BAR4 FFFFFFF1h, VGA BAR0 FF000008h, BAR2 FFFFF000h, ROM (FFFFF800h written) FFFF0000h.
    expect([size(1, 1, 0x20), size(2, 0, 0x10), size(2, 0, 0x18), size(2, 0, 0x30), size(2, 0, 0x14)]).toEqual([0xffff_fff1, 0xff00_0008, 0xffff_f000, 0xffff_0000, 0]);
    expect([size(0, 0, 0x10), size(1, 0, 0x30), size(1, 3, 0x10)]).toEqual([0, 0, 0]);
  });

  it('keeps read-only bits, clears status bits written with 1 only where they are set, and counts writes to read-only bits', () => {
    const { host, pci } = fresh();
    pci.write(1, 1, 0x00, 4, 0);
    expect(pci.read(1, 1, 0x00, 4)).toBe(0x7010_8086);
    pci.write(1, 1, 0x04, 4, 0xffff_ffff); // command and status in one dword
    expect(pci.read(1, 1, 0x04, 4)).toBe(0x0280_0507);
    expect(host.anomalies().readOnlyBitsWritten).toBe(2);
  });
});

describe('odd accesses never throw', () => {
  it('answers an unknown region, offset or size with all ones and counts it', () => {
    const { host } = fresh();
    expect(host.read('nothing', 0, 4)).toBe(0xffff_ffff);
    expect(host.read('config-data', 7, 1)).toBe(0xff);
    expect(host.read('config-data', 0, 3 as 1)).toBe(0xff);
    host.write('config-data', -1, 4, 0);
    host.write('config-address', 0, 4, Number.NaN);
    expect(host.read('config-address', 0, 4)).toBe(0);
    expect(host.anomalies().unacceptedAccesses).toBe(4);
  });
});
