/**
 * The PC's two cascaded 8259As and their edge/level control registers: the
 * master's IR2 takes the slave's INT, ISA irqs 0–7 go to the master and
 * 8–15 to the slave, and the ELCR (Intel PIIX/ICH "ELCR1/ELCR2", ports 4D0h
 * and 4D1h) selects level sensing per input. IBM PC/AT technical reference
 * ("Interrupt controllers"); Intel 8259A datasheet; PIIX4 datasheet (ELCR).
 *
 * Regions: `master` and `slave` (2 ports each; the PC puts them at 20h and
 * A0h) and `elcr` (2 ports, 4D0h). Irq output 0: INTR to the CPU (or to the
 * local APIC's LINT0 as ExtINT). Inputs arrive through `setIrq`; the CPU's
 * interrupt acknowledge cycle is `acknowledge()`, which returns the vector.
 */
import type { AccessSize, Device, DeviceContext, IoRegion } from '@splitvisor/abi';
import { expectState } from '@splitvisor/abi';
import type { I8259State } from './pic.ts';
import { acknowledge, highestRequest, powerOnPic, setInput, writeCommand, writeData } from './pic.ts';
import { CASCADE_IRQ } from './registers.ts';

export type PicPairState = {
  readonly model: 'i8259-pair';
  readonly version: 1;
  readonly master: I8259State;
  readonly slave: I8259State;
};

export interface PicPairConfig {
  /**
   * Called with the ISA irq (0–15) whose service ended: on EOI, or at the
   * acknowledge in AEOI mode — KVM's irq ack notifier, which paces
   * re-injection of lost PIT ticks.
   */
  readonly onAck?: (isaIrq: number) => void;
  /** Called with the ISA irq whose IMR bit a write cleared (KVM's irq mask notifier). */
  readonly onUnmask?: (isaIrq: number) => void;
}

/** Inputs that cannot be level-sensed: the timer, keyboard and cascade on the master; the RTC and FPU error on the slave (as QEMU). */
export const ELCR_WRITABLE = [0xf8, 0xde] as const;

const MODEL = 'i8259-pair' as const;
const VERSION = 1;

export class PicPair implements Device<PicPairState> {
  readonly model: 'i8259-pair' = MODEL;
  readonly regions: readonly IoRegion[] = [
    { name: 'master', space: 'port', length: 2, sizes: [1] },
    { name: 'slave', space: 'port', length: 2, sizes: [1] },
    { name: 'elcr', space: 'port', length: 2, sizes: [1] },
  ];
  private readonly context: DeviceContext;
  private readonly onAck: ((isaIrq: number) => void) | undefined;
  private readonly onUnmask: ((isaIrq: number) => void) | undefined;
  private master: I8259State = powerOnPic();
  private slave: I8259State = powerOnPic();
  private intr = false;
  private readonly odd = { spuriousMaster: 0, spuriousSlave: 0, elcrReservedBits: 0 };

  constructor(context: DeviceContext, config: PicPairConfig = {}) {
    this.context = context;
    this.onAck = config.onAck;
    this.onUnmask = config.onUnmask;
    this.context.setIrq(0, false);
  }

  private chip(region: string): I8259State {
    return region === 'slave' ? this.slave : this.master;
  }

  /** Drives ISA irq `isaIrq` (0–15). */
  setIrq(isaIrq: number, level: boolean): void {
    if (isaIrq < 8) setInput(this.master, isaIrq, level);
    else setInput(this.slave, isaIrq - 8, level);
    this.update();
  }

  /** Whether INTR is asserted. */
  get interruptPending(): boolean {
    return this.intr;
  }

  /** Cascade and INTR: the slave's INT is the master's IR2; the master's INT is INTR. */
  private update(): void {
    setInput(this.master, CASCADE_IRQ, highestRequest(this.slave, false, CASCADE_IRQ) >= 0);
    const intr = highestRequest(this.master, true, CASCADE_IRQ) >= 0;
    if (intr !== this.intr) {
      this.intr = intr;
      this.context.setIrq(0, intr);
    }
  }

  /**
   * The CPU's interrupt acknowledge: the vector of the highest-priority
   * request, now in service. With nothing to deliver (the request went away
   * before INTA), the chip answers IR7 — the spurious vector — without
   * setting its in-service bit; a spurious slave request still puts the
   * cascade in service on the master (as QEMU).
   */
  acknowledge(): number {
    const irq = highestRequest(this.master, true, CASCADE_IRQ);
    let vector: number;
    if (irq < 0) {
      this.odd.spuriousMaster++;
      vector = this.master.vectorBase + 7;
    } else if (irq === CASCADE_IRQ) {
      const slaveIrq = highestRequest(this.slave, false, CASCADE_IRQ);
      if (slaveIrq >= 0) {
        if (acknowledge(this.slave, slaveIrq)) this.onAck?.(8 + slaveIrq);
        vector = this.slave.vectorBase + slaveIrq;
        // The slave's INT falls with the acknowledge; another request behind it (AEOI) raises it again, a new edge.
        setInput(this.master, CASCADE_IRQ, false);
      } else {
        this.odd.spuriousSlave++;
        vector = this.slave.vectorBase + 7;
      }
      acknowledge(this.master, irq);
    } else {
      if (acknowledge(this.master, irq)) this.onAck?.(irq);
      vector = this.master.vectorBase + irq;
    }
    this.update();
    return vector;
  }

  read(region: string, offset: number, _size: AccessSize): number {
    if (region === 'elcr') return (offset === 0 ? this.master : this.slave).elcr;
    const p = this.chip(region);
    if (p.poll) {
      // Poll word: the INTA of a polled system, without INTA — bit 7 set and the level, or 0.
      p.poll = false;
      const irq = highestRequest(p, p === this.master, CASCADE_IRQ);
      if (irq < 0) return 0;
      if (acknowledge(p, irq)) this.onAck?.(p === this.master ? irq : 8 + irq);
      this.update();
      return 0x80 | irq;
    }
    if (offset === 1) return p.imr;
    return p.readIsr ? p.isr : p.irr;
  }

  write(region: string, offset: number, _size: AccessSize, value: number): void {
    const byte = value & 0xff;
    if (region === 'elcr') {
      const writable = ELCR_WRITABLE[offset === 0 ? 0 : 1];
      if ((byte & ~writable) !== 0) this.odd.elcrReservedBits++;
      (offset === 0 ? this.master : this.slave).elcr = byte & writable;
      this.update();
      return;
    }
    const p = this.chip(region);
    if (offset === 0) {
      const ended = writeCommand(p, byte);
      for (const irq of ended) this.onAck?.(p === this.master ? irq : 8 + irq);
    } else {
      const before = p.imr;
      const wasMaskWrite = p.initState === 0;
      writeData(p, byte);
      const unmasked = wasMaskWrite ? before & ~p.imr : 0;
      for (let irq = 0; irq < 8; irq++) if ((unmasked & (1 << irq)) !== 0) this.onUnmask?.(p === this.master ? irq : 8 + irq);
    }
    this.update();
  }

  getState(): PicPairState {
    return { model: MODEL, version: VERSION, master: { ...this.master }, slave: { ...this.slave } };
  }

  setState(state: PicPairState): void {
    expectState(state, MODEL, VERSION);
    this.master = { ...state.master };
    this.slave = { ...state.slave };
    this.intr = highestRequest(this.master, true, CASCADE_IRQ) >= 0;
    this.context.setIrq(0, this.intr);
  }

  anomalies(): Readonly<Record<string, number>> {
    return { ...this.odd };
  }
}
