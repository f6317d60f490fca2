// The ACPI tables fw_cfg hands firmware, held to the ACPI specification (6.4) and the linker/loader's documented
// commands — not to the code that builds them: the loader script is run here by a loader of the test's own (the
// semantics QEMU's bios-linker-loader interface documents), at addresses a firmware might pick, then the tables are
// walked from the RSDP as an OS walks them; the DSDT's AML is read by a reader of the test's own (ACPI §20's
// grammar for the terms used), as SeaBIOS's scan and an OS's interpreter read it.
import { createTestContext } from '@splitvisor/device-testkit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AcpiBoard, AcpiPcConfig } from '../src/index.ts';
import { AcpiFile, DmaControl, E820Type, FwCfg, FwCfgKey, LOADER_ENTRY_BYTES, LoaderCommand, LoaderZone, acpiTables, qemuPcItems, tableLoaderFile } from '../src/index.ts';
import { amlInteger, amlString, eisaId, nameSeg, nameString, pkgLength } from '../src/acpi/aml.ts';
import { ioResource, irqResource, memoryWindow } from '../src/acpi/resources.ts';

/** The PC board of QEMU's pc machine (and this project's): the facts vmm gives, written out. */
const BOARD: AcpiBoard = {
  localApicAddress: 0xfee0_0000,
  ioApic: { id: 0, address: 0xfec0_0000, gsiBase: 0 },
  levelIrqs: [9, 5, 10, 11],
  pm: { pm1aEvent: 0x600, pm1aControl: 0x604, pmTimer: 0x608, pmTimer32: false, sciIrq: 9, powerButton: false },
  smiCommand: { port: 0xb2, acpiEnable: 0xf1, acpiDisable: 0xf0 },
  resetRegister: { port: 0xcf9, value: 0x06 },
  rtcCentury: 0x32,
  i8042: true,
  hpet: { address: 0xfed0_0000, length: 0x400, eventTimerBlockId: 0x8086_a201, minimumTick: 128 },
  dsdt: {
    pciConfigPorts: { base: 0xcf8, length: 8 },
    pciMemoryWindows: [{ base: 0xa_0000, length: 0x2_0000, cacheable: true }, { base: 0x200_0000, length: 0xfec0_0000 - 0x200_0000, cacheable: false }],
    isaBridgeAddress: 0x0001_0000,
    isaDevices: [
      { name: 'KBD', hid: 'PNP0303', ports: [{ base: 0x60, length: 1 }, { base: 0x64, length: 1 }], irqs: [1] },
      { name: 'MOU', hid: 'PNP0F13', ports: [], irqs: [12] },
      { name: 'FDC0', hid: 'PNP0700', ports: [{ base: 0x3f0, length: 6 }, { base: 0x3f7, length: 1 }], irqs: [6], dmaChannels: [2] },
      { name: 'LPT1', hid: 'PNP0400', ports: [{ base: 0x378, length: 3 }], irqs: [7] },
      { name: 'COM1', hid: 'PNP0501', uid: 1, ports: [{ base: 0x3f8, length: 8 }], irqs: [4] },
      { name: 'RTC', hid: 'PNP0B00', ports: [{ base: 0x70, length: 2 }], irqs: [8] },
    ],
  },
};
const PC: AcpiPcConfig = { ...BOARD, cpus: 2, irq0Override: true };

const u8 = (b: Uint8Array, at: number) => b[at] ?? 0;
const u16 = (b: Uint8Array, at: number) => u8(b, at) | (u8(b, at + 1) << 8);
const u32 = (b: Uint8Array, at: number) => (u16(b, at) | (u16(b, at + 2) << 16)) >>> 0;
const u64 = (b: Uint8Array, at: number) => u32(b, at) + u32(b, at + 4) * 2 ** 32;
const ascii = (b: Uint8Array, at: number, n: number) => String.fromCharCode(...b.subarray(at, at + n));
const sum = (b: Uint8Array) => b.reduce((s, x) => (s + x) & 0xff, 0);

// --- the loader, as its interface documents it -------------------------------------------------------------------

type Loaded = Map<string, { address: number; bytes: Uint8Array }>;

/** Runs `etc/table-loader` over the files, putting each ALLOCATE at the next `align`ed address of its zone. */
function load(files: Readonly<Record<string, Uint8Array>>, zones: { high: number; fseg: number }): Loaded {
  const script = files[AcpiFile.LOADER] ?? new Uint8Array(0);
  expect(script.length % LOADER_ENTRY_BYTES).toBe(0);
  const loaded: Loaded = new Map();
  const next = { ...zones };
  const name = (entry: Uint8Array, at: number) => ascii(entry, at, 56).replace(/\0+$/, '');
  for (let at = 0; at < script.length; at += LOADER_ENTRY_BYTES) {
    const entry = script.subarray(at, at + LOADER_ENTRY_BYTES);
    switch (u32(entry, 0)) {
      case LoaderCommand.ALLOCATE: {
        const file = name(entry, 4);
        const align = u32(entry, 60);
        const zone = u8(entry, 64) === LoaderZone.HIGH ? 'high' : 'fseg';
        expect(align & (align - 1)).toBe(0);
        expect(loaded.has(file)).toBe(false); // once per file
        const address = Math.ceil(next[zone] / align) * align;
        const bytes = (files[file] ?? new Uint8Array(0)).slice();
        next[zone] = address + bytes.length;
        loaded.set(file, { address, bytes });
        break;
      }
      case LoaderCommand.ADD_POINTER: {
        const dest = loaded.get(name(entry, 4));
        const src = loaded.get(name(entry, 60));
        const offset = u32(entry, 116);
        const size = u8(entry, 120);
        if (dest === undefined || src === undefined) throw new Error('a pointer names a file not yet allocated');
        expect([1, 2, 4, 8]).toContain(size);
        expect(offset + size).toBeLessThanOrEqual(dest.bytes.length);
        let value = 0n;
        for (let i = size - 1; i >= 0; i--) value = (value << 8n) | BigInt(u8(dest.bytes, offset + i));
        value = (value + BigInt(src.address)) % (1n << BigInt(8 * size));
        for (let i = 0; i < size; i++) dest.bytes[offset + i] = Number((value >> BigInt(8 * i)) & 0xffn);
        break;
      }
      case LoaderCommand.ADD_CHECKSUM: {
        const file = loaded.get(name(entry, 4));
        if (file === undefined) throw new Error('a checksum names a file not yet allocated');
        const [offset, start, length] = [u32(entry, 60), u32(entry, 64), u32(entry, 68)];
        expect(offset).toBeGreaterThanOrEqual(start);
        expect(start + length).toBeLessThanOrEqual(file.bytes.length);
        file.bytes[offset] = (u8(file.bytes, offset) - sum(file.bytes.subarray(start, start + length)) + 0x100) & 0xff;
        break;
      }
      default:
        throw new Error(`command ${u32(entry, 0)}`);
    }
  }
  return loaded;
}

/** Guest memory as the loaded files: `length` bytes at `address`, which must lie in one of them. */
function reader(loaded: Loaded) {
  return (address: number, length: number): Uint8Array => {
    for (const { address: base, bytes } of loaded.values()) {
      if (address >= base && address + length <= base + bytes.length) return bytes.subarray(address - base, address - base + length);
    }
    throw new Error(`nothing loaded at ${address.toString(16)}h`);
  };
}

/** Walks the tables from the RSDP, as an OS does: every table, by signature, each checked as it is reached. */
function walk(loaded: Loaded) {
  const mem = reader(loaded);
  const rsdp = loaded.get(AcpiFile.RSDP);
  if (rsdp === undefined) throw new Error('no RSDP loaded');
  expect(rsdp.address % 16).toBe(0); // a 16-byte boundary (§5.2.5.1)
  expect(rsdp.address).toBeGreaterThanOrEqual(0xe_0000);
  expect(rsdp.address + 20).toBeLessThanOrEqual(0x10_0000);
  const pointer = mem(rsdp.address, 20);
  expect(ascii(pointer, 0, 8)).toBe('RSD PTR ');
  expect(sum(pointer)).toBe(0);
  expect(pointer[15]).toBe(0); // ACPI 1.0: an RSDT, no XSDT
  const table = (address: number) => {
    const length = u32(mem(address, 8), 4);
    const bytes = mem(address, length);
    expect(sum(bytes), ascii(bytes, 0, 4)).toBe(0);
    return bytes;
  };
  const rsdt = table(u32(pointer, 16));
  expect(ascii(rsdt, 0, 4)).toBe('RSDT');
  const tables = new Map<string, { address: number; bytes: Uint8Array }>();
  for (let at = 36; at < rsdt.length; at += 4) {
    const address = u32(rsdt, at);
    const bytes = table(address);
    tables.set(ascii(bytes, 0, 4), { address, bytes });
  }
  const fadt = tables.get('FACP')?.bytes;
  if (fadt === undefined) throw new Error('no FADT');
  const facsAddress = u32(fadt, 36);
  expect(facsAddress % 64).toBe(0); // §5.2.10
  const facs = mem(facsAddress, 64);
  expect([ascii(facs, 0, 4), u32(facs, 4)]).toEqual(['FACS', 64]);
  const dsdtAddress = u32(fadt, 40);
  expect(u64(fadt, 140)).toBe(dsdtAddress); // X_DSDT
  const dsdt = table(dsdtAddress);
  expect(ascii(dsdt, 0, 4)).toBe('DSDT');
  return { rsdt, tables, fadt, facs, dsdt, rsdp: pointer };
}

const filesOf = (config: AcpiPcConfig): Readonly<Record<string, Uint8Array>> => {
  const { rsdp, tables, loader } = acpiTables(config);
  return { [AcpiFile.RSDP]: rsdp, [AcpiFile.TABLES]: tables, [AcpiFile.LOADER]: loader };
};

// --- a reader of the AML terms used, by ACPI §20.2 ------------------------------------------------------------------

interface AmlDevice {
  readonly path: string;
  readonly names: Map<string, number | string | Uint8Array>;
}

function readPkgLength(b: Uint8Array, at: number): { length: number; size: number } {
  const lead = u8(b, at);
  const follow = lead >> 6;
  if (follow === 0) return { length: lead & 0x3f, size: 1 };
  let length = lead & 0x0f;
  for (let i = 0; i < follow; i++) length += u8(b, at + 1 + i) * 2 ** (4 + 8 * i);
  return { length, size: 1 + follow };
}

function readNameString(b: Uint8Array, at: number): { name: string; size: number } {
  let p = at;
  let prefix = '';
  if (b[p] === 0x5c) { prefix = '\\'; p++; }
  while (b[p] === 0x5e) { prefix += '^'; p++; }
  let count = 1;
  if (b[p] === 0x2e) { count = 2; p++; } else if (b[p] === 0x2f) { count = u8(b, p + 1); p += 2; }
  const segments = Array.from({ length: count }, (_, i) => ascii(b, p + 4 * i, 4).replace(/_+$/, ''));
  return { name: prefix + segments.join('.'), size: p + 4 * count - at };
}

/** A data object: an integer, a string or a buffer's bytes. */
function readData(b: Uint8Array, at: number): { value: number | string | Uint8Array; size: number } {
  const op = u8(b, at);
  if (op === 0x00 || op === 0x01) return { value: op, size: 1 };
  if (op === 0x0a) return { value: u8(b, at + 1), size: 2 };
  if (op === 0x0b) return { value: u16(b, at + 1), size: 3 };
  if (op === 0x0c) return { value: u32(b, at + 1), size: 5 };
  if (op === 0x0d) {
    const end = b.indexOf(0, at + 1);
    return { value: ascii(b, at + 1, end - at - 1), size: end - at + 1 };
  }
  if (op === 0x11) {
    const pkg = readPkgLength(b, at + 1);
    const count = readData(b, at + 1 + pkg.size);
    const start = at + 1 + pkg.size + count.size;
    expect(start + (count.value as number)).toBe(at + 1 + pkg.length);
    return { value: b.slice(start, start + (count.value as number)), size: 1 + pkg.length };
  }
  throw new Error(`data object ${op.toString(16)}h at ${at}`);
}

/** The devices in a term list, with their paths and names; throws on a term the DSDT should not hold. */
function readTerms(b: Uint8Array, from: number, to: number, scope: string, devices: AmlDevice[], current: AmlDevice | null): void {
  let at = from;
  while (at < to) {
    const op = u8(b, at);
    if (op === 0x08) {
      const name = readNameString(b, at + 1);
      const data = readData(b, at + 1 + name.size);
      if (current === null) throw new Error(`Name ${name.name} outside a device`);
      current.names.set(name.name, data.value);
      at += 1 + name.size + data.size;
    } else if (op === 0x10 || (op === 0x5b && b[at + 1] === 0x82)) {
      const start = op === 0x10 ? at + 1 : at + 2;
      const pkg = readPkgLength(b, start);
      const name = readNameString(b, start + pkg.size);
      const path = name.name.startsWith('\\') ? name.name : `${scope}.${name.name}`;
      const device = op === 0x10 ? null : { path, names: new Map() };
      if (device !== null) devices.push(device);
      readTerms(b, start + pkg.size + name.size, start + pkg.length, path, devices, device);
      at = start + pkg.length;
    } else {
      throw new Error(`term ${op.toString(16)}h at ${at}`);
    }
  }
  expect(at).toBe(to);
}

function devicesOf(dsdt: Uint8Array): AmlDevice[] {
  const devices: AmlDevice[] = [];
  readTerms(dsdt, 36, dsdt.length, '', devices, null);
  return devices;
}

const eisaText = (value: number) => {
  const vendor = ((value & 0xff) << 8) | ((value >>> 8) & 0xff);
  const letters = [10, 5, 0].map((shift) => String.fromCharCode(((vendor >> shift) & 0x1f) + 0x40)).join('');
  const product = (((value >>> 16) & 0xff) << 8) | (value >>> 24);
  return letters + product.toString(16).toUpperCase().padStart(4, '0');
};

/** A _CRS buffer's descriptors, by ACPI §6.4. */
function resourcesOf(crs: Uint8Array) {
  const out: string[] = [];
  let at = 0;
  for (;;) {
    const tag = u8(crs, at);
    if ((tag & 0x80) === 0) {
      const length = tag & 0x07;
      const item = (tag >> 3) & 0x0f;
      if (item === 0x0f) {
        expect(at + 2).toBe(crs.length); // the End Tag closes the buffer
        return out;
      }
      if (item === 0x04) out.push(`irq ${[...Array(16).keys()].filter((i) => (u16(crs, at + 1) >> i) & 1).join(',')}`);
      else if (item === 0x05) out.push(`dma ${[...Array(8).keys()].filter((i) => (u8(crs, at + 1) >> i) & 1).join(',')} flags ${u8(crs, at + 2)}`);
      else if (item === 0x08) {
        expect(u16(crs, at + 2)).toBe(u16(crs, at + 4)); // fixed: minimum = maximum
        out.push(`io ${u16(crs, at + 2).toString(16)}+${u8(crs, at + 7)} decode${u8(crs, at + 1) & 1 ? 16 : 10}`);
      } else throw new Error(`small item ${item}`);
      at += 1 + length;
    } else {
      const length = u16(crs, at + 1);
      const item = tag & 0x7f;
      if (item === 0x06) out.push(`mem32 ${u32(crs, at + 4).toString(16)}+${u32(crs, at + 8).toString(16)} ${u8(crs, at + 3) & 1 ? 'rw' : 'ro'}`);
      else if (item === 0x08) {
        const [min, max, len] = [u16(crs, at + 8), u16(crs, at + 10), u16(crs, at + 14)];
        expect(max - min + 1).toBe(len);
        out.push(`word type ${u8(crs, at + 3)} ${min.toString(16)}-${max.toString(16)} flags ${u8(crs, at + 4)}/${u8(crs, at + 5)}`);
      } else if (item === 0x07) {
        const [min, max, len] = [u32(crs, at + 10), u32(crs, at + 14), u32(crs, at + 22)];
        expect(max - min + 1).toBe(len);
        out.push(`dword type ${u8(crs, at + 3)} ${min.toString(16)}-${max.toString(16)} flags ${u8(crs, at + 4)}/${u8(crs, at + 5)}`);
      } else throw new Error(`large item ${item}`);
      at += 3 + length;
    }
  }
}

// --- the tests ------------------------------------------------------------------------------------------------------

describe('the AML encoder (ACPI 6.4 §20.2)', () => {
  it('encodes a PkgLength in 1 to 4 bytes, counting its own bytes, at every boundary', () => {
    for (const content of [0, 1, 61, 62, 63, 64, 0xffc, 0xffd, 0xffe, 0xfffff - 3, 0xfffff - 2, 0xfffff, 0x0fff_fff0]) {
      const bytes = pkgLength(content);
      const { length, size } = readPkgLength(bytes, 0);
      expect([size, length], `${content}`).toEqual([bytes.length, content + bytes.length]);
      if (bytes.length > 1) expect(u8(bytes, 0) & 0x30).toBe(0); // bits 5–4 reserved in the multi-byte form
    }
    expect([...pkgLength(62)]).toEqual([63]);
    expect([...pkgLength(63)]).toEqual([0x41, 0x04]); // 65 = 41h: nibble 1, then 4
    expect(() => pkgLength(0x1000_0000)).toThrow(/at most/);
  });

  it('writes names: segments padded with _, the root and parent prefixes, dual and multi segment names', () => {
    expect(ascii(nameSeg('KBD'), 0, 4)).toBe('KBD_');
    expect([...nameString('\\_SB.PCI0')]).toEqual([0x5c, 0x2e, ...Buffer.from('_SB_PCI0')]);
    expect([...nameString('^^A.B.C')]).toEqual([0x5e, 0x5e, 0x2f, 3, ...Buffer.from('A___B___C___')]);
    expect(() => nameSeg('1ABC')).toThrow(/segment/);
    expect(() => nameSeg('ABCDE')).toThrow(/segment/);
    expect(() => nameString('\\')).toThrow(/no name segment/);
  });

  it('writes integers in their shortest form (never OnesOp, which SeaBIOS does not read), strings, and EISA IDs as DWords', () => {
    expect([0, 1, 2, 0xff, 0x100, 0xffff, 0x1_0000, 0xffff_ffff].map((v) => [...amlInteger(v)])).toEqual([
      [0x00], [0x01], [0x0a, 2], [0x0a, 0xff], [0x0b, 0, 1], [0x0b, 0xff, 0xff], [0x0c, 0, 0, 1, 0], [0x0c, 0xff, 0xff, 0xff, 0xff],
    ]);
    expect(() => amlInteger(2 ** 32)).toThrow(/integer/);
    expect([...amlString('PNP')]).toEqual([0x0d, 0x50, 0x4e, 0x50, 0]);
    // ASL EISAID("PNP0303"): 'P' 'N' 'P' in five bits each, then the product, big-endian — what SeaBIOS compares.
    expect([...eisaId('PNP0303')]).toEqual([0x0c, 0x41, 0xd0, 0x03, 0x03]);
    expect([...eisaId('PNP0A03')]).toEqual([0x0c, 0x41, 0xd0, 0x0a, 0x03]);
    expect(eisaText(u32(eisaId('PNP0F13'), 1))).toBe('PNP0F13');
    expect(() => eisaId('pnp0303')).toThrow(/EISA ID/);
  });

  it('writes resource descriptors with their spec tags and refuses ranges they cannot hold', () => {
    expect([...ioResource(0x3f8, 8)]).toEqual([0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08]);
    expect([...irqResource([1, 12])]).toEqual([0x22, 0x02, 0x10]);
    expect(() => ioResource(0xfffe, 4)).toThrow(/I\/O ports/);
    expect(() => ioResource(0x100, 256)).toThrow(/1 to 255/);
    expect(() => irqResource([16])).toThrow(/ISA IRQ/);
    expect(() => memoryWindow(2, 1, false)).toThrow(/memory window/);
  });
});

describe('the table loader script (etc/table-loader)', () => {
  it('lays each command in 128 bytes at the documented offsets, names NUL-padded in 56', () => {
    const script = tableLoaderFile([
      { command: 'allocate', file: 'etc/acpi/tables', align: 64, zone: 'high' },
      { command: 'add-pointer', destFile: 'a', srcFile: 'bb', offset: 0x1234, size: 8 },
      { command: 'add-checksum', file: 'c', offset: 9, start: 0, length: 0x24 },
    ]);
    expect(script.length).toBe(3 * 128);
    expect([u32(script, 0), ascii(script, 4, 16), u8(script, 19), u32(script, 60), u8(script, 64)]).toEqual([1, 'etc/acpi/tables\0', 0, 64, LoaderZone.HIGH]);
    expect([u32(script, 128), ascii(script, 132, 2), ascii(script, 188, 3), u32(script, 244), u8(script, 248)]).toEqual([2, 'a\0', 'bb\0', 0x1234, 8]);
    expect([u32(script, 256), ascii(script, 260, 2), u32(script, 316), u32(script, 320), u32(script, 324)]).toEqual([3, 'c\0', 9, 0, 0x24]);
    expect(() => tableLoaderFile([{ command: 'allocate', file: 'x', align: 48, zone: 'fseg' }])).toThrow(/power of 2/);
    expect(() => tableLoaderFile([{ command: 'allocate', file: 'x'.repeat(56), align: 16, zone: 'fseg' }])).toThrow(/1 to 55/);
  });

  it("allocates the tables high and 64-byte aligned, the RSDP in the F-segment on 16 bytes, each before it is named (QEMU's pc order)", () => {
    const script = acpiTables(PC).loader;
    const commands = Array.from({ length: script.length / 128 }, (_, i) => u32(script, 128 * i));
    expect(commands[0]).toBe(LoaderCommand.ALLOCATE);
    expect([ascii(script, 4, 16), u32(script, 60), u8(script, 64)]).toEqual(['etc/acpi/tables\0', 64, LoaderZone.HIGH]);
    const rsdpAt = 128 * commands.lastIndexOf(LoaderCommand.ALLOCATE);
    expect([ascii(script, rsdpAt + 4, 14), u32(script, rsdpAt + 60), u8(script, rsdpAt + 64)]).toEqual(['etc/acpi/rsdp\0', 16, LoaderZone.FSEG]);
    expect(commands.slice(-2)).toEqual([LoaderCommand.ADD_POINTER, LoaderCommand.ADD_CHECKSUM]); // the RSDT's address, then the RSDP's checksum
  });
});

describe('the tables, loaded and walked from the RSDP', () => {
  it('checks out wherever the firmware puts them: every checksum 0, every pointer at its table', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0x10_0000 / 64, max: 0xfeb0_0000 / 64 }), fc.integer({ min: 0xe_0000 / 16, max: 0xf_ff00 / 16 }),
      (high, fseg) => {
        const { tables, rsdt } = walk(load(filesOf(PC), { high: high * 64, fseg: fseg * 16 }));
        expect([...tables.keys()]).toEqual(['FACP', 'APIC', 'HPET']);
        expect(u32(rsdt, 4)).toBe(36 + 4 * 3);
      },
    ), { numRuns: 200 });
  });

  it('has a revision-3 FADT with the PIIX4 PM block at 600h, the SCI on irq 9, SMI_CMD B2h, the reset register CF9h', () => {
    const { fadt } = walk(load(filesOf(PC), { high: 0x1ff_0000, fseg: 0xf_5a40 }));
    expect([u32(fadt, 4), u8(fadt, 8)]).toEqual([244, 3]);
    expect({
      sci: u16(fadt, 46), smiCmd: u32(fadt, 48), enable: u8(fadt, 52), disable: u8(fadt, 53),
      pm1aEvt: u32(fadt, 56), pm1bEvt: u32(fadt, 60), pm1aCnt: u32(fadt, 64), pm2Cnt: u32(fadt, 72), pmTmr: u32(fadt, 76), gpe0: u32(fadt, 80),
      lengths: [u8(fadt, 88), u8(fadt, 89), u8(fadt, 90), u8(fadt, 91)], century: u8(fadt, 108), bootArch: u16(fadt, 109),
    }).toEqual({
      sci: 9, smiCmd: 0xb2, enable: 0xf1, disable: 0xf0,
      pm1aEvt: 0x600, pm1bEvt: 0, pm1aCnt: 0x604, pm2Cnt: 0, pmTmr: 0x608, gpe0: 0,
      lengths: [4, 2, 0, 4], century: 0x32, bootArch: 0x3, // legacy devices, an 8042
    });
    expect(u16(fadt, 96)).toBeGreaterThan(100); // no C2
    expect(u16(fadt, 98)).toBeGreaterThan(1000); // no C3
    const flags = u32(fadt, 112);
    expect([flags & 1, (flags >> 2) & 1, (flags >> 8) & 1, (flags >> 10) & 1]).toEqual([1, 1, 0, 1]); // WBINVD, C1, a 24-bit timer, RESET_REG
    // RESET_REG: system I/O, 8 bits at CF9h; the value 06h. SeaBIOS's acpi_set_reset_reg wants exactly such a register.
    expect([u8(fadt, 116), u8(fadt, 117), u8(fadt, 118), u64(fadt, 120), u8(fadt, 128)]).toEqual([1, 8, 0, 0xcf9, 6]);
    // The X_ blocks: system I/O, 32, 16 and 32 bits wide.
    expect([148, 172, 208].map((at) => [u8(fadt, at), u8(fadt, at + 1), u64(fadt, at + 4)])).toEqual([[1, 32, 0x600], [1, 16, 0x604], [1, 32, 0x608]]);
  });

  it('has a MADT with every CPU, the I/O APIC at FEC00000h, irq 0 on GSI 2 and the shared IRQs level-triggered', () => {
    const { tables } = walk(load(filesOf({ ...PC, cpus: 3 }), { high: 0x1ff_0000, fseg: 0xf_5a40 }));
    const madt = tables.get('APIC')?.bytes ?? new Uint8Array(0);
    expect([u32(madt, 36), u32(madt, 40)]).toEqual([0xfee0_0000, 1]); // PCAT_COMPAT
    const entries: number[][] = [];
    for (let at = 44; at < madt.length; at += u8(madt, at + 1)) {
      const type = u8(madt, at);
      if (type === 0) entries.push([type, u8(madt, at + 2), u8(madt, at + 3), u32(madt, at + 4)]);
      else if (type === 1) entries.push([type, u8(madt, at + 2), u32(madt, at + 4), u32(madt, at + 8)]);
      else if (type === 2) entries.push([type, u8(madt, at + 2), u8(madt, at + 3), u32(madt, at + 4), u16(madt, at + 8)]);
      else if (type === 4) entries.push([type, u8(madt, at + 2), u16(madt, at + 3), u8(madt, at + 5)]);
      else throw new Error(`MADT entry type ${type}`);
    }
    expect(entries).toEqual([
      [0, 0, 0, 1], [0, 1, 1, 1], [0, 2, 2, 1], // processor UID, APIC ID, enabled
      [1, 0, 0xfec0_0000, 0],
      [2, 0, 0, 2, 0], // ISA irq 0 → GSI 2, as the bus says
      [2, 0, 5, 5, 0xd], [2, 0, 9, 9, 0xd], [2, 0, 10, 10, 0xd], [2, 0, 11, 11, 0xd], // active high, level
      [4, 0xff, 0, 1], // NMI on every processor's LINT1
    ]);
    const noOverride = walk(load(filesOf({ ...PC, irq0Override: false, levelIrqs: [] }), { high: 0x1ff_0000, fseg: 0xf_5a40 })).tables.get('APIC')?.bytes;
    expect(noOverride?.length).toBe(44 + 8 * 2 + 12 + 6);
  });

  it('has an HPET table for the block at FED00000h, and none without an HPET', () => {
    const { tables } = walk(load(filesOf(PC), { high: 0x1ff_0000, fseg: 0xf_5a40 }));
    const hpet = tables.get('HPET')?.bytes ?? new Uint8Array(0);
    expect([u32(hpet, 4), u32(hpet, 36), u8(hpet, 40), u8(hpet, 41), u64(hpet, 44), u8(hpet, 52), u16(hpet, 53)]).toEqual([56, 0x8086_a201, 0, 64, 0xfed0_0000, 0, 128]);
    const without = walk(load(filesOf({ ...PC, hpet: null }), { high: 0x1ff_0000, fseg: 0xf_5a40 }));
    expect([...without.tables.keys()]).toEqual(['FACP', 'APIC']);
    expect(devicesOf(without.dsdt).map((d) => d.path)).not.toContain('\\_SB.HPET');
  });

  it('has a DSDT describing PCI0 and, behind its ISA bridge, every ISA device with its resources', () => {
    const { dsdt } = walk(load(filesOf(PC), { high: 0x1ff_0000, fseg: 0xf_5a40 }));
    expect(u8(dsdt, 8)).toBe(1); // revision 1: 32-bit integers
    const devices = devicesOf(dsdt).map((d) => ({
      path: d.path,
      hid: typeof d.names.get('_HID') === 'number' ? eisaText(d.names.get('_HID') as number) : undefined,
      uid: d.names.get('_UID'),
      adr: d.names.get('_ADR'),
      crs: d.names.has('_CRS') ? resourcesOf(d.names.get('_CRS') as Uint8Array) : undefined,
    }));
    expect(devices).toEqual([
      {
        path: '\\_SB.PCI0', hid: 'PNP0A03', uid: 0, adr: undefined, crs: [
          'word type 2 0-ff flags 12/0', 'io cf8+8 decode16', 'word type 1 0-cf7 flags 12/3', 'word type 1 d00-ffff flags 12/3',
          'dword type 0 a0000-bffff flags 12/3', 'dword type 0 2000000-febfffff flags 12/1',
        ],
      },
      { path: '\\_SB.PCI0.ISA', hid: undefined, uid: undefined, adr: 0x0001_0000, crs: undefined },
      { path: '\\_SB.PCI0.ISA.KBD', hid: 'PNP0303', uid: undefined, adr: undefined, crs: ['io 60+1 decode16', 'io 64+1 decode16', 'irq 1'] },
      { path: '\\_SB.PCI0.ISA.MOU', hid: 'PNP0F13', uid: undefined, adr: undefined, crs: ['irq 12'] },
      { path: '\\_SB.PCI0.ISA.FDC0', hid: 'PNP0700', uid: undefined, adr: undefined, crs: ['io 3f0+6 decode16', 'io 3f7+1 decode16', 'irq 6', 'dma 2 flags 0'] },
      { path: '\\_SB.PCI0.ISA.LPT1', hid: 'PNP0400', uid: undefined, adr: undefined, crs: ['io 378+3 decode16', 'irq 7'] },
      { path: '\\_SB.PCI0.ISA.COM1', hid: 'PNP0501', uid: 1, adr: undefined, crs: ['io 3f8+8 decode16', 'irq 4'] },
      { path: '\\_SB.PCI0.ISA.RTC', hid: 'PNP0B00', uid: undefined, adr: undefined, crs: ['io 70+2 decode16', 'irq 8'] },
      { path: '\\_SB.HPET', hid: 'PNP0103', uid: 0, adr: undefined, crs: ['mem32 fed00000+400 rw'] },
    ]);
  });

  it("names the keyboard as SeaBIOS's PS/2 setup looks for it: _HID's NameOp, then 0Ch 41h D0h 03h 03h, and no _STA", () => {
    const { dsdt } = walk(load(filesOf(PC), { high: 0x1ff_0000, fseg: 0xf_5a40 }));
    const hid = [0x08, ...Buffer.from('_HID'), 0x0c, 0x41, 0xd0, 0x03, 0x03];
    const found = dsdt.findIndex((_, i) => hid.every((b, j) => dsdt[i + j] === b));
    expect(found).toBeGreaterThan(0);
    expect(Buffer.from(dsdt).includes(Buffer.from('_STA'))).toBe(false);
    // Without a keyboard, no PNP0303: SeaBIOS then skips the PS/2 port ("ACPI: no PS/2 keyboard present").
    const bare = walk(load(filesOf({ ...PC, i8042: false, dsdt: { ...PC.dsdt, isaDevices: [] } }), { high: 0x1ff_0000, fseg: 0xf_5a40 }));
    expect(devicesOf(bare.dsdt).map((d) => d.path)).toEqual(['\\_SB.PCI0', '\\_SB.PCI0.ISA', '\\_SB.HPET']);
    expect(u16(bare.fadt, 109)).toBe(0);
  });

  it("carries this project's OEM and creator, not QEMU's or a BIOS vendor's", () => {
    const { rsdp, rsdt, dsdt } = walk(load(filesOf(PC), { high: 0x1ff_0000, fseg: 0xf_5a40 }));
    expect([ascii(rsdp, 9, 6), ascii(rsdt, 10, 6), ascii(dsdt, 16, 8), ascii(dsdt, 28, 4)]).toEqual(['SPLITV', 'SPLITV', 'SPLITVPC', 'SPLV']);
  });
});

describe('fw_cfg serving the tables', () => {
  it('lists etc/acpi/rsdp, etc/acpi/tables and etc/table-loader among its files, sorted, and reads them by DMA', () => {
    const context = createTestContext();
    const device = new FwCfg(context, qemuPcItems({
      ramBytes: 32 << 20, cpus: 2, e820: [{ address: 0, length: 32 << 20, type: E820Type.RAM }], bootOrder: [], noGraphic: false, irq0Override: true, acpi: BOARD,
    }));
    const directory = device.itemAt(FwCfgKey.FILE_DIR) ?? new Uint8Array(0);
    const count = new DataView(directory.buffer).getUint32(0);
    const entries = Array.from({ length: count }, (_, i) => {
      const view = new DataView(directory.buffer, 4 + 64 * i, 64);
      return { size: view.getUint32(0), key: view.getUint16(4), name: ascii(directory, 4 + 64 * i + 8, 56).replace(/\0+$/, '') };
    });
    expect(entries.map((e) => e.name)).toEqual(['bootorder', 'etc/acpi/rsdp', 'etc/acpi/tables', 'etc/boot-fail-wait', 'etc/e820', 'etc/table-loader']);
    const expected = filesOf(PC);
    for (const e of entries.filter((e) => e.name in expected)) {
      // SeaBIOS's qemu_cfg_read_entry: select and read in one DMA operation, into RAM at 8000h.
      const view = new DataView(context.ram.buffer);
      view.setUint32(0x7000, (e.key << 16) | DmaControl.SELECT | DmaControl.READ);
      view.setUint32(0x7004, e.size);
      view.setUint32(0x7008, 0);
      view.setUint32(0x700c, 0x8000);
      device.write('dma-address', 4, 4, new DataView(Uint32Array.of(0x7000).buffer).getUint32(0, false));
      expect(view.getUint32(0x7000), e.name).toBe(0);
      expect(context.ram.slice(0x8000, 0x8000 + e.size), e.name).toEqual(expected[e.name]);
    }
    expect(entries.find((e) => e.name === 'etc/acpi/rsdp')?.size).toBe(20);
  });

  it('has none of them without the board (SeaBIOS then builds its own tables and keeps its PM base)', () => {
    const items = qemuPcItems({ ramBytes: 1 << 20, cpus: 1, e820: [], bootOrder: [], noGraphic: false, irq0Override: true });
    expect(items.files?.map((f) => f.name)).toEqual(['bootorder', 'etc/boot-fail-wait', 'etc/e820']);
  });
});
