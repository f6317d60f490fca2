/**
 * Scripted guests: programs written as generators, modelled on what real
 * drivers do — they yield port and MMIO accesses, cycles of computation,
 * `hlt`, `sti`/`cli`, and register interrupt handlers by vector that run when
 * an interrupt is injected and do their EOIs through I/O, like a kernel.
 * Deterministic: the same program and the same answers give the same run.
 *
 * A run's result, its exit record and an `out`'s or MMIO write's data are
 * this CPU's own, rewritten by its next `run` (a VMCS's exit fields, not a
 * message): read them before running again. Nothing is allocated per
 * operation beyond the program's own step.
 */
import type { AccessSize, DeviceState, GuestAccessSize, GuestCpu, GuestExit, GuestRun } from '@splitvisor/abi';
import { BUDGET, HLT, IRQ_WINDOW, NO_DATA, OP_CYCLES, SHUTDOWN, WriteBuffers, ioExitRecord, mmioExitRecord, msrExitRecord, runRecord } from '@splitvisor/abi';
import type { ScriptedGuestState } from './guest-journal.ts';
import { JournalRecorder, READS, replayJournal, scriptedGuestState } from './guest-journal.ts';

export type GuestOp =
  | { readonly op: 'out'; readonly port: number; readonly value: number; readonly size?: AccessSize }
  | { readonly op: 'in'; readonly port: number; readonly size?: AccessSize }
  | { readonly op: 'write'; readonly address: number; readonly value: number; readonly length?: GuestAccessSize }
  | { readonly op: 'read'; readonly address: number; readonly length?: GuestAccessSize }
  /** WRMSR/RDMSR (the value up to 2^53 as a number); `rdmsr` receives it. */
  | { readonly op: 'wrmsr'; readonly index: number; readonly value: number }
  | { readonly op: 'rdmsr'; readonly index: number }
  | { readonly op: 'compute'; readonly cycles: number }
  /** The time-stamp counter (no exit: KVM and QEMU let RDTSC run, offset); the program receives it. */
  | { readonly op: 'rdtsc' }
  | { readonly op: 'hlt' }
  | { readonly op: 'sti' }
  | { readonly op: 'cli' };

/** A program: yields operations; `in`, `read`, `rdmsr` and `rdtsc` receive the value read. */
export type GuestProgram = Generator<GuestOp, void, number>;

/** `value`'s little-endian bytes into `out` (by shifts for a 32-bit integer into 4 bytes or fewer, else by division). */
function bytes(value: number, out: Uint8Array): Uint8Array {
  if (out.length <= 4 && ((value | 0) === value || value >>> 0 === value)) {
    let v = value >>> 0;
    for (let i = 0; i < out.length; i++) {
      out[i] = v & 0xff;
      v >>>= 8;
    }
    return out;
  }
  let v = value;
  for (let i = 0; i < out.length; i++) {
    out[i] = v & 0xff;
    v = Math.floor(v / 256);
  }
  return out;
}

function value(data: Uint8Array): number {
  let v = 0;
  for (let i = data.length - 1; i >= 0; i--) v = v * 256 + (data[i] ?? 0);
  return v;
}

interface Frame {
  readonly program: GuestProgram;
  /**
   * The program's `next`, bound once: each closure of a generator function
   * gives its generators a map of their own, so looking `next` up at every
   * step goes megamorphic once a few guests have run (measured: 3–4 % of a
   * tight I/O loop in V8's megamorphic load stub).
   */
  readonly step: (value: number) => IteratorResult<GuestOp, void>;
  /** RFLAGS.IF to restore when a handler returns (iret). */
  savedIf: boolean;
  /** Cycles of a `compute` still to run. */
  computeLeft: number;
  /** The value to send into the program at its next step. */
  pending: number;
}

function frame(program: GuestProgram, savedIf: boolean): Frame {
  return { program, step: program.next.bind(program), savedIf, computeLeft: 0, pending: 0 };
}

export class ScriptedGuest implements GuestCpu {
  private readonly stack: Frame[] = [];
  private readonly handlers = new Map<number, () => GuestProgram>();
  private interruptFlag = false;
  /** IF went from clear to set during the current run (an interrupt window opened). */
  private windowOpened = false;
  /** The instruction after an `sti` has not run yet (interrupts are blocked by STI). */
  private stiShadow = false;
  private isHalted = false;
  private awaitingData = false;
  private finished = false;
  /** Interrupts taken, by vector. */
  readonly taken = new Map<number, number>();
  /** The exit records and the run result, rewritten by every run. */
  private readonly ioExit = ioExitRecord();
  private readonly mmioExit = mmioExitRecord();
  private readonly msrExit = msrExitRecord();
  private readonly result = runRecord();
  /** Write data by width, each buffer its own (offset 0 in its ArrayBuffer, as a fresh one would be). */
  private readonly writeData = new WriteBuffers();
  /** The TSC at the current run's entry, and the cycles run since. */
  private entryTsc = 0;
  private runCycles = 0;
  /** What a snapshot needs to bring a fresh guest of the same program to this one's position (`recordForSnapshots`). */
  private journal: JournalRecorder | undefined;
  /** Steps taken so far (the journal's clock). */
  private steps = 0;

  constructor(main: GuestProgram) {
    this.stack.push(frame(main, false));
  }

  /** Registers the handler an injected `vector` runs (as an IDT entry). */
  on(vector: number, handler: () => GuestProgram): this {
    this.handlers.set(vector, handler);
    return this;
  }

  get interruptible(): boolean {
    return this.interruptFlag && !this.stiShadow && !this.awaitingData && !this.finished;
  }

  get halted(): boolean {
    return this.isHalted;
  }

  inject(vector: number): void {
    this.journal?.injected(this.steps, vector);
    const handler = this.handlers.get(vector);
    this.taken.set(vector, (this.taken.get(vector) ?? 0) + 1);
    this.isHalted = false;
    if (handler === undefined) return; // no handler: the interrupt is taken and ignored (an iret stub)
    // Entering a handler clears IF; its return (iret) restores it.
    this.stack.push(frame(handler(), this.interruptFlag));
    this.interruptFlag = false;
  }

  complete(data: Uint8Array): void {
    const top = this.stack[this.stack.length - 1];
    const read = value(data);
    if (top !== undefined) top.pending = read;
    this.journal?.read(read);
    this.awaitingData = false;
  }

  /**
   * Journals, from here on, what the program is given — every value read
   * and every interrupt taken, by the step it came at — which is what a
   * snapshot needs: a generator's position cannot be saved, but the same
   * program given the same values reaches it again (record and replay).
   * Only before the first run.
   */
  recordForSnapshots(): void {
    if (this.journal !== undefined) return;
    if (this.steps > 0) throw new RangeError('a scripted guest journals from its first step: call recordForSnapshots before it runs');
    this.journal = new JournalRecorder();
  }

  /** The guest's position (its journal) and its flags; needs `recordForSnapshots` from the start. */
  saveState(): ScriptedGuestState {
    if (this.journal === undefined) throw new RangeError('this scripted guest keeps no journal (recordForSnapshots was not called before it ran)');
    return scriptedGuestState(this.journal.journal(this.steps), {
      frames: this.stack.map((f) => ({ savedIf: f.savedIf, computeLeft: f.computeLeft, pending: f.pending })),
      interruptFlag: this.interruptFlag, windowOpened: this.windowOpened, stiShadow: this.stiShadow, halted: this.isHalted,
      awaitingData: this.awaitingData, finished: this.finished, taken: [...this.taken].map(([vector, count]) => [vector, count]),
      entryTsc: this.entryTsc, runCycles: this.runCycles,
    });
  }

  /**
   * Brings this fresh guest (the same program, never run) to the position
   * `state` was saved at, by replaying its journal — every step taken with
   * the value it was given, every handler entered where it was — then sets
   * the flags as they were. A journal the program does not replay to the
   * same frames (another program, other parameters) is refused.
   */
  restoreState(state: DeviceState): void {
    if (this.steps > 0) throw new RangeError('a scripted guest is restored before it runs');
    const saved = replayJournal(state, { step: (read) => this.replayStep(read), inject: (vector) => { this.inject(vector); } });
    const { cpu } = saved;
    if (this.stack.length !== cpu.frames.length) {
      throw new RangeError(`the program does not replay to the snapshot's position (${this.stack.length} frames, the snapshot has ${cpu.frames.length}): another workload, other parameters, or vCPUs whose programs share state outside the machine`);
    }
    this.stack.forEach((frame, i) => {
      const f = cpu.frames[i];
      if (f === undefined) return;
      frame.savedIf = f.savedIf;
      frame.computeLeft = f.computeLeft;
      frame.pending = f.pending;
    });
    this.interruptFlag = cpu.interruptFlag;
    this.windowOpened = cpu.windowOpened;
    this.stiShadow = cpu.stiShadow;
    this.isHalted = cpu.halted;
    this.awaitingData = cpu.awaitingData;
    this.finished = cpu.finished;
    this.taken.clear();
    for (const [vector, count] of cpu.taken) this.taken.set(vector, count);
    this.entryTsc = cpu.entryTsc;
    this.runCycles = cpu.runCycles;
    if (this.journal !== undefined) this.journal = JournalRecorder.from(saved.journal);
  }

  /** One step of the top frame in replay: no cycles, no exit; a read's value from the journal, a finished handler left. */
  private replayStep(read: () => number): boolean {
    const top = this.stack[this.stack.length - 1];
    if (top === undefined) return false;
    this.steps++;
    const next = top.step(top.pending);
    top.pending = 0;
    if (next.done === true) {
      this.stack.pop(); // the flags are set from the snapshot once replay is over
    } else if (READS.has(next.value.op)) {
      top.pending = read();
    }
    return true;
  }

  /** Runs for at most `budget` cycles; the result and its exit are rewritten by the next run. */
  run(budget: number, exitOnInterruptWindow = false, tsc = 0): GuestRun {
    let cycles = 0;
    this.windowOpened = false;
    this.entryTsc = tsc;
    for (;;) {
      if (this.finished) return this.stop(SHUTDOWN, cycles);
      if (this.isHalted) return this.stop(HLT, cycles);
      const top = this.stack[this.stack.length - 1];
      if (top === undefined) {
        this.finished = true;
        continue;
      }
      if (top.computeLeft > 0) {
        const step = Math.min(top.computeLeft, budget - cycles);
        top.computeLeft -= step;
        cycles += step;
        if (top.computeLeft > 0) return this.stop(BUDGET, cycles);
        continue;
      }
      if (cycles + OP_CYCLES > budget) return this.stop(BUDGET, cycles);
      this.steps++;
      const next = top.step(top.pending);
      top.pending = 0;
      if (next.done === true) {
        this.stack.pop();
        if (this.stack.length > 0) this.setInterruptFlag(top.savedIf); // iret (no shadow)
      } else {
        cycles += OP_CYCLES;
        // The instruction after an `sti` that set IF runs in its shadow: interrupts wait until it is done
        // (SDM vol. 3A §6.8.3), which is what makes `sti; hlt` race-free.
        const shadowed = this.stiShadow && next.value.op !== 'sti';
        this.runCycles = cycles;
        const exit = this.execute(top, next.value);
        if (shadowed) {
          this.stiShadow = false;
          if (this.interruptFlag) this.windowOpened = true;
        }
        if (exit !== undefined) return this.stop(exit, cycles);
      }
      if (exitOnInterruptWindow && this.interruptWindowOpened()) return this.stop(IRQ_WINDOW, cycles);
    }
  }

  private stop(exit: GuestExit, cycles: number): GuestRun {
    const result = this.result;
    result.exit = exit;
    result.cycles = cycles;
    return result;
  }

  /** Whether IF came on (outside an sti shadow) during this run: the interrupt window the monitor may be waiting for. */
  private interruptWindowOpened(): boolean {
    return this.windowOpened && !this.stiShadow;
  }

  private setInterruptFlag(value: boolean): void {
    if (value && !this.interruptFlag) this.windowOpened = true;
    this.interruptFlag = value;
  }

  private execute(frame: Frame, op: GuestOp): GuestExit | undefined {
    switch (op.op) {
      case 'out':
      case 'in': {
        const exit = this.ioExit;
        const size = op.size ?? 1;
        exit.port = op.port;
        exit.size = size;
        if (op.op === 'out') {
          exit.direction = 'out';
          exit.data = bytes(op.value, this.writeData.of(size));
        } else {
          this.awaitingData = true;
          exit.direction = 'in';
          exit.data = NO_DATA;
        }
        return exit;
      }
      case 'write':
      case 'read': {
        const exit = this.mmioExit;
        const length = op.length ?? 4;
        exit.address = op.address;
        exit.length = length;
        if (op.op === 'write') {
          exit.isWrite = true;
          exit.data = bytes(op.value, this.writeData.of(length));
        } else {
          this.awaitingData = true;
          exit.isWrite = false;
          exit.data = NO_DATA;
        }
        return exit;
      }
      case 'wrmsr':
      case 'rdmsr': {
        const exit = this.msrExit;
        exit.index = op.index;
        if (op.op === 'wrmsr') {
          exit.isWrite = true;
          exit.data = bytes(op.value, this.writeData.of(8));
        } else {
          this.awaitingData = true;
          exit.isWrite = false;
          exit.data = NO_DATA;
        }
        return exit;
      }
      case 'compute':
        frame.computeLeft = Math.max(0, Math.floor(op.cycles));
        return undefined;
      case 'rdtsc':
        // Read as the instruction retires: its own cycle counted.
        frame.pending = this.entryTsc + this.runCycles;
        this.journal?.read(frame.pending);
        return undefined;
      case 'hlt':
        this.isHalted = true;
        return HLT;
      case 'sti':
        if (!this.interruptFlag) this.stiShadow = true;
        this.setInterruptFlag(true);
        return undefined;
      case 'cli':
        this.setInterruptFlag(false);
        return undefined;
    }
  }
}
