// The 8254's fast-path program (seed 002's bytecode): counter 0's latch-and-read answered from the scratch the
// device publishes, exactly as the device answers it — property-tested against a second 8254 that handles every
// access itself, over random programming, latch commands, reads and times, the program's scratch taken back by
// the device whenever an access goes to it (as the device host does ahead of each exit).
import { programRunner, tickTime } from '@splitvisor/abi';
import { createTestContext, regionIo } from '@splitvisor/device-testkit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { I8254, PIT_HZ } from '../src/index.ts';

type Step =
  | { readonly kind: 'program'; readonly control: number; readonly count: number }
  | { readonly kind: 'latch' }
  | { readonly kind: 'read' }
  | { readonly kind: 'other'; readonly offset: number; readonly write: boolean; readonly value: number }
  | { readonly kind: 'wait'; readonly clocks: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  // Counter 0 in mode 2 or 3 (or 6/7), binary or BCD, with any read/write mode: sometimes one the program cannot follow.
  fc.record({ kind: fc.constant('program' as const), control: fc.constantFrom(0x34, 0x36, 0x14, 0x24, 0x3c, 0x35, 0x30, 0x32), count: fc.integer({ min: 0, max: 0xffff }) }),
  fc.constant({ kind: 'latch' as const }),
  fc.constant({ kind: 'latch' as const }),
  fc.constant({ kind: 'read' as const }),
  fc.constant({ kind: 'read' as const }),
  fc.constant({ kind: 'read' as const }),
  fc.record({ kind: fc.constant('other' as const), offset: fc.integer({ min: 0, max: 3 }), write: fc.boolean(), value: fc.integer({ min: 0, max: 0xff }) }),
  fc.record({ kind: fc.constant('wait' as const), clocks: fc.integer({ min: 0, max: 200_000 }) }),
);

describe("the 8254's latch program", () => {
  it('answers every access it takes as the device would, and leaves the device as the device would be', () => {
    let taken = 0;
    // Each run starts as Linux's clockevent leaves counter 0 (mode 2, LSB then MSB), then does anything.
    const linux: Step = { kind: 'program', control: 0x34, count: 1193 };
    fc.assert(fc.property(fc.array(step, { minLength: 1, maxLength: 60 }).map((steps) => [linux, ...steps]), (steps) => {
      const plainContext = createTestContext();
      const reference = new I8254(plainContext);
      const plain = regionIo(reference, 'counters');
      const context = createTestContext();
      const pit = new I8254(context);
      const ports = regionIo(pit, 'counters');
      const [program] = pit.programs;
      if (program === undefined) throw new Error('no program');
      const run = programRunner(program.program);
      let scratch = pit.programScratch();
      let answered = 0;
      /** One access: the program first (at the kernel), else the device, after it takes the program's scratch. */
      const access = (offset: number, write: boolean, value: number): number => {
        const outcome = run(scratch, { offset, isWrite: write, value, width: 1 }, context.now());
        if (outcome.kind === 'answered') {
          answered++;
          return write ? 0 : outcome.value;
        }
        pit.adoptProgramScratch(scratch);
        const result = write ? (ports.out(offset, value), 0) : ports.in(offset);
        scratch = pit.programScratch();
        return result;
      };
      const both = (offset: number, write: boolean, value = 0) => {
        const theirs = write ? (plain.out(offset, value), 0) : plain.in(offset);
        expect(access(offset, write, value)).toBe(theirs);
      };
      for (const s of steps) {
        switch (s.kind) {
          case 'program':
            both(3, true, s.control);
            both(0, true, s.count & 0xff);
            both(0, true, s.count >> 8);
            break;
          case 'latch': both(3, true, 0x00); break;
          case 'read': both(0, false); break;
          case 'other': both(s.offset, s.write, s.value); break;
          case 'wait': {
            const to = context.now() + tickTime(s.clocks, PIT_HZ);
            plainContext.advanceTo(to);
            context.advanceTo(to);
            // The device host's timers ran: it publishes the scratch again at the exit that brought them.
            pit.adoptProgramScratch(scratch);
            scratch = pit.programScratch();
            break;
          }
        }
      }
      pit.adoptProgramScratch(scratch);
      // The same state, but for when the device last looked at OUT0 (it looks again on a control word the program took).
      expect({ ...pit.getState(), out0Clock: 0 }).toEqual({ ...reference.getState(), out0Clock: 0 });
      taken += answered;
    }), { numRuns: 300 });
    expect(taken).toBeGreaterThan(300); // the program took a good share of the accesses, not none
  });

  it('takes Linux\'s i8253 clocksource read (latch, LSB, MSB) in mode 2 without the device', () => {
    const context = createTestContext();
    const pit = new I8254(context);
    const ports = regionIo(pit, 'counters');
    for (const [port, value] of [[3, 0x34], [0, 1193 & 0xff], [0, 1193 >> 8]] as const) ports.out(port, value);
    context.advanceTo(tickTime(100, PIT_HZ));
    const [program] = pit.programs;
    if (program === undefined) throw new Error('no program');
    const run = programRunner(program.program);
    const scratch = pit.programScratch();
    const now = context.now();
    expect(run(scratch, { offset: 3, isWrite: true, value: 0x00, width: 1 }, now).kind).toBe('answered');
    const lsb = run(scratch, { offset: 0, isWrite: false, value: 0, width: 1 }, now);
    const msb = run(scratch, { offset: 0, isWrite: false, value: 0, width: 1 }, now);
    expect(lsb.kind === 'answered' && msb.kind === 'answered' ? lsb.value | (msb.value << 8) : -1).toBe(1193 - 100);
  });
});
