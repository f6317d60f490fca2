/**
 * Linux's periodic tick on the 8254 with 8259 EOIs, as a guest does it with
 * the timer on the legacy path: init_8259A (vectors 20h/28h, irq 0 unmasked),
 * the i8253 clockevent in periodic mode (counter 0, mode 2, LATCH =
 * PIT_TICK_RATE / HZ), then idle in `hlt`; the timer interrupt handler counts
 * a jiffy, spends some cycles, and EOIs the 8259.
 */
import type { GuestProgram } from '@splitvisor/scripted-guest';
import { ScriptedGuest } from '@splitvisor/scripted-guest';

export interface PitTickOptions {
  readonly hz?: number;
  /** Cycles the handler spends per tick (default 2,000). */
  readonly handlerCycles?: number;
  /** Cycles of work between idles (default 50,000). */
  readonly workCycles?: number;
}

const PIT_TICK_RATE = 1_193_182;
export const TIMER_VECTOR = 0x20;

export function pitTick(options: PitTickOptions = {}): { guest: ScriptedGuest; jiffies: () => number } {
  const hz = options.hz ?? 1000;
  const latch = Math.round(PIT_TICK_RATE / hz);
  if (latch < 1 || latch > 0xffff) throw new RangeError(`HZ=${hz} needs a PIT count of ${latch}, outside 1–65535`);
  const handlerCycles = options.handlerCycles ?? 2_000;
  const workCycles = options.workCycles ?? 50_000;
  let jiffies = 0;
  const guest = new ScriptedGuest((function* main(): GuestProgram {
    for (const [port, value] of [[0x20, 0x11], [0x21, TIMER_VECTOR], [0x21, 0x04], [0x21, 0x01], [0x21, 0xfe]] as const) yield { op: 'out', port, value };
    for (const [port, value] of [[0x43, 0x34], [0x40, latch & 0xff], [0x40, latch >> 8]] as const) yield { op: 'out', port, value };
    yield { op: 'sti' };
    for (;;) {
      yield { op: 'compute', cycles: workCycles };
      yield { op: 'hlt' };
    }
  })()).on(TIMER_VECTOR, function* timerInterrupt(): GuestProgram {
    jiffies++;
    yield { op: 'compute', cycles: handlerCycles };
    yield { op: 'out', port: 0x20, value: 0x20 };
  });
  return { guest, jiffies: () => jiffies };
}
