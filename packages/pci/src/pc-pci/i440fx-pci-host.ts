/**
 * The PC's PCI bus as the CPU reaches it: configuration mechanism #1 of the
 * i440FX host bridge (PCI Local Bus Specification 3.0 §3.2.2.3.2), with the
 * functions of QEMU 7.2's `pc` machine behind it (./pc-functions.ts).
 *
 * Region `config-address` (CF8h–CFBh, 1-, 2- and 4-byte accesses):
 *
 *   CONFIG_ADDRESS, a 32-bit write at CF8h:
 *     bit 31     enable: CONFIG_DATA accesses reach configuration space
 *     bits 30:24 reserved: kept and read back (QEMU)
 *     bits 23:16 bus number      bits 15:11 device    bits 10:8 function
 *     bits 7:2   register (dword) bits 1:0 kept; as QEMU, they are ORed
 *                into the byte offset of a CONFIG_DATA access
 *   CF9h, one byte: the PIIX3's RC—Reset Control Register, which the PIIX3
 *     decodes inside the host bridge's window (82371SB datasheet, "RC—Reset
 *     Control Register"): bit 1 SRST (hard reset next), bit 2 RCPU (reset
 *     now). As QEMU: a write with bit 2 set requests a reset (the `reset`
 *     line pulses) and changes nothing else; any other write keeps bit 1
 *     only; a read returns it. A wider access there is a byte access per
 *     byte, as QEMU's 1-byte region splits it.
 *   Anything else, as QEMU's pci_host_config_read/write and its memory
 *     core: an aligned read of CF8h, CFAh or CFBh returns CONFIG_ADDRESS's
 *     low bytes, unshifted (`inb 0xcfb` reads bits 7:0); a write that is not
 *     32 bits at CF8h is dropped; an unaligned access reads 0, its write is
 *     dropped.
 *
 * Region `config-data` (CFCh–CFFh, 1-, 2- and 4-byte accesses): with the
 * enable bit set, an access of `size` bytes at CFCh + n reaches register
 * `(CONFIG_ADDRESS | n) & FFh` of the addressed function (at most to the end
 * of its 256 bytes); a function that is not there reads all ones and drops
 * writes (a master abort). With the enable bit clear it reads all ones and
 * drops writes. Unaligned accesses read 0 and drop writes (QEMU).
 *
 * Only bus 0 exists. Measured against QEMU 7.2 (qtest, and a TCG guest for
 * the unaligned cases) and the shared seabios-post trace.
 */
import type { AccessSize, Device, DeviceContext, IoRegion } from '@splitvisor/abi';
import { DeviceStateError, expectState } from '@splitvisor/abi';
import type { ConfigLayout } from '../pci/config-space.ts';
import { readConfig, resetConfig, writeConfig } from '../pci/config-space.ts';
import type { PciFunctionDefinition } from '../pci/pci-function.ts';
import { devfn } from '../pci/pci-function.ts';
import { CONFIG_SPACE_BYTES } from '../pci/registers.ts';
import { ResetControl } from '../piix3/piix3-isa.ts';
import type { ChipsetDecode, DecodeListener } from './decode.ts';
import { chipsetDecode, decodeChanges } from './decode.ts';
import type { I440fxPciHostOptions, PciFunctionName } from './pc-functions.ts';
import { PCI_FUNCTION_NAMES, pcPciFunctions } from './pc-functions.ts';

/** CONFIG_ADDRESS fields (PCI 3.0 §3.2.2.3.2, figure 3-2). */
export const ConfigAddress = {
  ENABLE: 0x8000_0000,
  BUS_SHIFT: 16,
  DEVFN_SHIFT: 8,
  REGISTER: 0xff,
} as const;

/** The host's two regions: CONFIG_ADDRESS at CF8h (with the PIIX3 RCR at CF9h) and CONFIG_DATA at CFCh. */
export const PciHostRegion = { configAddress: 'config-address', configData: 'config-data' } as const;

/** The named output line a reset request pulses (QEMU's qemu_system_reset_request). */
export const PciHostLine = { reset: 'reset' } as const;

export type I440fxPciHostState = {
  readonly model: 'i440fx-pcihost';
  readonly version: 1;
  /** CONFIG_ADDRESS as last written, all 32 bits. */
  readonly configAddress: number;
  /** The PIIX3 RCR's value (bit 1, SRST). */
  readonly resetControl: number;
  /** Resets the guest has requested through the RCR. */
  readonly resetRequests: number;
  /** Each function's 256 configuration bytes. */
  readonly config: Readonly<Record<PciFunctionName, Uint8Array>>;
};

const MODEL = 'i440fx-pcihost';
const VERSION = 1;

const REGIONS: readonly IoRegion[] = [
  { name: PciHostRegion.configAddress, space: 'port', length: 4, sizes: [1, 2, 4] },
  { name: PciHostRegion.configData, space: 'port', length: 4, sizes: [1, 2, 4] },
];

/** CF9h, the RCR, is byte 1 of the CONFIG_ADDRESS window. */
const RESET_CONTROL_OFFSET = 1;

interface FunctionSlot {
  readonly definition: PciFunctionDefinition;
  readonly name: PciFunctionName;
  readonly layout: ConfigLayout;
  readonly config: Uint8Array;
}

function allOnes(size: AccessSize): number {
  return size === 4 ? 0xffff_ffff : (1 << (8 * size)) - 1;
}

function isAccessSize(size: number): size is AccessSize {
  return size === 1 || size === 2 || size === 4;
}

/**
 * The decode of a state, without a device: for a board whose PCI host runs
 * in another domain and reaches it by snapshots. `options` must be the
 * device's (they fix the BAR sizes).
 */
export function stateDecode(state: I440fxPciHostState, options: I440fxPciHostOptions): ChipsetDecode {
  return chipsetDecode(pcPciFunctions(options), (name) => state.config[name]);
}

export class I440fxPciHost implements Device<I440fxPciHostState> {
  readonly model: 'i440fx-pcihost' = MODEL;
  readonly regions: readonly IoRegion[] = REGIONS;
  private configAddress = 0;
  private resetControl = 0;
  private resetRequests = 0;
  private readonly slots: readonly FunctionSlot[];
  /** The slot of each device/function number on bus 0, or undefined. */
  private readonly byDevfn: readonly (FunctionSlot | undefined)[];
  private readonly listeners = new Set<DecodeListener>();
  private readonly odd = {
    unalignedAccesses: 0,
    configAddressPartialWrites: 0,
    disabledDataAccesses: 0,
    absentFunctionReads: 0,
    absentFunctionWrites: 0,
    readOnlyBitsWritten: 0,
    resetControlReservedBits: 0,
    unacceptedAccesses: 0,
  };
  private readonly context: DeviceContext;

  /** Throws a RangeError for options QEMU would refuse (a video memory or ROM size that is not a power of two). */
  constructor(context: DeviceContext, options: I440fxPciHostOptions) {
    this.context = context;
    this.slots = pcPciFunctions(options).map((definition) => ({
      definition,
      name: definition.name as PciFunctionName,
      layout: definition.layout,
      config: definition.layout.powerOn.slice(),
    }));
    const byDevfn: (FunctionSlot | undefined)[] = new Array<FunctionSlot | undefined>(256).fill(undefined);
    for (const slot of this.slots) byDevfn[devfn(slot.definition)] = slot;
    this.byDevfn = byDevfn;
  }

  read(region: string, offset: number, size: AccessSize): number {
    if (!this.accepted(offset, size)) return isAccessSize(size) ? allOnes(size) : 0xff;
    if (region === PciHostRegion.configAddress) return this.readAddress(offset, size);
    if (region === PciHostRegion.configData) return this.readData(offset, size);
    this.odd.unacceptedAccesses++;
    return allOnes(size);
  }

  write(region: string, offset: number, size: AccessSize, value: number): void {
    if (!this.accepted(offset, size)) return;
    const bits = Number.isFinite(value) ? ((value >>> 0) & allOnes(size)) >>> 0 : 0;
    if (region === PciHostRegion.configAddress) this.writeAddress(offset, size, bits);
    else if (region === PciHostRegion.configData) this.writeData(offset, size, bits);
    else this.odd.unacceptedAccesses++;
  }

  private accepted(offset: number, size: number): boolean {
    if (Number.isInteger(offset) && offset >= 0 && offset < 4 && isAccessSize(size)) return true;
    this.odd.unacceptedAccesses++;
    return false;
  }

  // --- CONFIG_ADDRESS and the RCR ---------------------------------------------------------------

  private readAddress(offset: number, size: AccessSize): number {
    if (offset === RESET_CONTROL_OFFSET) {
      let value = 0;
      for (let i = 0; i < size; i++) value += this.resetControl * 2 ** (8 * i);
      return value;
    }
    if (offset % size !== 0) {
      this.odd.unalignedAccesses++;
      return 0;
    }
    return (this.configAddress & allOnes(size)) >>> 0;
  }

  private writeAddress(offset: number, size: AccessSize, value: number): void {
    if (offset === RESET_CONTROL_OFFSET) {
      for (let i = 0; i < size; i++) this.writeResetControl(Math.floor(value / 2 ** (8 * i)) & 0xff);
      return;
    }
    if (offset % size !== 0) {
      this.odd.unalignedAccesses++;
      return;
    }
    if (offset === 0 && size === 4) this.configAddress = value >>> 0;
    else this.odd.configAddressPartialWrites++;
  }

  private writeResetControl(byte: number): void {
    if ((byte & ~(ResetControl.SYSTEM_RESET | ResetControl.RESET_CPU)) !== 0) this.odd.resetControlReservedBits++;
    if ((byte & ResetControl.RESET_CPU) !== 0) {
      this.resetRequests++;
      this.context.setLine?.(PciHostLine.reset, true);
      this.context.setLine?.(PciHostLine.reset, false);
      return;
    }
    this.resetControl = byte & ResetControl.SYSTEM_RESET;
  }

  // --- CONFIG_DATA --------------------------------------------------------------------------------

  /** The function and register a CONFIG_DATA access at `offset` reaches, or undefined for an absent one. */
  private target(offset: number): { slot: FunctionSlot; register: number } | undefined {
    const bus = (this.configAddress >>> ConfigAddress.BUS_SHIFT) & 0xff;
    const slot = bus === 0 ? this.byDevfn[(this.configAddress >>> ConfigAddress.DEVFN_SHIFT) & 0xff] : undefined;
    if (slot === undefined) return undefined;
    return { slot, register: (this.configAddress | offset) & ConfigAddress.REGISTER };
  }

  private readData(offset: number, size: AccessSize): number {
    if (offset % size !== 0) {
      this.odd.unalignedAccesses++;
      return 0;
    }
    if ((this.configAddress & ConfigAddress.ENABLE) === 0) {
      this.odd.disabledDataAccesses++;
      return allOnes(size);
    }
    const at = this.target(offset);
    if (at === undefined) {
      this.odd.absentFunctionReads++;
      return allOnes(size);
    }
    return readConfig(at.slot.config, at.register, Math.min(size, CONFIG_SPACE_BYTES - at.register));
  }

  private writeData(offset: number, size: AccessSize, value: number): void {
    if (offset % size !== 0) {
      this.odd.unalignedAccesses++;
      return;
    }
    if ((this.configAddress & ConfigAddress.ENABLE) === 0) {
      this.odd.disabledDataAccesses++;
      return;
    }
    const at = this.target(offset);
    if (at === undefined) {
      this.odd.absentFunctionWrites++;
      return;
    }
    const before = this.listeners.size > 0 ? this.decode() : undefined;
    const width = Math.min(size, CONFIG_SPACE_BYTES - at.register);
    if (writeConfig(at.slot.config, at.slot.layout, at.register, width, value)) this.odd.readOnlyBitsWritten++;
    if (before !== undefined) this.announce(before);
  }

  // --- board side ---------------------------------------------------------------------------------

  /**
   * Calls `listener` with each decode change a guest write, a `reset()` or a
   * `setState()` makes, after it took effect. Returns the unsubscribe.
   */
  onDecodeChange(listener: DecodeListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** What the configuration decodes now: the windows, PAM segments, SMRAM and PIRQ routes. */
  decode(): ChipsetDecode {
    return chipsetDecode(this.slots.map((slot) => slot.definition), (name) => this.slotOf(name).config);
  }

  /** A copy of function `name`'s 256 configuration bytes. */
  configSpace(name: PciFunctionName): Uint8Array {
    return this.slotOf(name).config.slice();
  }

  /** Resets the guest has requested through the RCR (CF9h). */
  resets(): number {
    return this.resetRequests;
  }

  /**
   * A system reset (the board calls it once it acts on a reset request): as
   * QEMU, every function's header and its own reset list return to their
   * power-on values, the rest of 40h–FFh (PAM and SMRAM among it) keeps what
   * the guest wrote, the RCR clears and CONFIG_ADDRESS is kept.
   */
  reset(): void {
    const before = this.decode();
    for (const slot of this.slots) resetConfig(slot.config, slot.layout);
    this.resetControl = 0;
    this.announce(before);
  }

  private slotOf(name: PciFunctionName): FunctionSlot {
    const slot = this.slots.find((s) => s.name === name);
    if (slot === undefined) throw new RangeError(`no PCI function ${name}`);
    return slot;
  }

  private announce(before: ChipsetDecode): void {
    if (this.listeners.size === 0) return;
    for (const change of decodeChanges(before, this.decode())) for (const listener of this.listeners) listener(change);
  }

  // --- state --------------------------------------------------------------------------------------

  getState(): I440fxPciHostState {
    const config = Object.fromEntries(this.slots.map((slot) => [slot.name, slot.config.slice()])) as Record<PciFunctionName, Uint8Array>;
    return { model: MODEL, version: VERSION, configAddress: this.configAddress, resetControl: this.resetControl, resetRequests: this.resetRequests, config };
  }

  /** Adopts a state; tells the listeners what its decode changes from this instance's. Throws DeviceStateError for a state of another model, version or shape. */
  setState(state: I440fxPciHostState): void {
    expectState(state, MODEL, VERSION);
    for (const name of PCI_FUNCTION_NAMES) {
      const bytes: unknown = (state.config as Partial<Record<string, unknown>> | undefined)?.[name];
      if (!(bytes instanceof Uint8Array) || bytes.length !== CONFIG_SPACE_BYTES) {
        throw new DeviceStateError(`${MODEL} state has no 256-byte configuration space for ${name}`);
      }
    }
    const before = this.decode();
    for (const slot of this.slots) slot.config.set(state.config[slot.name]);
    this.configAddress = state.configAddress >>> 0;
    this.resetControl = state.resetControl & ResetControl.SYSTEM_RESET;
    this.resetRequests = state.resetRequests;
    this.announce(before);
  }

  anomalies(): Readonly<Record<string, number>> {
    return { ...this.odd };
  }
}
