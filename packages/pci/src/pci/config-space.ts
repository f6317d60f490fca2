/**
 * A function's 256-byte configuration space as data: what it holds at power
 * on, which bits a guest may write, which it clears by writing 1, which a
 * system reset restores, and where its base address registers are (PCI
 * Local Bus Specification 3.0 §6.1–§6.2).
 *
 * Accesses are byte-wise through the masks, as the specification defines
 * them per register bit: `byte = (byte & ~writable) | (value & writable)`,
 * then `byte &= ~(value & writeOneToClear)`. A write that tries to change a
 * read-only bit is not an error — BAR sizing writes all ones to every BAR,
 * present or not (§6.2.5.1) — it is only counted.
 *
 * Where the specification leaves a register's writability to the device,
 * QEMU 7.2's answers are used (measured on the binary, byte by byte): the
 * command register takes I/O, memory, bus master, SERR# enable and
 * interrupt disable (0507h); cache line size and interrupt line take any
 * byte; the rest of the header is read-only; every byte of 40h–FFh that a
 * function does not restrict is writable.
 */
import { BaseAddress, CONFIG_SPACE_BYTES, HEADER_BYTES, PciCommand, PciHeader, STATUS_WRITE_ONE_TO_CLEAR } from './registers.ts';

/** Where a window is decoded: port I/O or memory. */
export type WindowSpace = 'port' | 'mmio';

/** A base address register, or the expansion ROM base address. */
export interface BarDeclaration {
  /** The range's name as the board sees it: `bus-master`, `framebuffer`, `rom`. */
  readonly window: string;
  /** BAR 0–5 (at 10h + 4n), or `rom` (30h). */
  readonly slot: 0 | 1 | 2 | 3 | 4 | 5 | 'rom';
  readonly space: WindowSpace;
  /** The size of the range, a power of two: what BAR sizing reads back as `~(bytes - 1)`. */
  readonly bytes: number;
  readonly prefetchable?: boolean;
}

export interface ConfigLayout {
  /** The 256 bytes at power-on. */
  readonly powerOn: Uint8Array;
  /** Per byte, the bits a guest write may change. */
  readonly writable: Uint8Array;
  /** Per byte, the bits a guest write of 1 clears. */
  readonly writeOneToClear: Uint8Array;
  /** Per byte, 0FFh where a system reset restores the power-on value, 00h where it keeps what the guest wrote. */
  readonly restoredOnReset: Uint8Array;
  readonly bars: readonly BarDeclaration[];
}

/** The identity registers of a type 00h header. */
export interface HeaderIdentity {
  readonly vendorId: number;
  readonly deviceId: number;
  readonly revision: number;
  /** Base class, sub-class and programming interface as one 24-bit number: 060000h for a host bridge. */
  readonly classCode: number;
  readonly headerType: number;
  /** The status register's value at power-on (its read-only bits: DEVSEL timing, fast back-to-back). */
  readonly status: number;
  readonly subsystemVendorId: number;
  readonly subsystemId: number;
  /** 0 for none, 1–4 for INTA#–INTD#. */
  readonly interruptPin: number;
}

/** The offset of a BAR's register in the header. */
export function barOffset(slot: BarDeclaration['slot']): number {
  return slot === 'rom' ? PciHeader.EXPANSION_ROM : PciHeader.BAR0 + 4 * slot;
}

/** Builds a function's layout: the header first, then its own registers, BARs and reset list. */
export class ConfigLayoutBuilder {
  private readonly powerOn = new Uint8Array(CONFIG_SPACE_BYTES);
  private readonly writable = new Uint8Array(CONFIG_SPACE_BYTES);
  private readonly writeOneToClear = new Uint8Array(CONFIG_SPACE_BYTES);
  private readonly restoredOnReset = new Uint8Array(CONFIG_SPACE_BYTES);
  private readonly bars: BarDeclaration[] = [];

  constructor(identity: HeaderIdentity) {
    putLittle(this.powerOn, PciHeader.VENDOR_ID, 2, identity.vendorId);
    putLittle(this.powerOn, PciHeader.DEVICE_ID, 2, identity.deviceId);
    putLittle(this.powerOn, PciHeader.STATUS, 2, identity.status);
    this.powerOn[PciHeader.REVISION_ID] = identity.revision;
    putLittle(this.powerOn, PciHeader.CLASS_CODE, 3, identity.classCode);
    this.powerOn[PciHeader.HEADER_TYPE] = identity.headerType;
    putLittle(this.powerOn, PciHeader.SUBSYSTEM_VENDOR_ID, 2, identity.subsystemVendorId);
    putLittle(this.powerOn, PciHeader.SUBSYSTEM_ID, 2, identity.subsystemId);
    this.powerOn[PciHeader.INTERRUPT_PIN] = identity.interruptPin;
    const command = PciCommand.IO_SPACE | PciCommand.MEMORY_SPACE | PciCommand.BUS_MASTER | PciCommand.SERR_ENABLE | PciCommand.INTX_DISABLE;
    putLittle(this.writable, PciHeader.COMMAND, 2, command);
    putLittle(this.writeOneToClear, PciHeader.STATUS, 2, STATUS_WRITE_ONE_TO_CLEAR);
    this.writable[PciHeader.CACHE_LINE_SIZE] = 0xff;
    this.writable[PciHeader.INTERRUPT_LINE] = 0xff;
    this.writable.fill(0xff, HEADER_BYTES);
    // A system reset puts the whole header back (QEMU's pci_do_device_reset: command, status, BARs, cache line, interrupt line).
    this.restoredOnReset.fill(0xff, 0, HEADER_BYTES);
  }

  /** A base address register: its type bits at power-on, its size in what software can write. */
  bar(declaration: BarDeclaration): this {
    const offset = barOffset(declaration.slot);
    const sizeMask = (~(declaration.bytes - 1)) >>> 0;
    let typeBits = 0;
    if (declaration.slot !== 'rom') {
      typeBits = declaration.space === 'port' ? BaseAddress.IO_SPACE : declaration.prefetchable === true ? BaseAddress.PREFETCHABLE : 0;
    }
    const writable = declaration.slot === 'rom' ? (sizeMask | BaseAddress.ROM_ENABLE) >>> 0 : sizeMask;
    putLittle(this.powerOn, offset, 4, typeBits);
    putLittle(this.writable, offset, 4, writable);
    this.bars.push(declaration);
    return this;
  }

  /** A device register's power-on value, `width` bytes little-endian. */
  register(offset: number, width: 1 | 2 | 4, value: number): this {
    putLittle(this.powerOn, offset, width, value);
    return this;
  }

  /** Which bits of the `width` bytes at `offset` a guest may write (all of 40h–FFh unless said here). */
  writableBits(offset: number, width: 1 | 2 | 4, mask: number): this {
    putLittle(this.writable, offset, width, mask);
    return this;
  }

  /** Bytes a system reset puts back to their power-on value (the function's own reset handler). */
  restoreOnReset(...offsets: readonly number[]): this {
    for (const offset of offsets) this.restoredOnReset[offset] = 0xff;
    return this;
  }

  build(): ConfigLayout {
    return {
      powerOn: this.powerOn.slice(),
      writable: this.writable.slice(),
      writeOneToClear: this.writeOneToClear.slice(),
      restoredOnReset: this.restoredOnReset.slice(),
      bars: [...this.bars],
    };
  }
}

function putLittle(bytes: Uint8Array, offset: number, width: number, value: number): void {
  for (let i = 0; i < width; i++) bytes[offset + i] = Math.floor(value / 2 ** (8 * i)) & 0xff;
}

/** `width` bytes of `config` from `offset`, little-endian (at most up to the end of the space). */
export function readConfig(config: Uint8Array, offset: number, width: number): number {
  let value = 0;
  const end = Math.min(offset + width, config.length);
  for (let i = end - 1; i >= offset; i--) value = value * 256 + (config[i] ?? 0);
  return value;
}

/**
 * Writes `width` bytes of `value` at `offset` through the layout's masks.
 * Returns whether the write tried to change a read-only bit.
 */
export function writeConfig(config: Uint8Array, layout: ConfigLayout, offset: number, width: number, value: number): boolean {
  let readOnlyTouched = false;
  const end = Math.min(offset + width, config.length);
  for (let at = offset; at < end; at++) {
    const byte = Math.floor(value / 2 ** (8 * (at - offset))) & 0xff;
    const old = config[at] ?? 0;
    const writable = layout.writable[at] ?? 0;
    const clearable = layout.writeOneToClear[at] ?? 0;
    if (((byte ^ old) & ~writable & ~clearable & 0xff) !== 0) readOnlyTouched = true;
    config[at] = ((old & ~writable) | (byte & writable)) & ~(byte & clearable) & 0xff;
  }
  return readOnlyTouched;
}

/** What a system reset leaves in `config`: the power-on value where the layout restores it, the guest's elsewhere. */
export function resetConfig(config: Uint8Array, layout: ConfigLayout): void {
  for (let at = 0; at < config.length; at++) {
    if (layout.restoredOnReset[at] !== 0) config[at] = layout.powerOn[at] ?? 0;
  }
}

/** A decoded address range: where a BAR (or a device register such as PMBA) puts it, and whether it answers. */
export interface DecodedRange {
  readonly base: number;
  readonly enabled: boolean;
}

/** The last address of a 32-bit bus: QEMU leaves a BAR unmapped if its range would reach it (pci_bar_address). */
const ADDRESS_32_LAST = 0xffff_ffff;
/** Port space is 64 KiB: a range beyond it is decoded where no CPU access reaches. */
const PORT_SPACE_BYTES = 0x1_0000;

/**
 * Where a BAR's range sits and whether the function answers it (PCI 3.0
 * §6.2.2, §6.2.5): the command register's I/O or memory space enable, and
 * for the expansion ROM its own enable bit too. As QEMU (pci_bar_address), a
 * base of 0 and a range running to the top of the 32-bit space (as during
 * sizing, all ones written) decode nothing; a port range past FFFFh is not
 * decoded either, as no `in`/`out` can reach it.
 */
export function decodeBar(config: Uint8Array, bar: BarDeclaration): DecodedRange {
  const command = readConfig(config, PciHeader.COMMAND, 2);
  const raw = readConfig(config, barOffset(bar.slot), 4);
  const base = (raw & ~(bar.bytes - 1)) >>> 0;
  const spaceEnabled = (command & (bar.space === 'port' ? PciCommand.IO_SPACE : PciCommand.MEMORY_SPACE)) !== 0;
  const romEnabled = bar.slot !== 'rom' || (raw & BaseAddress.ROM_ENABLE) !== 0;
  return { base, enabled: spaceEnabled && romEnabled && rangeDecodes(bar.space, base, bar.bytes) };
}

/** Whether a range at `base` of `bytes` is one QEMU maps: not at 0, not reaching the top of the 32-bit space, inside port space for ports. */
export function rangeDecodes(space: WindowSpace, base: number, bytes: number): boolean {
  const last = base + bytes - 1;
  if (base === 0 || last >= ADDRESS_32_LAST) return false;
  return space !== 'port' || last < PORT_SPACE_BYTES;
}

