// X86Cpu against the SingleStepTests 80286 real-mode vectors — one instruction each, from a state recorded on a real
// 80C286 to the state it left (test/data/80286: 50 vectors of each of 325 forms) — and the harness itself, on an
// oracle that plays the recorded final state back.
import { describe, expect, it } from 'vitest';
import type { MooTest } from './moo.ts';
import { parseRevocationList } from './moo.ts';
import type { Only286 } from './only-286.ts';
import type { SingleStepSubject, SubjectFactory } from './run-vector.ts';
import { REAL_MODE_FLAGS, VectorRunner } from './run-vector.ts';
import { x86Subject } from './subjects.ts';
import { committedForms, describeFailure, loadForm, runForm } from './suite-80286.ts';
import { AF, OF, ZF } from './undefined-flags.ts';

/**
 * The forms X86Cpu must pass in full: file names in test/data/80286/v1_real_mode less `.MOO.gz` — an opcode, or an
 * opcode and its ModRM reg field (`D3.4`). Take a form out while the CPU cannot run it yet.
 */
const FORMS: readonly string[] = [
  '00', '01', '02', '03', '04', '05', '06', '07', '08', '09', '0A', '0B', '0C', '0D', '0E',
  '10', '11', '12', '13', '14', '15', '16', '17', '18', '19', '1A', '1B', '1C', '1D', '1E', '1F',
  '20', '21', '22', '23', '24', '25', '27', '28', '29', '2A', '2B', '2C', '2D', '2F',
  '30', '31', '32', '33', '34', '35', '37', '38', '39', '3A', '3B', '3C', '3D', '3F',
  '40', '41', '42', '43', '44', '45', '46', '47', '48', '49', '4A', '4B', '4C', '4D', '4E', '4F',
  '50', '51', '52', '53', '54', '55', '56', '57', '58', '59', '5A', '5B', '5C', '5D', '5E', '5F',
  '60', '61', '62', '68', '69', '6A', '6B', '6C', '6D', '6E', '6F',
  '70', '71', '72', '73', '74', '75', '76', '77', '78', '79', '7A', '7B', '7C', '7D', '7E', '7F',
  '80.0', '80.1', '80.2', '80.3', '80.4', '80.5', '80.6', '80.7', '81.0', '81.1', '81.2', '81.3', '81.4', '81.5', '81.6', '81.7',
  '82.0', '82.1', '82.2', '82.3', '82.4', '82.5', '82.6', '82.7', '83.0', '83.1', '83.2', '83.3', '83.4', '83.5', '83.6', '83.7',
  '84', '85', '86', '87', '88', '89', '8A', '8B', '8C', '8D', '8E', '8F',
  '90', '91', '92', '93', '94', '95', '96', '97', '98', '99', '9A', '9B', '9C', '9D', '9E', '9F',
  'A0', 'A1', 'A2', 'A3', 'A4', 'A5', 'A6', 'A7', 'A8', 'A9', 'AA', 'AB', 'AC', 'AD', 'AE', 'AF',
  'B0', 'B1', 'B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8', 'B9', 'BA', 'BB', 'BC', 'BD', 'BE', 'BF',
  'C0.0', 'C0.1', 'C0.2', 'C0.3', 'C0.4', 'C0.5', 'C0.6', 'C0.7', 'C1.0', 'C1.1', 'C1.2', 'C1.3', 'C1.4', 'C1.5', 'C1.6', 'C1.7',
  'C2', 'C3', 'C4', 'C5', 'C6', 'C7', 'C9', 'CA', 'CB', 'CC', 'CD', 'CE', 'CF',
  'D0.0', 'D0.1', 'D0.2', 'D0.3', 'D0.4', 'D0.5', 'D0.6', 'D0.7', 'D1.0', 'D1.1', 'D1.2', 'D1.3', 'D1.4', 'D1.5', 'D1.6', 'D1.7',
  'D2.0', 'D2.1', 'D2.2', 'D2.3', 'D2.4', 'D2.5', 'D2.6', 'D2.7', 'D3.0', 'D3.1', 'D3.2', 'D3.3', 'D3.4', 'D3.5', 'D3.6', 'D3.7',
  'D4', 'D5', 'D6', 'D7', 'D8',
  'E0', 'E1', 'E2', 'E3', 'E4', 'E5', 'E6', 'E7', 'E8', 'E9', 'EA', 'EB', 'EC', 'ED', 'EE', 'EF',
  'F4', 'F5', 'F6.0', 'F6.1', 'F6.2', 'F6.3', 'F6.4', 'F6.5', 'F6.6', 'F6.7', 'F7.0', 'F7.1', 'F7.2', 'F7.3', 'F7.4', 'F7.5',
  'F7.6', 'F7.7', 'F8', 'F9', 'FA', 'FB', 'FC', 'FD', 'FE.0', 'FE.1', 'FF.0', 'FF.1', 'FF.2', 'FF.3', 'FF.4', 'FF.5',
  'FF.6',
];

/** The 80286's own behaviours X86Cpu, a 386, is excused (only-286.ts): every one. */
const EXCUSED: ReadonlySet<Only286> = new Set(['lock', 'length', 'fs-gs', 'iopl-nt', 'string-fault', 'stack-fault']);

const FAILURES_SHOWN = 5;

/** Runs `form` and expects no failure, showing the first few with their names, bytes and differences. */
function expectFormPasses(runner: VectorRunner, form: string, tests?: readonly MooTest[]): void {
  const result = runForm(runner, form, tests);
  const shown = result.failures.slice(0, FAILURES_SHOWN).map((failure) => describeFailure(failure));
  expect(shown, `${result.failures.length} of ${result.tests} vectors of ${form} fail`).toEqual([]);
}

describe('SingleStepTests 80286 real-mode vectors, on X86Cpu', () => {
  const runner = new VectorRunner(x86Subject, EXCUSED);
  it.each(FORMS)('%s', (form) => {
    expectFormPasses(runner, form);
  });
});

/** How the oracle departs from the recorded final state, to show the runner notices (or rightly ignores) it. */
type Slip =
  | { readonly kind: 'none' }
  | { readonly kind: 'never-halts' }
  | { readonly kind: 'register'; readonly index: number }
  | { readonly kind: 'flags'; readonly bits: number }
  | { readonly kind: 'ram' }
  | { readonly kind: 'pushed-flags'; readonly bits: number };

/**
 * A CPU that "runs" a vector by taking the state the vector records: every register from the final (or initial)
 * state, every final RAM byte, then a `hlt` exit — less what `slip` changes.
 */
class Oracle {
  test: MooTest | undefined;
  slip: Slip = { kind: 'none' };

  readonly subject: SubjectFactory = (memory, start) => {
    const segments = [start.es, start.cs, start.ss, start.ds];
    const cpu: SingleStepSubject = {
      regs: new Uint32Array(8),
      ip: start.ip,
      flags: 0,
      selector: (segment) => segments[segment] ?? 0,
      run: (budget) => this.play(memory, cpu, segments, budget),
      complete: () => undefined,
      fault: undefined,
    };
    return cpu;
  };

  private play(memory: Uint8Array, cpu: SingleStepSubject, segments: number[], budget: number): ReturnType<SingleStepSubject['run']> {
    const test = this.test;
    if (test === undefined) throw new Error('the oracle has no vector');
    const slip = this.slip;
    if (slip.kind === 'never-halts') return { exit: { kind: 'budget' }, cycles: budget };
    const initial = test.initial.regs;
    const final = test.final.regs;
    const general = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'] as const;
    general.forEach((name, index) => { cpu.regs[index] = final[name] ?? initial[name]; });
    const sregs = ['es', 'cs', 'ss', 'ds'] as const;
    sregs.forEach((name, index) => { segments[index] = final[name] ?? initial[name]; });
    cpu.ip = final.ip ?? initial.ip;
    cpu.flags = final.flags ?? initial.flags & REAL_MODE_FLAGS;
    for (const [address, value] of test.final.ram) memory[address] = value;

    if (slip.kind === 'register') cpu.regs[slip.index] = ((cpu.regs[slip.index] ?? 0) ^ 1) >>> 0;
    if (slip.kind === 'flags') cpu.flags ^= slip.bits;
    const [firstWrite] = test.final.ram;
    if (slip.kind === 'ram' && firstWrite !== undefined) memory[firstWrite[0]] = firstWrite[1] ^ 0x80;
    if (slip.kind === 'pushed-flags') {
      // The handler's frame at SS:SP is IP, CS, FLAGS.
      const image = (segments[2] ?? 0) * 16 + (((cpu.regs[4] ?? 0) + 4) & 0xffff);
      memory[image] = (memory[image] ?? 0) ^ (slip.bits & 0xff);
      memory[image + 1] = (memory[image + 1] ?? 0) ^ (slip.bits >> 8);
    }
    return { exit: { kind: 'hlt' }, cycles: 1 };
  }
}

/** The first vectors of `form` that `select` accepts. */
function vectors(form: string, select: (test: MooTest) => boolean, count: number): MooTest[] {
  const found = loadForm(form).filter(select).slice(0, count);
  expect(found.length, `vectors of ${form} to try`).toBe(count);
  return found;
}

describe('the vector harness', () => {
  it('reads 50 vectors of each of the 325 committed forms, each with its own hash', () => {
    const forms = committedForms();
    const hashes = new Set<string>();
    for (const form of forms) {
      const tests = loadForm(form);
      expect(tests.map((test) => test.index), form).toEqual([...Array(50).keys()]);
      for (const test of tests) hashes.add(test.hash);
    }
    expect(forms).toHaveLength(325);
    expect(hashes.size).toBe(325 * 50);
    expect([...FORMS].filter((form) => !forms.includes(form)), 'FORMS not committed').toEqual([]);
  });

  it('reads a revocation list of hashes, comments and blank lines', () => {
    expect(parseRevocationList('# bad tests\n\n626BE5084B331080EB08256C12A62D24AFDF2A03  # mis-clocked\n'))
      .toEqual(new Set(['626be5084b331080eb08256c12a62d24afdf2a03']));
  });

  it('passes, strictly, a CPU that leaves the recorded final state on every committed vector', () => {
    const oracle = new Oracle();
    const runner = new VectorRunner(oracle.subject);
    const failures: string[] = [];
    for (const form of committedForms()) {
      for (const test of loadForm(form)) {
        oracle.test = test;
        const differences = runner.run(test, form);
        if (differences.length > 0) failures.push(describeFailure({ test, differences }));
      }
    }
    expect(failures.slice(0, FAILURES_SHOWN), `${failures.length} vectors fail`).toEqual([]);
  });

  it('fails a wrong register, RAM byte or defined flag, and a CPU that never halts', () => {
    const oracle = new Oracle();
    const runner = new VectorRunner(oracle.subject);
    const [test] = vectors('01', (t) => t.final.ram.length > 0, 1);
    if (test === undefined) return;
    oracle.test = test;
    const where = (slip: Slip): string[] => {
      oracle.slip = slip;
      return runner.run(test, '01').map((difference) => difference.where);
    };
    expect(where({ kind: 'none' })).toEqual([]);
    expect(where({ kind: 'register', index: 3 })).toEqual(['bx']);
    expect(where({ kind: 'flags', bits: ZF })).toEqual(['flags']);
    expect(where({ kind: 'flags', bits: AF })).toEqual(['flags']); // ADD defines AF
    expect(where({ kind: 'ram' })).toEqual([`ram[0x${(test.final.ram[0]?.[0] ?? 0).toString(16).padStart(6, '0')}]`]);
    expect(where({ kind: 'never-halts' })).toEqual(['exit']);
  });

  it('ignores the flags the manuals leave undefined, in FLAGS and in the image an exception pushes', () => {
    const oracle = new Oracle();
    const runner = new VectorRunner(oracle.subject);
    const check = (form: string, test: MooTest, slip: Slip): number => {
      oracle.test = test;
      oracle.slip = slip;
      return runner.run(test, form).length;
    };
    for (const test of vectors('21', () => true, 5)) { // AND: AF undefined
      expect(check('21', test, { kind: 'flags', bits: AF })).toBe(0);
      expect(check('21', test, { kind: 'flags', bits: ZF })).toBe(1);
    }
    // DIV and IDIV by zero: every status flag undefined, in the FLAGS they push too, at an even or an odd SP.
    const sp = (test: MooTest): number => test.final.regs.sp ?? test.initial.regs.sp;
    const divides = ['F6.6', 'F6.7', 'F7.6', 'F7.7'].flatMap((form) => loadForm(form)
      .filter((test) => test.exception?.vector === 0)
      .map((test) => ({ form, test })));
    const odd = divides.filter(({ test }) => (sp(test) & 1) === 1);
    expect(odd.length).toBeGreaterThan(0);
    for (const { form, test } of [...odd, ...divides.filter(({ test }) => (sp(test) & 1) === 0).slice(0, 5)]) {
      expect(check(form, test, { kind: 'pushed-flags', bits: AF | OF | ZF })).toBe(0);
      expect(check(form, test, { kind: 'pushed-flags', bits: 0x400 })).toBe(1); // DF is defined
    }
    // A shift by a count of 1 defines OF, by more does not, by 0 (masked to 5 bits) changes no flag.
    for (const test of vectors('D0.4', () => true, 5)) expect(check('D0.4', test, { kind: 'flags', bits: OF })).toBe(1);
    const count = (test: MooTest): number => (test.bytes.at(-2) ?? 0) & 0x1f; // SHL r/m8, imm8: the imm8 before the HLT
    for (const test of vectors('C0.4', (t) => t.exception === undefined && count(t) > 1, 5)) {
      expect(check('C0.4', test, { kind: 'flags', bits: OF })).toBe(0);
    }
    for (const test of vectors('C0.4', (t) => t.exception === undefined && count(t) === 0, 1)) {
      expect(check('C0.4', test, { kind: 'flags', bits: OF | AF })).toBe(1);
    }
  });
});
