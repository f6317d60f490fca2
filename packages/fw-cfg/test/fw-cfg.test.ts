// fw_cfg through its ports and guest RAM, as SeaBIOS's src/fw/paravirt.c drives it: the traditional interface
// (selector, then data bytes), and the DMA interface (an FWCfgDmaAccess in RAM, its address written big-endian).
import { createTestContext, loadTrace, replayTrace } from '@splitvisor/device-testkit';
import type { TestContext } from '@splitvisor/device-testkit';
import { describe, expect, it } from 'vitest';
import type { FwCfgConfig, FwCfgState, QemuPcConfig } from '../src/index.ts';
import { DmaControl, E820Type, FW_CFG_DMA_SIGNATURE, FwCfg, FwCfgKey, bootOrderFile, e820File, qemuPcItems } from '../src/index.ts';

/** A QEMU pc with 32 MiB and 2 CPUs, a disk then a floppy to boot from. */
const PC_CONFIG: QemuPcConfig = {
  ramBytes: 32 << 20,
  cpus: 2,
  e820: [{ address: 0, length: 32 << 20, type: E820Type.RAM }],
  bootOrder: ['/pci@i0cf8/ide@1,1/drive@0/disk@0', '/isa/fdc@03f0/floppy@0'],
  noGraphic: false,
  irq0Override: true,
};
const PC: FwCfgConfig = qemuPcItems(PC_CONFIG);

/** The guest's side: outw to the selector, inb from the data port, outl of a DMA descriptor's address. */
function guest(device: FwCfg, context: TestContext) {
  const select = (key: number) => { device.write('selector-data', 0, 2, key); };
  const inb = () => device.read('selector-data', 1, 1);
  const bytes = (n: number) => Array.from({ length: n }, inb);
  /** SeaBIOS's qemu_cfg_dma_transfer: the descriptor at `at`, then outl(cpu_to_be32(at), 0x518). */
  const dma = (control: number, length: number, address: number, at = 0x6f3c): number => {
    const view = new DataView(context.ram.buffer);
    view.setUint32(at, control);
    view.setUint32(at + 4, length);
    view.setUint32(at + 8, Math.floor(address / 2 ** 32));
    view.setUint32(at + 12, address >>> 0);
    // The CPU's register holds the address byte-swapped, so that the ports see it big-endian; the bus hands the device that register.
    device.write('dma-address', 4, 4, new DataView(Uint32Array.of(at).buffer).getUint32(0, false));
    return view.getUint32(at);
  };
  const ram = (at: number, n: number) => [...context.ram.subarray(at, at + n)];
  return { select, inb, bytes, dma, ram };
}

const text = (bytes: readonly number[]) => String.fromCharCode(...bytes);
const le = (bytes: readonly number[]) => bytes.reduceRight((v, b) => v * 256 + b, 0);

describe('the traditional interface', () => {
  it('answers SeaBIOS\'s probe: "QEMU" at key 0, then FW_CFG_ID with the traditional and DMA bits', () => {
    const context = createTestContext();
    const { select, bytes } = guest(new FwCfg(context, PC), context);
    select(FwCfgKey.SIGNATURE);
    expect(text(bytes(4))).toBe('QEMU');
    select(FwCfgKey.ID);
    expect(bytes(4)).toEqual([3, 0, 0, 0]);
  });

  it('reads 0 past an item\'s end and for a key with no item, the offset going back to 0 at each select', () => {
    const context = createTestContext();
    const device = new FwCfg(context, PC);
    const { select, bytes, inb } = guest(device, context);
    select(FwCfgKey.SIGNATURE);
    expect(bytes(6)).toEqual([0x51, 0x45, 0x4d, 0x55, 0, 0]);
    expect(device.getState()).toMatchObject({ selector: 0, offset: 4 }); // it stops at the end
    select(FwCfgKey.NUMA); // QEMU's would be all zeros: none here, the same bytes
    expect(bytes(8)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    select(FwCfgKey.SIGNATURE);
    expect(inb()).toBe(0x51);
  });

  it('takes a byte read at either port as a data read, and ignores a byte written (QEMU 2.4 on), counting it', () => {
    const context = createTestContext();
    const device = new FwCfg(context, PC);
    const { select } = guest(device, context);
    select(FwCfgKey.SIGNATURE);
    expect(device.read('selector-data', 0, 1)).toBe(0x51);
    device.write('selector-data', 1, 1, 0x41);
    device.write('selector-data', 0, 1, 0x01); // a byte to the selector port is a data write too
    expect(device.read('selector-data', 1, 1)).toBe(0x45);
    expect(device.read('selector-data', 0, 2)).toBe(0xffff); // not a valid read: an open bus
    expect(device.anomalies()).toMatchObject({ dataWrites: 2, unacceptedAccesses: 1 });
  });

  it('finds an item by its key less the write-channel bit; the architecture\'s items by bit 15', () => {
    const context = createTestContext();
    const { select, bytes } = guest(new FwCfg(context, PC), context);
    select(FwCfgKey.ID | FwCfgKey.WRITE_CHANNEL);
    expect(bytes(4)).toEqual([3, 0, 0, 0]);
    select(FwCfgKey.IRQ0_OVERRIDE);
    expect(bytes(4)).toEqual([1, 0, 0, 0]);
  });

  it('holds the machine as QEMU encodes it: RAM as a u64, CPUs as u16s, little-endian', () => {
    const context = createTestContext();
    const { select, bytes } = guest(new FwCfg(context, PC), context);
    const item = (key: number, n: number) => {
      select(key);
      return le(bytes(n));
    };
    expect(item(FwCfgKey.RAM_SIZE, 8)).toBe(32 << 20);
    expect([item(FwCfgKey.NB_CPUS, 2), item(FwCfgKey.MAX_CPUS, 2), item(FwCfgKey.NOGRAPHIC, 2)]).toEqual([2, 2, 0]);
  });

  it("lists its files sorted by name, big-endian, and serves each at its key: qemu_early_e820's walk", () => {
    const context = createTestContext();
    const { select, bytes } = guest(new FwCfg(context, PC), context);
    select(FwCfgKey.FILE_DIR);
    const count = bytes(4).reduce((v, b) => v * 256 + b, 0);
    expect(count).toBe(3);
    const entries = Array.from({ length: count }, () => {
      const entry = bytes(64);
      return { size: entry.slice(0, 4).reduce((v, b) => v * 256 + b, 0), select: (entry[4] ?? 0) * 256 + (entry[5] ?? 0), name: text(entry.slice(8)).replace(/\0+$/, '') };
    });
    const bootorder = '/pci@i0cf8/ide@1,1/drive@0/disk@0\n/isa/fdc@03f0/floppy@0\0';
    expect(entries).toEqual([{ size: bootorder.length, select: 0x20, name: 'bootorder' }, { size: 4, select: 0x21, name: 'etc/boot-fail-wait' }, { size: 20, select: 0x22, name: 'etc/e820' }]);
    select(0x21);
    expect(bytes(4)).toEqual([0xff, 0xff, 0xff, 0xff]); // -1, QEMU's default reboot-timeout: never retry
    select(0x22);
    const e820 = bytes(20);
    expect([le(e820.slice(0, 8)), le(e820.slice(8, 16)), le(e820.slice(16))]).toEqual([0, 32 << 20, E820Type.RAM]);
    select(0x20);
    expect(text(bytes(bootorder.length))).toBe(bootorder);
  });
});

describe('option ROMs', () => {
  it("serves each as genroms/NAME, where SeaBIOS's run_file_roms looks, after the machine's files", () => {
    const rom = Uint8Array.from([0x55, 0xaa, 1, 0xcb]);
    const context = createTestContext();
    const { select, bytes } = guest(new FwCfg(context, qemuPcItems({ ...PC_CONFIG, optionRoms: [{ name: 'kvmvapic.bin', data: rom }] })), context);
    select(FwCfgKey.FILE_DIR);
    const count = bytes(4).reduce((v, b) => v * 256 + b, 0);
    const names = Array.from({ length: count }, () => text(bytes(64).slice(8)).replace(/\0+$/, ''));
    expect(names).toEqual(['bootorder', 'etc/boot-fail-wait', 'etc/e820', 'genroms/kvmvapic.bin']);
    select(FwCfgKey.FILE_FIRST + 3);
    expect(bytes(4)).toEqual([...rom]);
  });
});

describe('the DMA interface', () => {
  it('answers reads of its address register with the DMA signature "QEMU CFG", big-endian', () => {
    const device = new FwCfg(createTestContext(), PC);
    expect(device.read('dma-address', 0, 4)).toBe(0x554d4551); // 'Q','E','M','U' at 514h–517h
    expect(device.read('dma-address', 4, 4)).toBe(0x47464320); // ' ','C','F','G'
    expect(device.read('dma-address', 7, 1)).toBe(FW_CFG_DMA_SIGNATURE.charCodeAt(7));
  });

  it("runs SeaBIOS's qemu_cfg_read_entry: select and read in one operation, the control word back to 0", () => {
    const context = createTestContext();
    const { dma, ram } = guest(new FwCfg(context, PC), context);
    expect(dma((FwCfgKey.ID << 16) | DmaControl.SELECT | DmaControl.READ, 4, 0x7000)).toBe(0);
    expect(ram(0x7000, 4)).toEqual([3, 0, 0, 0]);
  });

  it('reads on from the offset without a select, skips, and fills with zeros past the item\'s end without an error', () => {
    const context = createTestContext();
    const device = new FwCfg(context, PC);
    const { dma, ram } = guest(device, context);
    context.ram.fill(0xaa, 0x7000, 0x7100);
    expect(dma((FwCfgKey.FILE_DIR << 16) | DmaControl.SELECT | DmaControl.READ, 4, 0x7000)).toBe(0);
    expect(ram(0x7000, 4)).toEqual([0, 0, 0, 3]); // the count
    expect(dma(DmaControl.SKIP, 128, 0)).toBe(0); // past `bootorder`'s and `etc/boot-fail-wait`'s entries
    expect(dma(DmaControl.READ, 64, 0x7010)).toBe(0);
    expect(text(ram(0x7018, 8))).toBe('etc/e820');
    expect(dma((FwCfgKey.SIGNATURE << 16) | DmaControl.SELECT | DmaControl.READ, 8, 0x7080)).toBe(0);
    expect(ram(0x7080, 9)).toEqual([0x51, 0x45, 0x4d, 0x55, 0, 0, 0, 0, 0xaa]);
    expect(device.getState()).toMatchObject({ selector: 0, offset: 4, dmaAddressHigh: 0 });
  });

  it('refuses a write (every item is read-only) with the error bit, and does nothing for a control with no operation', () => {
    const context = createTestContext();
    const device = new FwCfg(context, PC);
    const { dma } = guest(device, context);
    expect(dma((FwCfgKey.RAM_SIZE << 16) | DmaControl.SELECT | DmaControl.WRITE, 8, 0x7000)).toBe(DmaControl.ERROR);
    expect(dma((FwCfgKey.SIGNATURE << 16) | DmaControl.SELECT, 4, 0x7000)).toBe(0); // a select alone
    expect(device.getState()).toMatchObject({ selector: 0, offset: 0 });
    expect(device.anomalies()).toMatchObject({ dmaWritesRefused: 1 });
  });

  it('sets the error bit when the buffer lies outside guest RAM, and cannot answer a descriptor that does (counted either way)', () => {
    const context = createTestContext({ memoryBytes: 0x10000 });
    const device = new FwCfg(context, PC);
    const { dma } = guest(device, context);
    expect(dma((FwCfgKey.ID << 16) | DmaControl.SELECT | DmaControl.READ, 4, 0xfffe)).toBe(DmaControl.ERROR);
    expect(dma((FwCfgKey.ID << 16) | DmaControl.SELECT | DmaControl.READ, 0x10000, 0x8000)).toBe(DmaControl.ERROR); // zeros past the end, out of RAM
    expect(dma((FwCfgKey.ID << 16) | DmaControl.SELECT | DmaControl.READ, 4, 2 ** 32)).toBe(DmaControl.ERROR); // above 4 GiB
    device.write('dma-address', 4, 4, 0x00f0_ffff); // a descriptor at FFFFF000h: nothing to read, nothing written
    expect(device.anomalies()).toMatchObject({ dmaRefused: 4 });
  });

  it('takes a 64-bit address as two halves, high first; the register is 0 again after each operation', () => {
    const context = createTestContext();
    const device = new FwCfg(context, PC);
    const { dma, ram } = guest(device, context);
    device.write('dma-address', 0, 4, 0x0100_0000); // high half 1: the descriptor would be above 4 GiB
    expect(device.getState().dmaAddressHigh).toBe(1);
    expect(dma((FwCfgKey.ID << 16) | DmaControl.SELECT | DmaControl.READ, 4, 0x7000)).toBe((FwCfgKey.ID << 16) | DmaControl.SELECT | DmaControl.READ);
    expect(ram(0x7000, 4)).toEqual([0, 0, 0, 0]); // not run
    expect(device.getState().dmaAddressHigh).toBe(0);
    expect(dma((FwCfgKey.ID << 16) | DmaControl.SELECT | DmaControl.READ, 4, 0x7000)).toBe(0); // the low half alone, now
    device.write('dma-address', 2, 2, 0x1234); // not a valid width: ignored
    expect(device.anomalies()).toMatchObject({ dmaRefused: 1, dmaAddressWritesIgnored: 1 });
  });
});

describe('configuration and state', () => {
  it('refuses a configuration QEMU could not hold (a host error, not the guest\'s)', () => {
    const context = createTestContext();
    expect(() => new FwCfg(context, { items: [{ key: FwCfgKey.FILE_DIR, data: new Uint8Array(1) }] })).toThrow(/0019h/);
    expect(() => new FwCfg(context, { items: [{ key: 0x4003, data: new Uint8Array(1) }] })).toThrow(/expected/);
    expect(() => new FwCfg(context, { items: [{ key: 3, data: new Uint8Array(1) }, { key: 3, data: new Uint8Array(1) }] })).toThrow(/twice/);
    expect(() => new FwCfg(context, { files: [{ name: 'x'.repeat(56), data: new Uint8Array(1) }] })).toThrow(/1 to 55/);
    expect(() => new FwCfg(context, { files: [{ name: 'a', data: new Uint8Array(1) }, { name: 'a', data: new Uint8Array(1) }] })).toThrow(/twice/);
    expect(() => new FwCfg(context, { files: Array.from({ length: 33 }, (_, i) => ({ name: `f${i}`, data: new Uint8Array(1) })) })).toThrow(/at most 32/);
  });

  it('restores the selected item, its offset and a half-written DMA address into a fresh instance', () => {
    const context = createTestContext();
    const device = new FwCfg(context, PC);
    const { select, inb } = guest(device, context);
    select(FwCfgKey.SIGNATURE);
    inb();
    device.write('dma-address', 0, 4, 0);
    const fresh = new FwCfg(createTestContext(), PC);
    fresh.setState(device.getState());
    expect(fresh.read('selector-data', 1, 1)).toBe(0x45);
    expect(() => { fresh.setState({ ...fresh.getState(), model: 'isa-debugcon' } as unknown as FwCfgState); }).toThrow(/state of isa-debugcon/);
  });

  it('encodes the bootorder and etc/e820 files as QEMU does', () => {
    expect([...bootOrderFile([])]).toEqual([]);
    expect(text([...bootOrderFile(['/a', '/b'])])).toBe('/a\n/b\0');
    expect([...e820File([{ address: 0x1_0000_0000, length: 0x1000, type: E820Type.RESERVED }])]).toEqual([0, 0, 0, 0, 1, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0]);
    expect(new FwCfg(createTestContext(), qemuPcItems({ ramBytes: 1 << 20, cpus: 1, e820: [], bootOrder: [], noGraphic: true, irq0Override: false })).itemAt(FwCfgKey.NOGRAPHIC)).toEqual(Uint8Array.of(1, 0));
  });
});

describe('replay of the shared traces (fw_cfg at 510h, its DMA address at 514h)', () => {
  it.each(['seabios-post', 'linux-boot-serial', 'linux-boot-vga'] as const)("%s: SeaBIOS's port reads as QEMU answered them", (name) => {
    const context = createTestContext();
    const device = new FwCfg(context, PC);
    const result = replayTrace(device, context, loadTrace(name), [
      { space: 'port', base: 0x510, region: 'selector-data', length: 2 },
      { space: 'port', base: 0x514, region: 'dma-address', length: 8 },
    ]);
    // Signature and FW_CFG_ID through the data port; every later read went by DMA, into RAM the trace does not hold.
    expect(result).toMatchObject({ reads: 8, identical: 8, mismatches: [] });
    // The trace has each DMA address as QEMU's big-endian region saw it (the descriptor's address, 6F3Ch and the like), not
    // as the CPU's register held it: written back, it names no descriptor in this RAM, and is counted.
    expect(device.anomalies().dmaRefused).toBeGreaterThan(0);
  });
});
