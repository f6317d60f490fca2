/**
 * The 8254's fast-path program (seed 002's bytecode; the thread's hard
 * case): counter 0's latch-and-read — Linux's i8253 clocksource and PIT
 * calibration write the counter-latch command to 43h and read the latched
 * count from 40h, LSB then MSB — answered in the kernel. The program
 * computes the count from the time as the counter does (modes 2 and 3,
 * binary), so it needs the control-word state: the scratch carries counter
 * 0's mode, read/write mode, latch and the start of its current period, and
 * says whether the counter is in a state the program can follow at all
 * (counting, no reload pending, GATE high, no status latched). Anything else
 * — a write of a count, a read-back command, a live count read — goes to the
 * device.
 */
import type { FastPathProgram } from '@splitvisor/abi';
import { ProgramBuilder, r0, r1, r2, r4, r5, r6, r7 } from '@splitvisor/abi';
import type { I8254CounterState } from './counter.ts';
import { LatchState, NO_CLOCK, modeOf, periodStartAt } from './counter.ts';
import { PIT_HZ } from './registers.ts';

/** The scratch: whether the program may run, counter 0's mode and RW mode, its latch, its count, and its period's start (CLK edges mod 2^32). */
const Scratch = { eligible: 0, mode: 1, rwMode: 2, latchState: 3, latchedCount: 4, count: 6, periodStart: 10, bytes: 14 } as const;

/** The 8254's counter registers, offsets 0–3 (40h–43h): the program covers all four. */
export const LATCH_PROGRAM: FastPathProgram = new ProgramBuilder(Scratch.bytes)
  .ldb(r4, Scratch.eligible).li(r5, 0).jeq(r4, r5, 'exit')
  .li(r5, 3).jeq(r0, r5, 'control')
  // Counter 0's data port: a read of a latched count; a write, or counters 1 and 2, go to the device.
  .li(r5, 0).jne(r0, r5, 'exit').jne(r1, r5, 'exit')
  .ldb(r4, Scratch.latchState).jeq(r4, r5, 'exit')
  .ldw(r6, Scratch.latchedCount)
  .li(r5, LatchState.msb).jeq(r4, r5, 'msb')
  .li(r7, LatchState.none).li(r5, LatchState.lsbThenMsb).jne(r4, r5, 'lsb')
  .li(r7, LatchState.msb)
  .label('lsb').stb(Scratch.latchState, r7).li(r5, 0xff).and(r6, r5).ret(r6)
  .label('msb').li(r7, LatchState.none).stb(Scratch.latchState, r7).li(r5, 8).shr(r6, r5).li(r5, 0xff).and(r6, r5).ret(r6)
  // The control port: counter 0's latch command alone (SC = 00, RW = 00); a read of it, or any other word, to the device.
  .label('control').li(r5, 1).jne(r1, r5, 'exit')
  .li(r5, 0xf0).mov(r4, r2).and(r4, r5).li(r5, 0).jne(r4, r5, 'exit')
  .ldb(r4, Scratch.latchState).jne(r4, r5, 'done') // a count still latched: the command is ignored (datasheet)
  .ticks(r6, PIT_HZ).ldd(r7, Scratch.periodStart).sub(r6, r7) // CLK edges into the period
  .li(r5, 0x8000_0000).jlt(r5, r6, 'exit') // published half an hour of CLK ago or more: the device answers, and publishes afresh
  .ldb(r4, Scratch.mode).li(r5, 3).jne(r4, r5, 'count')
  .add(r6, r6) // mode 3 counts down by two
  .label('count').ldd(r7, Scratch.count).mod(r6, r7).sub(r7, r6).li(r5, 0xffff).and(r7, r5)
  .stw(Scratch.latchedCount, r7).ldb(r4, Scratch.rwMode).stb(Scratch.latchState, r4)
  .label('done').ret(r0)
  .label('exit').exit()
  .build();

/** Counter 0 as the program sees it at `clock`, or a scratch that says it may not run. */
export function latchScratch(c: I8254CounterState, clock: number): Uint8Array {
  const scratch = new Uint8Array(Scratch.bytes);
  const mode = modeOf(c);
  // Before the count's load (the CLK pulse after its write) the program finds itself before the period's start, and exits.
  const followable = c.counting && (mode === 2 || mode === 3) && !c.bcd && c.pendingCount < 0 && c.suspendedAtClock === NO_CLOCK
    && c.rwMode !== 0 && !c.statusLatched;
  if (!followable) return scratch;
  const periodStart = periodStartAt(c, clock);
  const view = new DataView(scratch.buffer);
  scratch[Scratch.eligible] = 1;
  scratch[Scratch.mode] = mode;
  scratch[Scratch.rwMode] = c.rwMode;
  scratch[Scratch.latchState] = c.latchState;
  view.setUint16(Scratch.latchedCount, c.latchedCount & 0xffff, true);
  view.setUint32(Scratch.count, c.count, true);
  view.setUint32(Scratch.periodStart, periodStart % 2 ** 32, true);
  return scratch;
}

/** What the program did — a count latched, a latched count read — taken into counter 0. */
export function adoptLatchScratch(c: I8254CounterState, scratch: Uint8Array): void {
  if (scratch[Scratch.eligible] !== 1 || scratch.length !== Scratch.bytes) return;
  c.latchState = scratch[Scratch.latchState] ?? LatchState.none;
  c.latchedCount = new DataView(scratch.buffer, scratch.byteOffset).getUint16(Scratch.latchedCount, true);
}
