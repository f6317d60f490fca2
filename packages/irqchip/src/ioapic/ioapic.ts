/**
 * The I/O APIC: 24 inputs, each with a redirection entry that turns an edge
 * or an asserted level into an interrupt message; for level-triggered
 * entries, remote IRR holds off further messages until the local APIC's EOI
 * for that vector comes back, and a line still asserted then is delivered
 * again. Intel 82093AA datasheet, §2 "Functional Description" and §3.2.4
 * "I/O Redirection Table Registers".
 *
 * Region `registers` (MMIO; FEC00000h on the PC). Inputs through `setIrq`,
 * EOIs through `eoi(vector)` (the local APICs' broadcast, or the EOI
 * register), messages out through the `deliver` callback. Lines carry the
 * asserted level, so the polarity bit is stored but does not invert (as
 * QEMU). Edges on masked pins are ignored (82093AA: "masked edge-sensitive
 * interrupts are lost"), levels wait for the unmask.
 */
import type { AccessSize, Device, DeviceContext, IoRegion } from '@splitvisor/abi';
import { expectState } from '@splitvisor/abi';
import type { InterruptMessage } from '../interrupt-message.ts';
import {
  IOAPIC_PINS, IOAPIC_VERSION, IoapicIndex, IoapicMmio, REDIRECTION_DEFINED, REDIRECTION_RO, Redirection,
} from './registers.ts';

export type IoapicState = {
  readonly model: 'ioapic';
  readonly version: 1;
  readonly id: number;
  readonly ioregsel: number;
  /** Redirection entries as [low, high] 32-bit halves. */
  readonly entries: readonly (readonly [number, number])[];
  /** Pins whose lines are asserted (level) or whose edge awaits delivery. */
  readonly irr: number;
  /** The level of each input line, as last driven: an edge is a change from low to high. */
  readonly lines: number;
};

export interface IoapicConfig {
  /** Receives each interrupt message (the routing delivers it to the local APICs). */
  readonly deliver: (message: InterruptMessage, pin: number) => void;
  /** Called for a pin whose level-triggered interrupt was EOIed (KVM's ack notifier on the IOAPIC). */
  readonly onEoi?: (pin: number) => void;
  /** Called for a pin whose redirection entry a write unmasked (KVM's irq mask notifier). */
  readonly onUnmask?: (pin: number) => void;
}

const MODEL = 'ioapic' as const;
const VERSION = 1;

export class Ioapic implements Device<IoapicState> {
  readonly model: 'ioapic' = MODEL;
  readonly regions: readonly IoRegion[] = [{ name: 'registers', space: 'mmio', length: 0x1000, sizes: [4] }];
  private readonly deliverMessage: IoapicConfig['deliver'];
  private readonly onEoi: IoapicConfig['onEoi'];
  private readonly onUnmask: IoapicConfig['onUnmask'];
  private lines = 0;
  private id = 0;
  private ioregsel = 0;
  private entries: [number, number][] = Array.from({ length: IOAPIC_PINS }, (): [number, number] => [Redirection.MASKED, 0]);
  private irr = 0;
  private readonly odd = { readOnlyWrites: 0, unknownRegisters: 0 };

  constructor(_context: DeviceContext, config: IoapicConfig) {
    this.deliverMessage = config.deliver;
    this.onEoi = config.onEoi;
    this.onUnmask = config.onUnmask;
  }

  /** Drives input `pin` (0–23). */
  setIrq(pin: number, level: boolean): void {
    const entry = this.entries[pin];
    if (entry === undefined) return;
    const mask = 1 << pin;
    const rising = level && (this.lines & mask) === 0;
    this.lines = level ? this.lines | mask : this.lines & ~mask;
    if ((entry[0] & Redirection.TRIGGER_LEVEL) !== 0) {
      if (level) {
        this.irr |= mask;
        this.service();
      } else {
        this.irr &= ~mask;
      }
    } else if (rising && (entry[0] & Redirection.MASKED) === 0) {
      this.irr |= mask;
      this.service();
    }
  }

  /** The local APICs' EOI broadcast for `vector` (or a write of it to the EOI register). */
  eoi(vector: number): void {
    this.entries.forEach((entry, pin) => {
      const [low] = entry;
      if ((low & Redirection.VECTOR_MASK) !== vector || (low & Redirection.TRIGGER_LEVEL) === 0 || (low & Redirection.REMOTE_IRR) === 0) return;
      entry[0] = low & ~Redirection.REMOTE_IRR;
      this.onEoi?.(pin);
    });
    this.service();
  }

  /** Sends a message for every pending, unmasked pin not held off by remote IRR. */
  private service(): void {
    for (let pin = 0; pin < IOAPIC_PINS; pin++) {
      const mask = 1 << pin;
      const entry = this.entries[pin];
      if ((this.irr & mask) === 0 || entry === undefined) continue;
      const [low, high] = entry;
      if ((low & Redirection.MASKED) !== 0) continue;
      const levelTriggered = (low & Redirection.TRIGGER_LEVEL) !== 0;
      if (levelTriggered) {
        if ((low & Redirection.REMOTE_IRR) !== 0) continue;
        entry[0] = low | Redirection.REMOTE_IRR;
      } else {
        this.irr &= ~mask;
      }
      this.deliverMessage({
        vector: low & Redirection.VECTOR_MASK,
        deliveryMode: (low >> Redirection.DELIVERY_MODE_SHIFT) & Redirection.DELIVERY_MODE_MASK,
        logical: (low & Redirection.DEST_MODE_LOGICAL) !== 0,
        destination: high >>> 24,
        level: true,
        levelTriggered,
        shorthand: 'none',
      }, pin);
    }
  }

  read(_region: string, offset: number, _size: AccessSize): number {
    switch (offset) {
      case IoapicMmio.IOREGSEL:
        return this.ioregsel;
      case IoapicMmio.IOWIN:
        return this.readIndirect(this.ioregsel);
      default:
        return 0;
    }
  }

  private readIndirect(index: number): number {
    switch (index) {
      case IoapicIndex.ID:
        return (this.id << 24) >>> 0;
      case IoapicIndex.VERSION:
        return ((IOAPIC_PINS - 1) << 16) | IOAPIC_VERSION;
      case IoapicIndex.ARBITRATION:
        return 0; // as QEMU
      default: {
        const entry = this.entries[(index - IoapicIndex.REDIRECTION_TABLE) >> 1];
        if (index < IoapicIndex.REDIRECTION_TABLE || entry === undefined) {
          this.odd.unknownRegisters++;
          return 0;
        }
        return ((index & 1) === 1 ? entry[1] : entry[0]) >>> 0;
      }
    }
  }

  write(_region: string, offset: number, _size: AccessSize, value: number): void {
    switch (offset) {
      case IoapicMmio.IOREGSEL:
        this.ioregsel = value & 0xff;
        return;
      case IoapicMmio.IOWIN:
        this.writeIndirect(this.ioregsel, value >>> 0);
        return;
      case IoapicMmio.EOI:
        this.eoi(value & 0xff);
        return;
      default:
        this.odd.readOnlyWrites++;
    }
  }

  private writeIndirect(index: number, value: number): void {
    if (index === IoapicIndex.ID) {
      this.id = (value >>> 24) & 0x0f;
      return;
    }
    const entry = this.entries[(index - IoapicIndex.REDIRECTION_TABLE) >> 1];
    if (index < IoapicIndex.REDIRECTION_TABLE || entry === undefined) {
      this.odd.readOnlyWrites++; // version, arbitration, beyond the table
      return;
    }
    if ((index & 1) === 1) {
      entry[1] = value & 0xff00_0000; // destination, bits 63:56
      return;
    }
    // Bits 31:17 are reserved (82093AA table 2): they read as 0.
    const before = entry[0];
    let low = (value & REDIRECTION_DEFINED & ~REDIRECTION_RO) | (before & REDIRECTION_RO);
    // An edge-triggered entry has no remote IRR (as QEMU: configuring edge clears it).
    if ((low & Redirection.TRIGGER_LEVEL) === 0) low &= ~Redirection.REMOTE_IRR;
    entry[0] = low >>> 0;
    // A level entry sees its line as it is now, whatever the entry said before.
    const pin = (index - IoapicIndex.REDIRECTION_TABLE) >> 1;
    if ((low & Redirection.TRIGGER_LEVEL) !== 0) this.irr = (this.lines & (1 << pin)) !== 0 ? this.irr | (1 << pin) : this.irr & ~(1 << pin);
    if ((before & Redirection.MASKED) !== 0 && (low & Redirection.MASKED) === 0) this.onUnmask?.(pin);
    this.service();
  }

  getState(): IoapicState {
    return { model: MODEL, version: VERSION, id: this.id, ioregsel: this.ioregsel, entries: this.entries.map(([l, h]) => [l, h] as const), irr: this.irr, lines: this.lines };
  }

  setState(state: IoapicState): void {
    expectState(state, MODEL, VERSION);
    this.id = state.id;
    this.ioregsel = state.ioregsel;
    this.entries = state.entries.map(([l, h]): [number, number] => [l, h]);
    this.irr = state.irr;
    this.lines = state.lines;
  }

  anomalies(): Readonly<Record<string, number>> {
    return { ...this.odd };
  }
}
