/**
 * What an instruction costs the guest, in cycles: the CPU adds these to its
 * run's cycles, and the monitor turns cycles into guest time, so guest time
 * is the work the guest did. Exits cost nothing here: what an exit costs is
 * the metrics' business (the cost models), not the guest's.
 *
 * The default table is a simple in-order core of the Pentium class
 * (one cycle for a register operation, a few for memory and multiplies,
 * tens for divides and privileged transfers), in the spirit of the latency
 * columns of Agner Fog's instruction tables for the P5 — a model to count
 * with, not a claim about any one chip. `UNIT_CPI` makes every instruction
 * cost `OP_CYCLES`, as a scripted guest's operation does, for comparing
 * machine code with a scripted program step for step.
 */
import { OP_CYCLES } from '@splitvisor/abi';

export interface Cpi {
  /** Every instruction. */
  readonly base: number;
  /** Added when an operand is in memory (read, or read and written). */
  readonly memory: number;
  /** Added for MUL and IMUL. */
  readonly multiply: number;
  /** Added for DIV, IDIV, AAM. */
  readonly divide: number;
  /** Each element a string instruction moves or compares after the first (REP). */
  readonly stringElement: number;
  /** Added for a far transfer, an interrupt or exception, IRET, a segment load in protected mode. */
  readonly farTransfer: number;
  /** Added for CPUID, RDMSR, WRMSR, a control-register or descriptor-table load. */
  readonly serializing: number;
}

export const DEFAULT_CPI: Cpi = {
  base: 1,
  memory: 1,
  multiply: 3,
  divide: 20,
  stringElement: 1,
  farTransfer: 10,
  serializing: 20,
};

/** One `OP_CYCLES` per instruction, whatever it is (REP elements included in the one). */
export const UNIT_CPI: Cpi = {
  base: OP_CYCLES,
  memory: 0,
  multiply: 0,
  divide: 0,
  stringElement: 0,
  farTransfer: 0,
  serializing: 0,
};
