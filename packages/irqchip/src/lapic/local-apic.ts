/**
 * A local APIC in xAPIC mode (Intel SDM vol. 3A, chapter 11): interrupt
 * acceptance into IRR (and TMR for level-triggered), the priority rules
 * (TPR, PPR: a vector is delivered only if its priority class exceeds PPR's),
 * the CPU's acknowledge (IRR → ISR), EOI (and its broadcast to the I/O APIC
 * for level-triggered vectors), LDR/DFR for logical destinations, the
 * spurious-vector register (software enable), ESR, the ICR for IPIs (fixed,
 * lowest priority, NMI, INIT, start-up; physical or logical; shorthands), the
 * LVT (timer — composed from `@splitvisor/apic-timer` — LINT0/LINT1, error,
 * thermal, performance, CMCI) and the ExtINT path through which the 8259's
 * INTR reaches the CPU via LINT0.
 *
 * Region `registers` (4 KiB MMIO at FEE00000h, 32-bit accesses). Output 0:
 * "this CPU has an interrupt to take" (a deliverable vector, or ExtINT). The
 * CPU side calls `acknowledge()` when it takes one, and reads
 * `takeNmi()`/`takeInit()`/`takeStartup()` for the other events.
 *
 * As KVM's in-kernel LAPIC where the SDM leaves room: fixed interrupts are
 * dropped while the APIC is software-disabled; APR reads 0; EOI-broadcast
 * suppression is not offered. As QEMU: the bootstrap processor powers on
 * with LINT0 in ExtINT mode, unmasked, so the 8259 works before any APIC
 * programming.
 */
import type { AccessSize, Device, DeviceContext, IoRegion, TickPacing } from '@splitvisor/abi';
import { expectState } from '@splitvisor/abi';
import type { ApicTimerState } from '@splitvisor/apic-timer';
import { ApicTimer, ApicTimerReg } from '@splitvisor/apic-timer';
import type { DestinationShorthand, InterruptMessage } from '../interrupt-message.ts';
import { DeliveryMode } from '../ioapic/registers.ts';
import {
  DFR_MODEL_FLAT, DFR_RESERVED_ONES, Esr, ICR_LOW_WRITABLE, Icr, LAPIC_VERSION, LVT_ERROR_WRITABLE, LVT_LINT_WRITABLE,
  LVT_OTHER_WRITABLE, LapicReg, Lvt, SVR_WRITABLE, Svr,
} from './registers.ts';
import type { VectorSet } from './vector-set.ts';
import { addVector, emptyVectorSet, hasVector, highestVector, removeVector } from './vector-set.ts';

export interface LocalApicConfig {
  readonly apicId: number;
  /** Whether this is the bootstrap processor (LINT0 powers on in ExtINT mode). Default true for APIC ID 0. */
  readonly bootstrap?: boolean;
  readonly busHz?: number;
  readonly tscHz?: number;
  /** The timer's lost-tick policy in periodic mode (default `discard`: an expiry still in IRR merges, as on hardware). */
  readonly lostTickPolicy?: TickPacing;
  /** An IPI written to the ICR, for the routing to deliver (including to this APIC, for shorthands and self). */
  readonly sendIpi?: (message: InterruptMessage) => void;
  /** An EOI: `broadcast` when the vector was level-triggered (TMR set), for the I/O APIC's remote IRR. */
  readonly onEoi?: (vector: number, broadcast: boolean) => void;
}

/** LVT entries other than the timer's (which the composed ApicTimer keeps), by register. */
type LvtName = 'cmci' | 'thermal' | 'perf' | 'lint0' | 'lint1' | 'error';
const LVT_NAMES: Readonly<Record<number, LvtName>> = {
  [LapicReg.LVT_CMCI]: 'cmci', [LapicReg.LVT_THERMAL]: 'thermal', [LapicReg.LVT_PERF]: 'perf',
  [LapicReg.LVT_LINT0]: 'lint0', [LapicReg.LVT_LINT1]: 'lint1', [LapicReg.LVT_ERROR]: 'error',
};

export type LocalApicState = {
  readonly model: 'local-apic';
  readonly version: 1;
  readonly id: number;
  readonly tpr: number;
  readonly ldr: number;
  readonly dfr: number;
  readonly svr: number;
  readonly irr: readonly number[];
  readonly isr: readonly number[];
  readonly tmr: readonly number[];
  /** ESR: the value last latched by a write, and errors since. */
  readonly esr: number;
  readonly esrPending: number;
  readonly icrLow: number;
  readonly icrHigh: number;
  readonly lvt: Readonly<Record<LvtName, number>>;
  readonly lintLevels: readonly [boolean, boolean];
  readonly nmiPending: number;
  readonly initPending: boolean;
  /** Start-up vector waiting for the CPU, or -1. */
  readonly startupVector: number;
  /** An ExtINT message (an I/O APIC pin in ExtINT mode) waits: the CPU takes its vector from the 8259. */
  readonly extIntMessage: boolean;
  readonly timer: ApicTimerState;
};

const MODEL = 'local-apic' as const;
const VERSION = 1;

export class LocalApic implements Device<LocalApicState> {
  readonly model: 'local-apic' = MODEL;
  /**
   * The register page, and IA32_TSC_DEADLINE (MSR 6E0h, SDM 3A 11.5.4.1) as an
   * MSR region: its two 4-byte halves, low then high, so a WRMSR's value takes
   * effect when its high half arrives.
   */
  readonly regions: readonly IoRegion[] = [
    { name: 'registers', space: 'mmio', length: 0x1000, sizes: [4] },
    { name: 'tsc-deadline', space: 'msr', length: 8, sizes: [4] },
  ];
  private readonly context: DeviceContext;
  private readonly sendIpi: LocalApicConfig['sendIpi'];
  private readonly onEoi: LocalApicConfig['onEoi'];
  private readonly timer: ApicTimer;
  private id: number;
  private tpr = 0;
  /** The low half of a WRMSR to IA32_TSC_DEADLINE, until its high half arrives (within one access: not state). */
  private deadlineLow = 0;
  private ldr = 0;
  private dfr = 0xffff_ffff;
  private svr = 0xff;
  private irr: VectorSet = emptyVectorSet();
  private isr: VectorSet = emptyVectorSet();
  private tmr: VectorSet = emptyVectorSet();
  private esr = 0;
  private esrPending = 0;
  private icrLow = 0;
  private icrHigh = 0;
  private lvt: Record<LvtName, number>;
  private lintLevels: [boolean, boolean] = [false, false];
  private nmiPending = 0;
  private initPending = false;
  private startupVector = -1;
  private extIntMessage = false;
  private output = false;
  private readonly odd = { illegalRegisterAccesses: 0, droppedWhileDisabled: 0, illegalVectors: 0, spuriousAcknowledges: 0 };

  constructor(context: DeviceContext, config: LocalApicConfig) {
    this.context = context;
    this.id = config.apicId & 0xff;
    this.sendIpi = config.sendIpi;
    this.onEoi = config.onEoi;
    const bootstrap = config.bootstrap ?? config.apicId === 0;
    this.lvt = {
      cmci: Lvt.MASKED, thermal: Lvt.MASKED, perf: Lvt.MASKED, error: Lvt.MASKED, lint1: Lvt.MASKED,
      lint0: bootstrap ? DeliveryMode.extInt << Lvt.DELIVERY_MODE_SHIFT : Lvt.MASKED,
    };
    const timerConfig = {
      ...(config.busHz === undefined ? {} : { busHz: config.busHz }),
      ...(config.tscHz === undefined ? {} : { tscHz: config.tscHz }),
      ...(config.lostTickPolicy === undefined ? {} : { lostTickPolicy: config.lostTickPolicy }),
    };
    this.timer = new ApicTimer(context, (vector) => { this.acceptVector(vector, false); }, timerConfig);
    this.update();
  }

  get apicId(): number {
    return this.id;
  }

  private get softwareEnabled(): boolean {
    return (this.svr & Svr.APIC_ENABLED) !== 0;
  }

  // --- priorities ---------------------------------------------------------------

  /** PPR (§11.8.3.1): TPR if its class is at least the class in service, else that class. */
  private ppr(): number {
    const isrv = Math.max(0, highestVector(this.isr));
    return (this.tpr & 0xf0) >= (isrv & 0xf0) ? this.tpr & 0xff : isrv & 0xf0;
  }

  /** The vector the CPU would take now, or -1. */
  deliverableVector(): number {
    const vector = highestVector(this.irr);
    return vector >= 0 && (vector & 0xf0) > (this.ppr() & 0xf0) ? vector : -1;
  }

  /** The 8259 reaches the CPU through LINT0 in ExtINT mode while its INTR is high, or by an ExtINT message. */
  get extIntPending(): boolean {
    const lint0 = this.lvt.lint0;
    return this.extIntMessage || (this.lintLevels[0] && (lint0 & Lvt.MASKED) === 0
      && ((lint0 >> Lvt.DELIVERY_MODE_SHIFT) & Lvt.DELIVERY_MODE_MASK) === DeliveryMode.extInt);
  }

  /** The CPU took the ExtINT vector from the 8259. */
  extIntTaken(): void {
    this.extIntMessage = false;
    this.update();
  }

  private update(): void {
    const output = this.deliverableVector() >= 0 || this.extIntPending;
    if (output !== this.output) {
      this.output = output;
      this.context.setIrq(0, output);
    }
  }

  // --- accepting ------------------------------------------------------------------

  /** A message from the I/O APIC or another local APIC, already routed to this one. */
  accept(message: InterruptMessage): void {
    switch (message.deliveryMode) {
      case DeliveryMode.fixed:
      case DeliveryMode.lowestPriority:
        this.acceptVector(message.vector, message.levelTriggered);
        return;
      case DeliveryMode.nmi:
        this.nmiPending++;
        return;
      case DeliveryMode.init:
        // A level-triggered INIT de-assert is a no-op on xAPIC (SDM §11.6.1).
        if (message.levelTriggered && !message.level) return;
        this.initPending = true;
        return;
      case DeliveryMode.startup:
        this.startupVector = message.vector;
        return;
      case DeliveryMode.extInt:
        this.extIntMessage = true;
        this.update();
        return;
      default:
        return; // SMI is not modelled
    }
  }

  private acceptVector(vector: number, levelTriggered: boolean): void {
    if (vector < 16) {
      this.raiseError(Esr.RECEIVE_ILLEGAL_VECTOR);
      return;
    }
    if (!this.softwareEnabled) {
      this.odd.droppedWhileDisabled++;
      return;
    }
    addVector(this.irr, vector);
    if (levelTriggered) addVector(this.tmr, vector);
    else removeVector(this.tmr, vector);
    this.update();
  }

  private raiseError(bit: number): void {
    this.odd.illegalVectors += bit === Esr.ILLEGAL_REGISTER_ADDRESS ? 0 : 1;
    this.esrPending |= bit;
    const entry = this.lvt.error;
    if ((entry & Lvt.MASKED) !== 0) return;
    const vector = entry & Lvt.VECTOR_MASK;
    // An illegal vector in LVT error is itself an error: record it, without signalling again.
    if (vector < 16) this.esrPending |= Esr.RECEIVE_ILLEGAL_VECTOR;
    else this.acceptVector(vector, false);
  }

  /** A LINT0/LINT1 input changing level (the 8259's INTR on LINT0, NMI on LINT1 on the PC). */
  setLint(pin: 0 | 1, level: boolean): void {
    const rising = level && !this.lintLevels[pin];
    this.lintLevels[pin] = level;
    const entry = pin === 0 ? this.lvt.lint0 : this.lvt.lint1;
    if ((entry & Lvt.MASKED) === 0 && rising) {
      const mode = (entry >> Lvt.DELIVERY_MODE_SHIFT) & Lvt.DELIVERY_MODE_MASK;
      if (mode === DeliveryMode.nmi) this.nmiPending++;
      else if (mode === DeliveryMode.fixed) this.acceptVector(entry & Lvt.VECTOR_MASK, false);
    }
    this.update();
  }

  // --- the CPU side ----------------------------------------------------------------

  /**
   * The CPU takes an interrupt: the highest deliverable vector moves from IRR
   * to ISR. With none left (TPR raised, or the request gone), the spurious
   * vector, and nothing goes in service (§11.9).
   */
  acknowledge(): number {
    const vector = this.deliverableVector();
    if (vector < 0) {
      this.odd.spuriousAcknowledges++;
      return this.svr & Svr.VECTOR_MASK;
    }
    removeVector(this.irr, vector);
    addVector(this.isr, vector);
    this.update();
    return vector;
  }

  takeNmi(): boolean {
    if (this.nmiPending === 0) return false;
    this.nmiPending--;
    return true;
  }

  takeInit(): boolean {
    const pending = this.initPending;
    this.initPending = false;
    return pending;
  }

  takeStartup(): number {
    const vector = this.startupVector;
    this.startupVector = -1;
    return vector;
  }

  /** Whether this APIC is addressed by a message's destination (§11.6.2: physical, or logical flat/cluster). */
  matchesDestination(logical: boolean, destination: number): boolean {
    if (!logical) return destination === 0xff || destination === this.id;
    const logicalId = this.ldr >>> 24;
    if (destination === 0xff) return true;
    if (this.dfr >>> 28 === DFR_MODEL_FLAT) return (logicalId & destination) !== 0;
    // Cluster model: high nibble the cluster, low nibble a bit mask within it.
    return (logicalId >> 4) === (destination >> 4) && (logicalId & destination & 0x0f) !== 0;
  }

  /** Arbitration priority for lowest-priority delivery: lower is chosen first. */
  arbitrationPriority(): number {
    return this.ppr();
  }

  // --- registers -------------------------------------------------------------------

  read(region: string, offset: number, _size: AccessSize): number {
    if (region === 'tsc-deadline') {
      const deadline = this.timer.readTscDeadline();
      return Number(offset === 0 ? BigInt.asUintN(32, deadline) : deadline >> 32n);
    }
    const reg = offset & ~0xf;
    if ((offset & 0xf) !== 0) return 0; // only the first dword of each 16-byte slot exists
    switch (reg) {
      case LapicReg.ID: return (this.id << 24) >>> 0;
      case LapicReg.VERSION: return LAPIC_VERSION;
      case LapicReg.TPR: return this.tpr;
      case LapicReg.APR: return 0;
      case LapicReg.PPR: return this.ppr();
      case LapicReg.EOI: return 0;
      case LapicReg.RRD: return 0;
      case LapicReg.LDR: return this.ldr >>> 0;
      case LapicReg.DFR: return this.dfr >>> 0;
      case LapicReg.SVR: return this.svr;
      case LapicReg.ESR: return this.esr;
      case LapicReg.ICR_LOW: return this.icrLow; // delivery status reads idle: sending is immediate
      case LapicReg.ICR_HIGH: return this.icrHigh >>> 0;
      case ApicTimerReg.LVT_TIMER: return this.timer.readLvt();
      case ApicTimerReg.INITIAL_COUNT: return this.timer.readInitialCount();
      case ApicTimerReg.CURRENT_COUNT: return this.timer.readCurrentCount();
      case ApicTimerReg.DIVIDE_CONFIG: return this.timer.readDivideConfig();
      default:
        break;
    }
    if (reg >= LapicReg.ISR && reg < LapicReg.ESR) {
      const word = ((reg - LapicReg.ISR) >> 4) & 7;
      const set = reg < LapicReg.TMR ? this.isr : reg < LapicReg.IRR ? this.tmr : this.irr;
      return (set[word] ?? 0) >>> 0;
    }
    const name: LvtName | undefined = LVT_NAMES[reg];
    if (name !== undefined) return this.lvt[name];
    this.odd.illegalRegisterAccesses++;
    return 0;
  }

  write(region: string, offset: number, _size: AccessSize, value: number): void {
    if (region === 'tsc-deadline') {
      if (offset === 0) this.deadlineLow = value >>> 0;
      else this.timer.writeTscDeadline((BigInt(value >>> 0) << 32n) | BigInt(this.deadlineLow));
      return;
    }
    const reg = offset & ~0xf;
    if ((offset & 0xf) !== 0) return;
    const v = value >>> 0;
    switch (reg) {
      case LapicReg.ID: this.id = v >>> 24; return;
      case LapicReg.TPR: this.tpr = v & 0xff; this.update(); return;
      case LapicReg.EOI: this.eoi(); return;
      case LapicReg.LDR: this.ldr = v & 0xff00_0000; return;
      case LapicReg.DFR: this.dfr = (v & 0xf000_0000) | DFR_RESERVED_ONES; return;
      case LapicReg.SVR: this.writeSvr(v); return;
      case LapicReg.ESR:
        // A write latches the errors since the last write into the readable register (§11.5.3).
        this.esr = this.esrPending;
        this.esrPending = 0;
        return;
      case LapicReg.ICR_LOW: this.writeIcr(v & ICR_LOW_WRITABLE); return;
      case LapicReg.ICR_HIGH: this.icrHigh = v & 0xff00_0000; return;
      case ApicTimerReg.LVT_TIMER:
        this.timer.writeLvt(this.softwareEnabled ? v : v | Lvt.MASKED);
        return;
      case ApicTimerReg.INITIAL_COUNT: this.timer.writeInitialCount(v); return;
      case ApicTimerReg.DIVIDE_CONFIG: this.timer.writeDivideConfig(v); return;
      default:
        break;
    }
    const name: LvtName | undefined = LVT_NAMES[reg];
    if (name === undefined) {
      // Read-only registers (version, APR, PPR, RRD, ISR, TMR, IRR, current count) and holes.
      this.odd.illegalRegisterAccesses++;
      return;
    }
    const writable = name === 'lint0' || name === 'lint1' ? LVT_LINT_WRITABLE : name === 'error' ? LVT_ERROR_WRITABLE : LVT_OTHER_WRITABLE;
    // While software-disabled, the mask bits cannot be cleared (§11.4.7.2).
    this.lvt[name] = (v & writable) | (this.softwareEnabled ? 0 : Lvt.MASKED);
    this.update();
  }

  private writeSvr(value: number): void {
    this.svr = value & SVR_WRITABLE;
    if (!this.softwareEnabled) {
      // Software disable masks every LVT entry (§11.4.7.2).
      for (const name of Object.keys(this.lvt) as LvtName[]) this.lvt[name] |= Lvt.MASKED;
      this.timer.writeLvt(this.timer.readLvt() | Lvt.MASKED);
    }
    this.update();
  }

  private eoi(): void {
    const vector = highestVector(this.isr);
    if (vector < 0) return;
    removeVector(this.isr, vector);
    if (vector === this.timer.vector) this.timer.acknowledged();
    this.onEoi?.(vector, hasVector(this.tmr, vector));
    this.update();
  }

  private writeIcr(low: number): void {
    this.icrLow = low;
    const deliveryMode = (low >> Icr.DELIVERY_MODE_SHIFT) & Icr.DELIVERY_MODE_MASK;
    const vector = low & Icr.VECTOR_MASK;
    if ((deliveryMode === DeliveryMode.fixed || deliveryMode === DeliveryMode.lowestPriority) && vector < 16) {
      this.raiseError(Esr.SEND_ILLEGAL_VECTOR);
      return;
    }
    const shorthands: readonly DestinationShorthand[] = ['none', 'self', 'all-including-self', 'all-excluding-self'];
    const message: InterruptMessage = {
      vector, deliveryMode, logical: (low & Icr.DEST_MODE_LOGICAL) !== 0, destination: this.icrHigh >>> 24,
      level: (low & Icr.LEVEL_ASSERT) !== 0, levelTriggered: (low & Icr.TRIGGER_LEVEL) !== 0,
      shorthand: shorthands[(low >> Icr.SHORTHAND_SHIFT) & Icr.SHORTHAND_MASK] ?? 'none',
    };
    if (this.sendIpi !== undefined) this.sendIpi(message);
    else if (message.shorthand === 'self' || message.shorthand === 'all-including-self') this.accept(message); // alone on the bus
  }

  // --- state -----------------------------------------------------------------------

  getState(): LocalApicState {
    return {
      model: MODEL, version: VERSION, id: this.id, tpr: this.tpr, ldr: this.ldr, dfr: this.dfr, svr: this.svr,
      irr: [...this.irr], isr: [...this.isr], tmr: [...this.tmr], esr: this.esr, esrPending: this.esrPending,
      icrLow: this.icrLow, icrHigh: this.icrHigh, lvt: { ...this.lvt }, lintLevels: [...this.lintLevels],
      nmiPending: this.nmiPending, initPending: this.initPending, startupVector: this.startupVector, extIntMessage: this.extIntMessage,
      timer: this.timer.getState(),
    };
  }

  setState(state: LocalApicState): void {
    expectState(state, MODEL, VERSION);
    this.id = state.id;
    this.tpr = state.tpr;
    this.ldr = state.ldr;
    this.dfr = state.dfr;
    this.svr = state.svr;
    this.irr = [...state.irr];
    this.isr = [...state.isr];
    this.tmr = [...state.tmr];
    this.esr = state.esr;
    this.esrPending = state.esrPending;
    this.icrLow = state.icrLow;
    this.icrHigh = state.icrHigh;
    this.lvt = { ...state.lvt };
    this.lintLevels = [state.lintLevels[0], state.lintLevels[1]];
    this.nmiPending = state.nmiPending;
    this.initPending = state.initPending;
    this.startupVector = state.startupVector;
    this.extIntMessage = state.extIntMessage;
    this.timer.setState(state.timer);
    this.output = this.deliverableVector() >= 0 || this.extIntPending;
    this.context.setIrq(0, this.output);
  }

  anomalies(): Readonly<Record<string, number>> {
    return { ...this.odd, ...this.timer.anomalies() };
  }
}
