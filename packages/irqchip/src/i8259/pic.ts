/**
 * One 8259A, as plain state and the functions of the datasheet's logic:
 * the interrupt request register (edge- or level-sensed), the mask, the
 * in-service register, the priority resolver with rotation, and the command
 * words. Intel 8259A datasheet, "Functional Description" and "Programming
 * the 8259A".
 *
 * Where the datasheet leaves room, QEMU's i8259 is followed and marked so:
 * ICW1 keeps level-triggered requests pending (the ELCR says they are still
 * asserted); a poll applies to the next read of either port; the cascade
 * address in ICW3 is accepted and not otherwise used (the PC wires the slave
 * to IR2).
 */
import { ICW2_VECTOR_MASK, Icw1, Icw4, Ocw2, Ocw3 } from './registers.ts';

export type I8259State = {
  /** Input levels as last driven, for edge detection. */
  lastLevels: number;
  irr: number;
  imr: number;
  isr: number;
  /** The level with the lowest priority is (priorityAdd + 7) & 7: rotation moves it. */
  priorityAdd: number;
  /** ICW2: vector base (8086 mode). */
  vectorBase: number;
  /** OCW3 RIS: a read of port 0 returns the ISR (else the IRR). */
  readIsr: boolean;
  /** OCW3 P: the next read returns the poll word. */
  poll: boolean;
  specialMask: boolean;
  /** 0 ready; 1, 2, 3: expecting ICW2, ICW3, ICW4. */
  initState: number;
  autoEoi: boolean;
  rotateOnAutoEoi: boolean;
  specialFullyNested: boolean;
  icw4Needed: boolean;
  single: boolean;
  /** ICW1 LTIM: every input level-sensed. */
  levelTriggered: boolean;
  /** ICW3 as written (cascade wiring on the master, slave ID on the slave). */
  icw3: number;
  /** The PC's ELCR for this chip: inputs sensed by level (ports 4D0h/4D1h). */
  elcr: number;
};

export function powerOnPic(): I8259State {
  return {
    lastLevels: 0, irr: 0, imr: 0, isr: 0, priorityAdd: 0, vectorBase: 0, readIsr: false, poll: false, specialMask: false,
    initState: 0, autoEoi: false, rotateOnAutoEoi: false, specialFullyNested: false, icw4Needed: false, single: false,
    levelTriggered: false, icw3: 0, elcr: 0,
  };
}

function levelSensed(p: I8259State, mask: number): boolean {
  return p.levelTriggered || (p.elcr & mask) !== 0;
}

/** An input (IR0–IR7) changing level. */
export function setInput(p: I8259State, irq: number, level: boolean): void {
  const mask = 1 << irq;
  if (levelSensed(p, mask)) {
    // Level-sensed: the request follows the line.
    if (level) p.irr |= mask;
    else p.irr &= ~mask;
  } else if (level && (p.lastLevels & mask) === 0) {
    p.irr |= mask; // a rising edge latches a request
  }
  if (level) p.lastLevels |= mask;
  else p.lastLevels &= ~mask;
}

/** The priority (0 highest) of the highest-priority bit of `mask`, or 8 if none. */
function priorityOf(p: I8259State, mask: number): number {
  if (mask === 0) return 8;
  let priority = 0;
  while ((mask & (1 << ((priority + p.priorityAdd) & 7))) === 0) priority++;
  return priority;
}

/**
 * The level the resolver would present to the CPU now, or -1: the
 * highest-priority unmasked request, if it outranks everything in service
 * (special mask mode: ignoring masked in-service levels; special fully nested
 * mode: ignoring the cascade level on the master).
 */
export function highestRequest(p: I8259State, isMaster: boolean, cascade: number): number {
  const priority = priorityOf(p, p.irr & ~p.imr);
  if (priority === 8) return -1;
  let inService = p.isr;
  if (p.specialMask) inService &= ~p.imr;
  if (p.specialFullyNested && isMaster) inService &= ~(1 << cascade);
  return priority < priorityOf(p, inService) ? (priority + p.priorityAdd) & 7 : -1;
}

/**
 * The INTA sequence for level `irq`: set its ISR bit (or, in AEOI mode, don't,
 * and rotate if asked), and clear its request unless it is level-sensed.
 * Returns whether the level left service at once (AEOI), for ack notifiers.
 */
export function acknowledge(p: I8259State, irq: number): boolean {
  const mask = 1 << irq;
  if (p.autoEoi) {
    if (p.rotateOnAutoEoi) p.priorityAdd = (irq + 1) & 7;
  } else {
    p.isr |= mask;
  }
  if (!levelSensed(p, mask)) p.irr &= ~mask;
  return p.autoEoi;
}

/** ICW1: start initialisation (datasheet: clears IMR, ISR, special mask, rotation; reads IRR). */
function initialise(p: I8259State, icw1: number): void {
  const elcr = p.elcr;
  const levels = p.lastLevels;
  Object.assign(p, powerOnPic());
  p.elcr = elcr;
  // Level-sensed requests whose lines are still high stay pending (as QEMU); an edge must come again,
  // and the lines' levels are still what they are.
  p.irr = levels & elcr;
  p.lastLevels = levels;
  p.icw4Needed = (icw1 & Icw1.IC4) !== 0;
  p.single = (icw1 & Icw1.SNGL) !== 0;
  p.levelTriggered = (icw1 & Icw1.LTIM) !== 0;
  p.initState = 1;
}

/** A write to port 0 (ICW1, OCW2, OCW3). Returns the levels an EOI took out of service, for ack notifiers. */
export function writeCommand(p: I8259State, value: number): number[] {
  if ((value & Icw1.MARKER) !== 0) {
    initialise(p, value);
    return [];
  }
  if ((value & Ocw3.MARKER) !== 0) {
    if ((value & Ocw3.P) !== 0) p.poll = true;
    if ((value & Ocw3.RR) !== 0) p.readIsr = (value & Ocw3.RIS) !== 0;
    if ((value & Ocw3.ESMM) !== 0) p.specialMask = (value & Ocw3.SMM) !== 0;
    return [];
  }
  const command = value >> 5;
  const level = value & 7;
  switch (command) {
    case Ocw2.rotateInAeoiClear:
    case Ocw2.rotateInAeoiSet:
      p.rotateOnAutoEoi = command === Ocw2.rotateInAeoiSet;
      return [];
    case Ocw2.nonSpecificEoi:
    case Ocw2.rotateOnNonSpecificEoi: {
      const priority = priorityOf(p, p.isr);
      if (priority === 8) return [];
      const irq = (priority + p.priorityAdd) & 7;
      p.isr &= ~(1 << irq);
      if (command === Ocw2.rotateOnNonSpecificEoi) p.priorityAdd = (irq + 1) & 7;
      return [irq];
    }
    case Ocw2.specificEoi:
    case Ocw2.rotateOnSpecificEoi: {
      const wasInService = (p.isr & (1 << level)) !== 0;
      p.isr &= ~(1 << level);
      if (command === Ocw2.rotateOnSpecificEoi) p.priorityAdd = (level + 1) & 7;
      return wasInService ? [level] : [];
    }
    case Ocw2.setPriority:
      p.priorityAdd = (level + 1) & 7; // `level` becomes the lowest priority
      return [];
    default:
      return []; // no operation
  }
}

/** A write to port 1 (ICW2–ICW4 during initialisation, OCW1 otherwise). */
export function writeData(p: I8259State, value: number): void {
  switch (p.initState) {
    case 1:
      p.vectorBase = value & ICW2_VECTOR_MASK;
      p.initState = p.single ? (p.icw4Needed ? 3 : 0) : 2;
      return;
    case 2:
      p.icw3 = value;
      p.initState = p.icw4Needed ? 3 : 0;
      return;
    case 3:
      // ICW4: 8086 mode, buffered mode and M/S are accepted; only AEOI and SFNM change behaviour here.
      p.autoEoi = (value & Icw4.AEOI) !== 0;
      p.specialFullyNested = (value & Icw4.SFNM) !== 0;
      p.initState = 0;
      return;
    default:
      p.imr = value; // OCW1
  }
}
