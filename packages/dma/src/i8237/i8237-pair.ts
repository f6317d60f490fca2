/**
 * The PC/AT's two Intel 8237A DMA controllers and their page registers, as
 * one device. References: Intel 8237A data sheet (231466); IBM PC/AT
 * Technical Reference, "DMA Controller"; Intel 82371AB (PIIX4) datasheet,
 * "DMA Controller" (page registers, word addressing, the readable mask).
 *
 * Regions (the board puts them at 00h, 81h and C0h):
 *   controller-8   16 ports: channels 0–3 (byte transfers)
 *   page           15 ports: the page registers, 81h–8Fh (see PAGE_CHANNEL)
 *   controller-16  32 ports: channels 4–7 (word transfers); each register at
 *                  an even port, the odd port above it an alias
 *
 * Addressing. A byte channel (0–3) addresses page × 64 KiB + address; the
 * address counter wraps within its 64 KiB page, as the 8237 does (the page
 * register does not count). A word channel (5–7) counts words: its byte
 * address is (page with bit 0 ignored) × 64 KiB + address × 2, wrapping
 * within a 128 KiB page, and its count is in words. Channel 4 cascades the
 * first controller into the second: channels 0–3 are serviced only while
 * channel 4 is unmasked in cascade mode (SeaBIOS and every PC BIOS set this
 * up at POST).
 *
 * Transfers happen when a device asks (see DmaChannel): at once and in full,
 * with no bus timing, so demand, single and block modes behave alike (the
 * device holds DREQ for as long as it has data). At terminal count the status
 * bit is set, a software request is cleared, and the channel either
 * auto-initializes (current registers reload from base) or is masked.
 * Memory outside guest RAM is never touched: such a transfer is counted
 * (`unbackedTransfers`), logged, reads as FFh, and still runs the counters,
 * as the 8237 would.
 *
 * Where this differs from QEMU (7.2, the recorder of the shared traces),
 * following the data sheets: channel 4's cascade gates channels 0–3;
 * command bit 2 disables a controller; the mask bit is set at terminal count
 * without auto-initialization; the address wraps within its page (QEMU
 * adds the transfer position to the 24-bit address); register 15 reads the
 * mask and register 9 reads as an illegal read (QEMU returns the mask at
 * register 9); each byte written to an address or count register goes to
 * both the base and the current register (QEMU reloads the current
 * registers only when the high byte is written); a command with unsupported
 * bits is stored (QEMU ignores the write); word channels ignore page bit 0
 * (QEMU ORs it in); the spare page ports read back (QEMU leaves them
 * unassigned). None of this shows in the traces, which program only the
 * cascade and channel 2.
 */
import type { AccessSize, Device, DeviceContext, GuestMemory, IoRegion } from '@splitvisor/abi';
import { expectState } from '@splitvisor/abi';
import type { DmaChannelHost, DmaTransfer, DmaTransferType } from './channel.ts';
import { DmaChannel, DmaConfigError } from './channel.ts';
import {
  CHANNEL_REGISTERS, ChannelBit, Command, ControlRegister, Mode, PAGE_CHANNEL, PAGE_PORTS, Status, UNSUPPORTED_COMMAND,
} from './registers.ts';

export type I8237ChannelState = {
  /** Base and current address: a byte address within the page on channels 0–3, a word address on 4–7. */
  readonly baseAddress: number;
  readonly currentAddress: number;
  /** Base and current count: transfers remaining minus one (FFFFh after terminal count). */
  readonly baseCount: number;
  readonly currentCount: number;
  readonly mode: number;
  readonly page: number;
};

export type I8237ControllerState = {
  readonly command: number;
  /** Status bits 0–3: terminal count reached since the last status read. */
  readonly terminalCounts: number;
  /** Request register bits 0–3 (software DREQ). */
  readonly softwareRequests: number;
  /** Mask bits 0–3. */
  readonly mask: number;
  /** The byte pointer flip-flop: the next address/count access is the high byte. */
  readonly highByte: boolean;
};

export type I8237PairState = {
  readonly model: 'i8237-pair';
  readonly version: 1;
  /** [0]: the controller of channels 0–3; [1]: of channels 4–7. */
  readonly controllers: readonly I8237ControllerState[];
  readonly channels: readonly I8237ChannelState[];
  /** DREQ0–DREQ7 as the devices drive them, one bit per channel. */
  readonly requestLines: number;
  /** The spare page registers (84h–86h, 88h, 8Ch–8Eh), in port order. */
  readonly sparePages: readonly number[];
};

type ControllerRegs = {
  command: number;
  terminalCounts: number;
  softwareRequests: number;
  mask: number;
  highByte: boolean;
};

type ChannelRegs = {
  baseAddress: number;
  currentAddress: number;
  baseCount: number;
  currentCount: number;
  mode: number;
  page: number;
};

const MODEL = 'i8237-pair' as const;
const VERSION = 1;
const CHANNELS = 8;
const CASCADE_CHANNEL = 4;
const SPARE_PAGES = PAGE_CHANNEL.filter((c) => c === undefined).length;
const NO_TRANSFER: DmaTransfer = { bytes: 0, terminalCount: false };
/** A bound on service rounds within one guest access: a device that keeps re-raising DREQ without moving data cannot hang the bus. */
const MAX_SERVICE_ROUNDS = 8;

const REGIONS: readonly IoRegion[] = [
  { name: 'controller-8', space: 'port', length: 16, sizes: [1] },
  { name: 'page', space: 'port', length: PAGE_PORTS, sizes: [1] },
  { name: 'controller-16', space: 'port', length: 32, sizes: [1] },
];

export class I8237Pair implements Device<I8237PairState> {
  readonly model: 'i8237-pair' = MODEL;
  readonly regions: readonly IoRegion[] = REGIONS;
  private readonly context: DeviceContext;
  private readonly memory: GuestMemory;
  private controllers: ControllerRegs[] = [];
  private channelRegs: ChannelRegs[] = [];
  private requestLines = 0;
  private sparePages: number[] = [];
  /** Live handles: the device-facing channels and the service routines attached to them. */
  private readonly handles: readonly DmaChannel[];
  private readonly services: ((() => void) | undefined)[] = new Array<(() => void) | undefined>(CHANNELS).fill(undefined);
  private servicing = false;
  /** Counts requests for service that arrive while servicing: a change means another round. */
  private serviceCalls = 0;
  private readonly odd = {
    illegalReads: 0, unsupportedCommands: 0, unbackedTransfers: 0, transferTypeMismatches: 0, illegalTransferTypes: 0,
  };

  constructor(context: DeviceContext) {
    this.context = context;
    this.memory = context.memory;
    const host: DmaChannelHost = {
      setRequest: (n, level) => { this.setRequest(n, level); },
      granted: (n) => this.granted(n),
      transferType: (n) => transferTypeOf(this.regs(n).mode),
      autoInitialize: (n) => (this.regs(n).mode & Mode.AUTO_INITIALIZE) !== 0,
      transfer: (n, buffer, toMemory) => this.transfer(n, buffer, toMemory),
      attach: (n, service) => { this.attach(n, service); },
    };
    this.handles = Array.from({ length: CHANNELS }, (_, n) => new DmaChannel(host, n));
    this.powerOn();
  }

  /** The channel a device on DREQn/DACKn uses (0–7). */
  channel(n: number): DmaChannel {
    const handle = this.handles[n];
    if (handle === undefined) throw new DmaConfigError(`there is no DMA channel ${n}`);
    return handle;
  }

  private powerOn(): void {
    this.controllers = [0, 1].map(() => ({ command: 0, terminalCounts: 0, softwareRequests: 0, mask: 0x0f, highByte: false }));
    this.channelRegs = Array.from({ length: CHANNELS }, () => ({ baseAddress: 0, currentAddress: 0, baseCount: 0, currentCount: 0, mode: 0, page: 0 }));
    this.requestLines = 0;
    this.sparePages = new Array<number>(SPARE_PAGES).fill(0);
  }

  /** The machine was reset: both controllers master-cleared, every register to zero, DREQ lines as the devices drive them. */
  reset(): void {
    const lines = this.requestLines;
    this.powerOn();
    this.requestLines = lines;
  }

  // --- guest side -------------------------------------------------------------------

  read(region: string, offset: number, _size: AccessSize): number {
    switch (region) {
      case 'controller-8':
        return this.readController(0, offset & 0x0f);
      case 'controller-16':
        return this.readController(1, (offset >> 1) & 0x0f);
      case 'page':
        return this.readPage(offset);
      default:
        return 0xff;
    }
  }

  write(region: string, offset: number, _size: AccessSize, value: number): void {
    const byte = value & 0xff;
    switch (region) {
      case 'controller-8':
        this.writeController(0, offset & 0x0f, byte);
        break;
      case 'controller-16':
        this.writeController(1, (offset >> 1) & 0x0f, byte);
        break;
      case 'page':
        this.writePage(offset, byte);
        break;
      default:
        break;
    }
  }

  private readController(c: number, register: number): number {
    const ctl = this.ctl(c);
    if (register < CHANNEL_REGISTERS) {
      const ch = this.regs(c * 4 + (register >> 1));
      const value = (register & 1) === 0 ? ch.currentAddress : ch.currentCount;
      const high = ctl.highByte;
      ctl.highByte = !high;
      return high ? value >> 8 : value & 0xff;
    }
    switch (register) {
      case ControlRegister.STATUS_COMMAND: {
        const status = (ctl.terminalCounts & Status.TERMINAL_COUNT) | ((this.pendingRequests(c) << 4) & Status.REQUEST);
        ctl.terminalCounts = 0;
        return status;
      }
      case ControlRegister.TEMPORARY_MASTER_CLEAR:
        return 0; // the temporary register holds memory-to-memory data, which this model never moves
      case ControlRegister.ALL_MASK:
        return ctl.mask;
      default:
        this.odd.illegalReads++;
        this.context.log.debug(`i8237: read of write-only register ${register} of controller ${c}`);
        return 0;
    }
  }

  private writeController(c: number, register: number, value: number): void {
    const ctl = this.ctl(c);
    if (register < CHANNEL_REGISTERS) {
      const ch = this.regs(c * 4 + (register >> 1));
      const high = ctl.highByte;
      ctl.highByte = !high;
      const merge = (old: number) => (high ? (old & 0x00ff) | (value << 8) : (old & 0xff00) | value);
      if ((register & 1) === 0) {
        ch.baseAddress = merge(ch.baseAddress);
        ch.currentAddress = merge(ch.currentAddress);
      } else {
        ch.baseCount = merge(ch.baseCount);
        ch.currentCount = merge(ch.currentCount);
      }
      return;
    }
    switch (register) {
      case ControlRegister.STATUS_COMMAND:
        ctl.command = value;
        if ((value & UNSUPPORTED_COMMAND) !== 0) {
          this.odd.unsupportedCommands++;
          this.context.log.warn(`i8237: controller ${c} command ${hex(value)} asks for memory-to-memory or inverted DREQ/DACK, not modelled`);
        }
        break;
      case ControlRegister.REQUEST: {
        const bit = 1 << (value & ChannelBit.CHANNEL);
        ctl.softwareRequests = (value & ChannelBit.SET) !== 0 ? ctl.softwareRequests | bit : ctl.softwareRequests & ~bit;
        break;
      }
      case ControlRegister.SINGLE_MASK: {
        const bit = 1 << (value & ChannelBit.CHANNEL);
        ctl.mask = (value & ChannelBit.SET) !== 0 ? ctl.mask | bit : ctl.mask & ~bit;
        break;
      }
      case ControlRegister.MODE:
        this.regs(c * 4 + (value & Mode.CHANNEL)).mode = value;
        break;
      case ControlRegister.CLEAR_FLIP_FLOP:
        ctl.highByte = false;
        return;
      case ControlRegister.TEMPORARY_MASTER_CLEAR:
        ctl.command = 0;
        ctl.terminalCounts = 0;
        ctl.softwareRequests = 0;
        ctl.highByte = false;
        ctl.mask = 0x0f;
        return;
      case ControlRegister.CLEAR_MASK:
        ctl.mask = 0;
        break;
      case ControlRegister.ALL_MASK:
        ctl.mask = value & 0x0f;
        break;
      default:
        return;
    }
    this.service();
  }

  private readPage(offset: number): number {
    const channel = PAGE_CHANNEL[offset];
    if (channel !== undefined) return this.regs(channel).page;
    return this.sparePages[spareIndex(offset)] ?? 0xff;
  }

  private writePage(offset: number, value: number): void {
    const channel = PAGE_CHANNEL[offset];
    if (channel !== undefined) this.regs(channel).page = value;
    else if (offset >= 0 && offset < PAGE_PORTS) this.sparePages[spareIndex(offset)] = value;
  }

  // --- device side --------------------------------------------------------------------

  private attach(n: number, service: () => void): void {
    if (n === CASCADE_CHANNEL) throw new DmaConfigError('DMA channel 4 cascades channels 0–3; no device can use it');
    if (this.services[n] !== undefined) throw new DmaConfigError(`DMA channel ${n} already has a device`);
    this.services[n] = service;
  }

  private setRequest(n: number, level: boolean): void {
    const bit = 1 << n;
    const before = this.requestLines;
    this.requestLines = level ? before | bit : before & ~bit;
    if (level && this.granted(n)) this.service();
  }

  /** Requests pending on controller c (status bits 4–7): DREQ lines and software requests. */
  private pendingRequests(c: number): number {
    return ((this.requestLines >> (c * 4)) | this.ctl(c).softwareRequests) & 0x0f;
  }

  private granted(n: number): boolean {
    const c = n >> 2;
    const bit = 1 << (n & 3);
    const ctl = this.ctl(c);
    if ((this.pendingRequests(c) & bit) === 0) return false;
    if ((ctl.mask & bit) !== 0 || (ctl.command & Command.DISABLE) !== 0) return false;
    if ((this.regs(n).mode & Mode.MODE) === Mode.CASCADE) return false;
    return c === 1 || this.cascadeOpen();
  }

  /** Channels 0–3 reach the bus through channel 4: unmasked, in cascade mode, its controller enabled. */
  private cascadeOpen(): boolean {
    const second = this.ctl(1);
    return (second.mask & 1) === 0 && (second.command & Command.DISABLE) === 0
      && (this.regs(CASCADE_CHANNEL).mode & Mode.MODE) === Mode.CASCADE;
  }

  /** Calls the service routine of every granted channel, in channel order (the 8237's fixed priority). */
  private service(): void {
    this.serviceCalls++;
    if (this.servicing) return;
    this.servicing = true;
    try {
      for (let round = 0; round < MAX_SERVICE_ROUNDS; round++) {
        const calls = this.serviceCalls;
        for (let n = 0; n < CHANNELS; n++) {
          const service = this.services[n];
          if (service !== undefined && this.granted(n)) service();
        }
        if (this.serviceCalls === calls) break;
      }
    } finally {
      this.servicing = false;
    }
  }

  private transfer(n: number, buffer: Uint8Array, toMemory: boolean): DmaTransfer {
    if (!this.granted(n)) return NO_TRANSFER;
    const ch = this.regs(n);
    const unit = n >= 4 ? 2 : 1;
    const remaining = ch.currentCount + 1;
    let units = Math.floor(buffer.length / unit);
    const terminalCount = units >= remaining;
    if (terminalCount) units = remaining;
    if (units === 0) return NO_TRANSFER;

    const type = ch.mode & Mode.TRANSFER;
    const moves = (toMemory && type === Mode.WRITE) || (!toMemory && type === Mode.READ);
    if (moves) {
      this.moveRuns(n, ch, buffer.subarray(0, units * unit), toMemory);
    } else {
      if (type === Mode.ILLEGAL) this.odd.illegalTransferTypes++;
      else if (type !== Mode.VERIFY) {
        this.odd.transferTypeMismatches++;
        this.context.log.warn(`i8237: channel ${n} is programmed for a ${transferTypeOf(ch.mode)} transfer but its device moves data ${toMemory ? 'to' : 'from'} memory; no memory cycle`);
      }
      // No memory cycle drives the data bus: a device reading memory gets the floating bus.
      if (!toMemory) buffer.fill(0xff, 0, units * unit);
    }

    const decrement = (ch.mode & Mode.DECREMENT) !== 0;
    ch.currentAddress = (ch.currentAddress + (decrement ? -units : units)) & 0xffff;
    ch.currentCount = (ch.currentCount - units) & 0xffff;
    if (terminalCount) this.reachTerminalCount(n, ch);
    return { bytes: units * unit, terminalCount };
  }

  private reachTerminalCount(n: number, ch: ChannelRegs): void {
    const ctl = this.ctl(n >> 2);
    const bit = 1 << (n & 3);
    ctl.terminalCounts |= bit;
    ctl.softwareRequests &= ~bit;
    if ((ch.mode & Mode.AUTO_INITIALIZE) !== 0) {
      ch.currentAddress = ch.baseAddress;
      ch.currentCount = ch.baseCount;
    } else {
      ctl.mask |= bit;
    }
  }

  /**
   * Moves `data` (whole units) between the device and memory from the channel's current address, splitting it
   * where the address counter wraps; a decrementing channel puts successive units at falling addresses.
   */
  private moveRuns(n: number, ch: ChannelRegs, data: Uint8Array, toMemory: boolean): void {
    const unit = n >= 4 ? 2 : 1;
    const units = data.length / unit;
    const decrement = (ch.mode & Mode.DECREMENT) !== 0;
    let done = 0;
    let address = ch.currentAddress;
    while (done < units) {
      // A run of addresses that does not wrap: [low, low + length) in the counter's units.
      const length = Math.min(units - done, decrement ? address + 1 : 0x1_0000 - address);
      const low = decrement ? address - length + 1 : address;
      const physical = this.physical(n, ch.page, low);
      const slice = data.subarray(done * unit, (done + length) * unit);
      if (toMemory) {
        this.writeGuest(n, physical, decrement ? reversedUnits(slice, unit) : slice);
      } else if (decrement) {
        const block = new Uint8Array(slice.length);
        this.readGuest(n, physical, block);
        slice.set(reversedUnits(block, unit));
      } else {
        this.readGuest(n, physical, slice);
      }
      done += length;
      address = (decrement ? address - length : address + length) & 0xffff;
    }
  }

  private physical(n: number, page: number, address: number): number {
    return n >= 4 ? (page & 0xfe) * 0x1_0000 + address * 2 : page * 0x1_0000 + address;
  }

  private writeGuest(n: number, address: number, data: Uint8Array): void {
    const inside = Math.max(0, Math.min(data.length, this.memory.size - address));
    if (inside > 0 && !this.memory.write(address, data.subarray(0, inside))) this.unbacked(n, address, data.length, 'write');
    else if (inside < data.length) this.unbacked(n, address, data.length, 'write');
  }

  private readGuest(n: number, address: number, into: Uint8Array): void {
    const inside = Math.max(0, Math.min(into.length, this.memory.size - address));
    if (inside < into.length) into.fill(0xff, inside);
    if (inside > 0 && !this.memory.read(address, into.subarray(0, inside))) {
      into.fill(0xff, 0, inside);
      this.unbacked(n, address, into.length, 'read');
    } else if (inside < into.length) {
      this.unbacked(n, address, into.length, 'read');
    }
  }

  private unbacked(n: number, address: number, length: number, what: 'read' | 'write'): void {
    this.odd.unbackedTransfers++;
    this.context.log.warn(`i8237: channel ${n} memory ${what} of ${length} bytes at ${hex(address)} is outside guest RAM (${this.memory.size} bytes); ${what === 'write' ? 'dropped' : 'reads as FFh'}`);
  }

  // --- state --------------------------------------------------------------------------

  getState(): I8237PairState {
    return {
      model: MODEL,
      version: VERSION,
      controllers: this.controllers.map((c) => ({ ...c })),
      channels: this.channelRegs.map((c) => ({ ...c })),
      requestLines: this.requestLines,
      sparePages: [...this.sparePages],
    };
  }

  setState(state: I8237PairState): void {
    expectState(state, MODEL, VERSION);
    this.controllers = [0, 1].map((i) => {
      const c = state.controllers[i];
      return {
        command: (c?.command ?? 0) & 0xff,
        terminalCounts: (c?.terminalCounts ?? 0) & 0x0f,
        softwareRequests: (c?.softwareRequests ?? 0) & 0x0f,
        mask: (c?.mask ?? 0x0f) & 0x0f,
        highByte: c?.highByte ?? false,
      };
    });
    this.channelRegs = Array.from({ length: CHANNELS }, (_, i) => {
      const c = state.channels[i];
      return {
        baseAddress: (c?.baseAddress ?? 0) & 0xffff,
        currentAddress: (c?.currentAddress ?? 0) & 0xffff,
        baseCount: (c?.baseCount ?? 0) & 0xffff,
        currentCount: (c?.currentCount ?? 0) & 0xffff,
        mode: (c?.mode ?? 0) & 0xff,
        page: (c?.page ?? 0) & 0xff,
      };
    });
    this.requestLines = state.requestLines & 0xff;
    this.sparePages = Array.from({ length: SPARE_PAGES }, (_, i) => (state.sparePages[i] ?? 0) & 0xff);
  }

  anomalies(): Readonly<Record<string, number>> {
    return { ...this.odd };
  }

  private ctl(c: number): ControllerRegs {
    const ctl = this.controllers[c];
    if (ctl === undefined) throw new RangeError(`no DMA controller ${c}`);
    return ctl;
  }

  private regs(n: number): ChannelRegs {
    const ch = this.channelRegs[n];
    if (ch === undefined) throw new RangeError(`no DMA channel ${n}`);
    return ch;
  }
}

function transferTypeOf(mode: number): DmaTransferType {
  switch (mode & Mode.TRANSFER) {
    case Mode.VERIFY:
      return 'verify';
    case Mode.WRITE:
      return 'write';
    case Mode.READ:
      return 'read';
    default:
      return 'illegal';
  }
}

/** The index of a spare page port among the spare ones. */
function spareIndex(offset: number): number {
  let index = 0;
  for (let i = 0; i < offset; i++) if (PAGE_CHANNEL[i] === undefined) index++;
  return index;
}

/** `data` with its units (1 or 2 bytes, each kept in order) in reverse order. */
function reversedUnits(data: Uint8Array, unit: number): Uint8Array {
  const out = new Uint8Array(data.length);
  const units = data.length / unit;
  for (let i = 0; i < units; i++) out.set(data.subarray(i * unit, (i + 1) * unit), (units - 1 - i) * unit);
  return out;
}

function hex(value: number): string {
  return `${value.toString(16)}h`;
}
