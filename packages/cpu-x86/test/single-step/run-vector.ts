/**
 * Runs one SingleStepTests 80286 vector (see moo.ts) on a CPU and lists how
 * the CPU's final state differs from the one recorded on the real chip; an
 * empty list is a pass. The method is the suite's README's ("Using the
 * Tests", "Test Methodology"):
 *
 * - 16 MiB of RAM, zero but for the vector's initial bytes; the registers
 *   from the initial state, FLAGS without their top four bits (IOPL and NT:
 *   the vectors were loaded by LOADALL, and real mode cannot hold them).
 * - Each vector ends in HLT: after the instruction, or — for a jump, a call,
 *   an interrupt or an exception — injected by the test rig at the first
 *   fetch at the new CS:IP. The final IP is one past that HLT, so the runner
 *   writes F4h at final CS:(IP − 1) (IP wrapping in 64 KiB) and runs to the
 *   `hlt` exit.
 * - An IN reads all-ones (0xFF per byte).
 * - Every register is compared (the final state lists the changed ones, the
 *   rest are the initial values), and every byte of the initial and final RAM
 *   lists. The FLAGS bits the manuals leave undefined (undefined-flags.ts)
 *   are masked, in the FLAGS register and in the FLAGS image an interrupt or
 *   exception pushed.
 * - A 386-class CPU may be excused the 80286's own behaviours (only-286.ts):
 *   the vectors that show them are skipped, or compared without the
 *   registers or flags where the 386 differs.
 *
 * Bytes outside the vector's lists are not compared: a write to an address
 * no vector names goes unnoticed unless it lands on a listed one.
 */
import type { MooRegister, MooTest } from './moo.ts';
import type { Only286 } from './only-286.ts';
import { allowanceFor } from './only-286.ts';
import { AF, CF, OF, PF, SF, ZF, undefinedFlags } from './undefined-flags.ts';

/** The suite assumes 16 MiB of RAM (the 286's 24 address lines). */
export const MEMORY_BYTES = 16 << 20;
/** FLAGS bits a real-mode 286 can hold: not IOPL (12–13), NT (14) or bit 15. */
export const REAL_MODE_FLAGS = 0x0fff;
const HLT = 0xf4;

/** Where the CPU starts: real-mode selectors (base = selector × 16) and offsets. */
export interface SubjectStart {
  readonly cs: number;
  readonly ip: number;
  readonly ss: number;
  readonly sp: number;
  readonly ds: number;
  readonly es: number;
}

/** What the runner reads of an exit (GuestExit satisfies it). */
export interface SubjectExit {
  readonly kind: string;
  readonly direction?: 'in' | 'out';
  readonly size?: number;
  readonly count?: number;
}

/** The CPU under test, as the runner drives it; an adapter per CPU (subjects.ts). */
export interface SingleStepSubject {
  /** EAX ECX EDX EBX ESP EBP ESI EDI, 32 bits each. */
  readonly regs: Uint32Array;
  /** (E)IP. */
  ip: number;
  /** (E)FLAGS. */
  flags: number;
  /** A segment register's selector: 0–5 = ES CS SS DS FS GS. */
  selector(segment: number): number;
  run(budget: number): { readonly exit: SubjectExit; readonly cycles: number };
  /** Completes an `io` read. */
  complete(data: Uint8Array): void;
  /** Why the CPU shut down, for the report. */
  readonly fault: unknown;
}

export type SubjectFactory = (memory: Uint8Array, start: SubjectStart) => SingleStepSubject;

export interface VectorDifference {
  /** A register's name, `flags`, `ram[address]` or `exit`. */
  readonly where: string;
  readonly expected: string;
  readonly actual: string;
}

export interface RunnerLimits {
  /** Cycles per `run` call. */
  readonly budget: number;
  /** Cycles in all before a vector counts as never halting. */
  readonly maxCycles: number;
  /** Exits in all before a vector counts as never halting. */
  readonly maxExits: number;
}

/** Generous: the longest vectors (REP string forms with CX < 128) run a few hundred instructions. */
export const DEFAULT_LIMITS: RunnerLimits = { budget: 100_000, maxCycles: 1_000_000, maxExits: 10_000 };

/** The general registers' places in `regs` (the ModRM reg encoding). */
const GENERAL: readonly (readonly [MooRegister, number])[] = [
  ['ax', 0], ['cx', 1], ['dx', 2], ['bx', 3], ['sp', 4], ['bp', 5], ['si', 6], ['di', 7],
];
/** The segment registers' numbers for `selector`. */
const SEGMENTS: readonly (readonly [MooRegister, number])[] = [['es', 0], ['cs', 1], ['ss', 2], ['ds', 3]];

const FLAG_NAMES: readonly (readonly [string, number])[] = [
  ['CF', CF], ['PF', PF], ['AF', AF], ['ZF', ZF], ['SF', SF], ['TF', 0x100], ['IF', 0x200], ['DF', 0x400], ['OF', OF],
];

function hex(value: number, digits: number): string {
  return `0x${value.toString(16).padStart(digits, '0')}`;
}

/** FLAGS as hex and the names of its set flags. */
export function describeFlags(value: number): string {
  const names = FLAG_NAMES.filter(([, bit]) => (value & bit) !== 0).map(([name]) => name);
  return `${hex(value, 4)} [${names.join(' ')}]`;
}

export function describeDifference(difference: VectorDifference): string {
  return `${difference.where}: expected ${difference.expected}, got ${difference.actual}`;
}

function describeFault(fault: unknown): string {
  if (fault === undefined) return 'no fault given';
  try {
    return JSON.stringify(fault);
  } catch {
    return 'a fault record JSON cannot show';
  }
}

/**
 * Runs vectors one after another in one 16 MiB RAM. After a vector that
 * passes it clears the bytes the vector named; after one that fails (whose
 * CPU may have written anywhere) all of it.
 */
export class VectorRunner {
  readonly memory = new Uint8Array(MEMORY_BYTES);
  private readonly subject: SubjectFactory;
  private readonly excused: ReadonlySet<Only286>;
  private readonly limits: RunnerLimits;

  /** A runner for the CPU `subject` makes, excused the 286-only behaviours in `excused`. */
  constructor(subject: SubjectFactory, excused: ReadonlySet<Only286> = new Set(), limits: RunnerLimits = DEFAULT_LIMITS) {
    this.subject = subject;
    this.excused = excused;
    this.limits = limits;
  }

  /** The excused 286-only behaviour for which `test` is not to be run, if any. */
  skipReason(test: MooTest, form: string): Only286 | undefined {
    return allowanceFor(form, test, this.excused).skip;
  }

  /**
   * The differences of `test`, a vector of the suite's form `form` (its file
   * name: `D3.4`). It runs even if `skipReason` names a reason not to.
   */
  run(test: MooTest, form: string): VectorDifference[] {
    const differences = this.differences(test, form);
    if (differences.length === 0) this.clear(test);
    else this.memory.fill(0);
    return differences;
  }

  private clear(test: MooTest): void {
    const memory = this.memory;
    for (const [address] of test.initial.ram) memory[address] = 0;
    for (const [address] of test.final.ram) memory[address] = 0;
    memory[haltAddress(test)] = 0;
  }

  private differences(test: MooTest, form: string): VectorDifference[] {
    const memory = this.memory;
    const initial = test.initial.regs;
    for (const [address, value] of test.initial.ram) memory[address] = value;
    memory[haltAddress(test)] = HLT;

    const cpu = this.subject(memory, initial);
    for (const [name, index] of GENERAL) cpu.regs[index] = initial[name];
    cpu.ip = initial.ip;
    cpu.flags = initial.flags & REAL_MODE_FLAGS;

    const stop = this.runToHalt(cpu);
    if (stop !== undefined) return [stop];

    const allowance = allowanceFor(form, test, this.excused);
    const differences: VectorDifference[] = [];
    const final = test.final.regs;
    const expect = (name: MooRegister): number => final[name] ?? initial[name];
    for (const [name, index] of GENERAL) {
      if (allowance.ignoredRegisters.includes(name)) continue;
      const actual = cpu.regs[index] ?? 0;
      if (actual !== expect(name)) differences.push({ where: name, expected: hex(expect(name), 4), actual: hex(actual, 4) });
    }
    for (const [name, segment] of SEGMENTS) {
      const actual = cpu.selector(segment);
      if (actual !== expect(name)) differences.push({ where: name, expected: hex(expect(name), 4), actual: hex(actual, 4) });
    }
    if (cpu.ip !== expect('ip')) differences.push({ where: 'ip', expected: hex(expect('ip'), 4), actual: hex(cpu.ip, 4) });

    const undefinedBits = undefinedFlags(form, test);
    const ignoredFlags = undefinedBits | allowance.ignoredFlags;
    const expectedFlags = final.flags ?? initial.flags & REAL_MODE_FLAGS;
    if ((cpu.flags & ~ignoredFlags) !== (expectedFlags & ~ignoredFlags)) {
      differences.push({ where: 'flags', expected: describeFlags(expectedFlags), actual: describeFlags(cpu.flags) });
    }

    const expectedRam = new Map<number, number>();
    for (const [address, value] of test.initial.ram) expectedRam.set(address, value);
    for (const [address, value] of test.final.ram) expectedRam.set(address, value);
    const ignored = pushedFlagsMasks(test, undefinedBits);
    for (const [address, value] of expectedRam) {
      const mask = ~(ignored.get(address) ?? 0) & 0xff;
      const actual = memory[address] ?? 0;
      if ((actual & mask) !== (value & mask)) {
        differences.push({ where: `ram[${hex(address, 6)}]`, expected: hex(value, 2), actual: hex(actual, 2) });
      }
    }
    return differences;
  }

  /** Runs `cpu` to its `hlt` exit; a difference if it never gets there. */
  private runToHalt(cpu: SingleStepSubject): VectorDifference | undefined {
    const { budget, maxCycles, maxExits } = this.limits;
    let cycles = 0;
    for (let exits = 0; exits < maxExits && cycles < maxCycles; exits++) {
      const result = cpu.run(Math.min(budget, maxCycles - cycles));
      cycles += result.cycles;
      const { exit } = result;
      if (exit.kind === 'hlt') return undefined;
      if (exit.kind === 'shutdown') return { where: 'exit', expected: 'hlt', actual: `shutdown: ${describeFault(cpu.fault)}` };
      if (exit.kind === 'io' && exit.direction === 'in') {
        cpu.complete(new Uint8Array((exit.size ?? 1) * (exit.count ?? 1)).fill(0xff));
      }
    }
    return { where: 'exit', expected: 'hlt', actual: `no hlt within ${maxExits} exits or ${maxCycles} cycles` };
  }
}

/** The HLT's physical address: final CS:(IP − 1), IP wrapping at 64 KiB. */
function haltAddress(test: MooTest): number {
  const cs = test.final.regs.cs ?? test.initial.regs.cs;
  const ip = test.final.regs.ip ?? test.initial.regs.ip;
  return cs * 16 + ((ip - 1) & 0xffff);
}

/**
 * The bits to ignore at the bytes of the FLAGS image an interrupt pushed: the
 * undefined flags, at the image the handler's SS:SP points past (IP, CS,
 * FLAGS). The vector's flag address is that word's even bus address, one
 * below the image when SP is odd; it is used as given if SS:SP disagrees.
 */
function pushedFlagsMasks(test: MooTest, undefinedBits: number): Map<number, number> {
  const masks = new Map<number, number>();
  if (test.exception === undefined || undefinedBits === 0) return masks;
  const ss = test.final.regs.ss ?? test.initial.regs.ss;
  const sp = test.final.regs.sp ?? test.initial.regs.sp;
  let low = ss * 16 + ((sp + 4) & 0xffff);
  let high = ss * 16 + ((sp + 5) & 0xffff);
  const given = test.exception.flagAddress;
  if (low !== given && low !== given + 1) {
    low = given;
    high = given + 1;
  }
  masks.set(low, undefinedBits & 0xff);
  masks.set(high, undefinedBits >> 8);
  return masks;
}
