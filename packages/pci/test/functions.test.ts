// Each function's configuration space against QEMU 7.2's, byte for byte, as measured on the binary through CF8h/CFCh
// (test/fixtures/qemu-7.2-pc-config.json, see its `method`): the power-on values, the writable bits of every byte,
// what writes of A5h everywhere leave, and what a reset then keeps.
import { readFileSync } from 'node:fs';
import { createTestContext } from '@splitvisor/device-testkit';
import { describe, expect, it } from 'vitest';
import type { PciFunctionName } from '../src/index.ts';
import { I440fxPciHost, PCI_FUNCTION_NAMES, expansionRomBytes, expansionRomWindow, pcPciFunctions } from '../src/index.ts';
import { TRACE_OPTIONS, hexBytes, pciDriver } from './pci-driver.ts';

interface Measured {
  readonly device: number;
  readonly function: number;
  readonly powerOn: string;
  readonly writable: string;
  readonly dirtied: string;
  readonly afterReset: string;
}

const fixture = JSON.parse(readFileSync(new URL('fixtures/qemu-7.2-pc-config.json', import.meta.url), 'utf8')) as { functions: Record<PciFunctionName, Measured> };
const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/** Per byte where two spaces differ: `offset: ours/QEMU's`, for a readable failure. */
function differences(ours: Uint8Array, theirs: Uint8Array): string[] {
  const out: string[] = [];
  for (let i = 0; i < 256; i++) if (ours[i] !== theirs[i]) out.push(`${i.toString(16)}: ${(ours[i] ?? 0).toString(16)}/${(theirs[i] ?? 0).toString(16)}`);
  return out;
}

describe('the functions of the pc machine, as QEMU 7.2 presents them', () => {
  it('has the five functions at the addresses QEMU gives them', () => {
    const found = pcPciFunctions(TRACE_OPTIONS).map((f) => [f.name, f.device, f.function]);
    expect(found).toEqual(PCI_FUNCTION_NAMES.map((name) => [name, fixture.functions[name].device, fixture.functions[name].function]));
  });

  it.each(PCI_FUNCTION_NAMES)('%s: every byte at power-on, read through CFCh, is QEMU\'s', (name) => {
    const host = new I440fxPciHost(createTestContext(), TRACE_OPTIONS);
    const pci = pciDriver(host);
    const { device, function: fn, powerOn } = fixture.functions[name];
    const read = Uint8Array.from({ length: 256 }, (_, r) => pci.read(device, fn, r, 1));
    expect(differences(read, hexBytes(powerOn))).toEqual([]);
    expect(hex(host.configSpace(name))).toBe(powerOn);
  });

  it.each(PCI_FUNCTION_NAMES)('%s: the writable bits of every byte are QEMU\'s', (name) => {
    const host = new I440fxPciHost(createTestContext(), TRACE_OPTIONS);
    const pci = pciDriver(host);
    const { device, function: fn, writable } = fixture.functions[name];
    const measured = new Uint8Array(256);
    for (let r = 0; r < 256; r++) {
      const original = pci.read(device, fn, r, 1);
      pci.write(device, fn, r, 1, 0xff);
      const ones = pci.read(device, fn, r, 1);
      pci.write(device, fn, r, 1, 0x00);
      const zeros = pci.read(device, fn, r, 1);
      pci.write(device, fn, r, 1, original);
      measured[r] = ones & ~zeros;
    }
    expect(differences(measured, hexBytes(writable))).toEqual([]);
  });

  it('ends as QEMU does after A5h is written to every byte, and a reset keeps what QEMU keeps', () => {
    const host = new I440fxPciHost(createTestContext(), TRACE_OPTIONS);
    const pci = pciDriver(host);
    for (const name of PCI_FUNCTION_NAMES) {
      const { device, function: fn } = fixture.functions[name];
      for (let r = 4; r < 256; r++) pci.write(device, fn, r, 1, 0xa5);
    }
    for (const name of PCI_FUNCTION_NAMES) expect(differences(host.configSpace(name), hexBytes(fixture.functions[name].dirtied)), name).toEqual([]);
    host.reset();
    for (const name of PCI_FUNCTION_NAMES) expect(differences(host.configSpace(name), hexBytes(fixture.functions[name].afterReset)), name).toEqual([]);
  });

  it('reports the RAM size in DRAMC (57h) in 8 MiB units, at most 255, as QEMU does from -m', () => {
    const dramc = (ramBytes: number) => new I440fxPciHost(createTestContext(), { ramBytes }).configSpace('i440fx')[0x57];
    expect([dramc(128 * 1024 * 1024), dramc(256 * 1024 * 1024), dramc(4096 * 1024 * 1024)]).toEqual([0x10, 0x20, 0xff]);
  });

  it('takes the machine options QEMU takes: no SMM, serial and parallel ports, SMBus base, VGA memory and ROM', () => {
    const host = new I440fxPciHost(createTestContext(), {
      ramBytes: 512 * 1024 * 1024,
      pm: { smm: false, parallelPort: false, com1: true, com2: true, smbusBase: 0x1100 },
      vga: { videoMemoryBytes: 32 * 1024 * 1024, romBytes: 0 },
    });
    const pm = host.configSpace('piix4-pm');
    expect([pm[0x5b], pm[0x5f], pm[0x67], pm[0x90], pm[0x91]]).toEqual([0x02, 0x10, 0x98, 0x01, 0x11]);
    const pci = pciDriver(host);
    pci.write(2, 0, 0x10, 4, 0xffff_ffff);
    pci.write(2, 0, 0x30, 4, 0xffff_ffff);
    expect([pci.read(2, 0, 0x10, 4), pci.read(2, 0, 0x30, 4)]).toEqual([0xfe00_0008, 0]);
    expect(() => new I440fxPciHost(createTestContext(), { ramBytes: 0, vga: { videoMemoryBytes: 3 * 1024 * 1024 } })).toThrow(RangeError);
    expect(() => new I440fxPciHost(createTestContext(), { ramBytes: 0, vga: { romBytes: 1000 } })).toThrow(RangeError);
  });

  it('sizes the std-VGA\'s ROM BAR for an option ROM image: the next power of two, at least 2 KiB, zeros after the image', () => {
    // Debian's vgabios-stdvga.bin is 39936 bytes: QEMU's ROM BAR for it is 64 KiB.
    expect([1, 0x800, 0x801, 39936, 0x1_0000, 0x1_0001, 16 * 1024 * 1024].map(expansionRomBytes)).toEqual([0x800, 0x800, 0x1000, 0x1_0000, 0x1_0000, 0x2_0000, 16 * 1024 * 1024]);
    for (const bad of [0, -1, 1.5, 16 * 1024 * 1024 + 1]) expect(() => expansionRomBytes(bad), String(bad)).toThrow(RangeError);
    const window = expansionRomWindow(Uint8Array.of(0x55, 0xaa, 0x7f));
    expect([window.length, window[0], window[1], window[2], window.subarray(3).every((b) => b === 0)]).toEqual([0x800, 0x55, 0xaa, 0x7f, true]);
    const pci = pciDriver(new I440fxPciHost(createTestContext(), { ramBytes: 0, vga: { romBytes: expansionRomBytes(39936) } }));
    pci.write(2, 0, 0x30, 4, 0xffff_fffe); // SeaBIOS's sizing write (the enable bit clear)
    expect(pci.read(2, 0, 0x30, 4)).toBe(0xffff_0000);
  });
});
