/**
 * Scripted guests: programs written as generators, modelled on what real
 * drivers do — they yield port and MMIO accesses, cycles of computation,
 * `hlt`, `sti`/`cli`, and register interrupt handlers by vector that run when
 * an interrupt is injected and do their EOIs through I/O, like a kernel.
 * Deterministic: the same program and the same answers give the same run.
 */
import type { AccessSize, GuestAccessSize } from '@splitvisor/abi';
import type { GuestCpu, GuestExit, GuestRun } from './guest-cpu.ts';

export type GuestOp =
  | { readonly op: 'out'; readonly port: number; readonly value: number; readonly size?: AccessSize }
  | { readonly op: 'in'; readonly port: number; readonly size?: AccessSize }
  | { readonly op: 'write'; readonly address: number; readonly value: number; readonly length?: GuestAccessSize }
  | { readonly op: 'read'; readonly address: number; readonly length?: GuestAccessSize }
  | { readonly op: 'compute'; readonly cycles: number }
  | { readonly op: 'hlt' }
  | { readonly op: 'sti' }
  | { readonly op: 'cli' };

/** A program: yields operations; `in` and `read` receive the value read. */
export type GuestProgram = Generator<GuestOp, void, number>;

/** The cycles each operation costs the guest itself (the exit costs are the metrics' business). */
export const OP_CYCLES = 1;

function bytes(value: number, width: number): Uint8Array {
  const out = new Uint8Array(width);
  let v = value;
  for (let i = 0; i < width; i++) {
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
  /** RFLAGS.IF to restore when a handler returns (iret). */
  readonly savedIf: boolean;
  /** Cycles of a `compute` still to run. */
  computeLeft: number;
  /** The value to send into the program at its next step. */
  pending: number;
}

export class ScriptedGuest implements GuestCpu {
  private readonly stack: Frame[] = [];
  private readonly handlers = new Map<number, () => GuestProgram>();
  private interruptFlag = false;
  private isHalted = false;
  private awaitingData = false;
  private finished = false;
  /** Interrupts taken, by vector. */
  readonly taken = new Map<number, number>();

  constructor(main: GuestProgram) {
    this.stack.push({ program: main, savedIf: false, computeLeft: 0, pending: 0 });
  }

  /** Registers the handler an injected `vector` runs (as an IDT entry). */
  on(vector: number, handler: () => GuestProgram): this {
    this.handlers.set(vector, handler);
    return this;
  }

  get interruptible(): boolean {
    return this.interruptFlag && !this.awaitingData && !this.finished;
  }

  get halted(): boolean {
    return this.isHalted;
  }

  inject(vector: number): void {
    const handler = this.handlers.get(vector);
    this.taken.set(vector, (this.taken.get(vector) ?? 0) + 1);
    this.isHalted = false;
    if (handler === undefined) return; // no handler: the interrupt is taken and ignored (an iret stub)
    // Entering a handler clears IF; its return (iret) restores it.
    this.stack.push({ program: handler(), savedIf: this.interruptFlag, computeLeft: 0, pending: 0 });
    this.interruptFlag = false;
  }

  complete(data: Uint8Array): void {
    const top = this.stack[this.stack.length - 1];
    if (top !== undefined) top.pending = value(data);
    this.awaitingData = false;
  }

  run(budget: number): GuestRun {
    let cycles = 0;
    for (;;) {
      if (this.finished) return { exit: { kind: 'shutdown' }, cycles };
      if (this.isHalted) return { exit: { kind: 'hlt' }, cycles };
      const top = this.stack[this.stack.length - 1];
      if (top === undefined) {
        this.finished = true;
        continue;
      }
      if (top.computeLeft > 0) {
        const step = Math.min(top.computeLeft, budget - cycles);
        top.computeLeft -= step;
        cycles += step;
        if (top.computeLeft > 0) return { exit: { kind: 'budget' }, cycles };
        continue;
      }
      if (cycles + OP_CYCLES > budget) return { exit: { kind: 'budget' }, cycles };
      const next = top.program.next(top.pending);
      top.pending = 0;
      if (next.done === true) {
        this.stack.pop();
        if (this.stack.length > 0) this.interruptFlag = top.savedIf; // iret
        continue;
      }
      cycles += OP_CYCLES;
      const exit = this.execute(top, next.value);
      if (exit !== undefined) return { exit, cycles };
    }
  }

  private execute(frame: Frame, op: GuestOp): GuestExit | undefined {
    switch (op.op) {
      case 'out': {
        const size = op.size ?? 1;
        return { kind: 'io', direction: 'out', port: op.port, size, count: 1, data: bytes(op.value, size) };
      }
      case 'in':
        this.awaitingData = true;
        return { kind: 'io', direction: 'in', port: op.port, size: op.size ?? 1, count: 1, data: new Uint8Array(0) };
      case 'write': {
        const length = op.length ?? 4;
        return { kind: 'mmio', isWrite: true, address: op.address, length, data: bytes(op.value, length) };
      }
      case 'read':
        this.awaitingData = true;
        return { kind: 'mmio', isWrite: false, address: op.address, length: op.length ?? 4, data: new Uint8Array(0) };
      case 'compute':
        frame.computeLeft = Math.max(0, Math.floor(op.cycles));
        return undefined;
      case 'hlt':
        this.isHalted = true;
        return { kind: 'hlt' };
      case 'sti':
        this.interruptFlag = true;
        return undefined;
      case 'cli':
        this.interruptFlag = false;
        return undefined;
    }
  }
}
