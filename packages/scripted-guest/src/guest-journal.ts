/**
 * A scripted guest's position, as a snapshot keeps it. A program is a
 * generator, and a generator's place in its code cannot be read out or
 * written back; but a program is deterministic, so the same program given
 * the same values from its reads and the same interrupts at the same steps
 * reaches the same place (record and replay, as rr and QEMU's record/replay
 * bring a guest to a point). The journal is that: how many steps were
 * taken, the value of every read (`in`, MMIO `read`, `rdmsr`, `rdtsc`) in
 * order, and each interrupt taken with the step it came before. The rest of
 * the guest's state — the interrupt flag, a `compute` part done, the
 * vectors taken — is plain and saved as it is.
 */
import type { DeviceState } from '@splitvisor/abi';
import { expectState } from '@splitvisor/abi';

export const SCRIPTED_GUEST_MODEL = 'scripted-guest';
export const SCRIPTED_GUEST_STATE_VERSION = 1;

/** The operations whose next step is given the value they read. */
export const READS: ReadonlySet<string> = new Set(['in', 'read', 'rdmsr', 'rdtsc']);

export type GuestJournal = {
  readonly steps: number;
  /** Every value read, in order, as float64 little-endian (a read is up to 2^53). */
  readonly reads: Uint8Array;
  /** Interrupts taken: [step it came before, vector], in order. */
  readonly interrupts: readonly (readonly [number, number])[];
};

/** What is plain in a scripted guest: each frame's (main program, then the handlers entered) and its flags. */
export type ScriptedCpuState = {
  readonly frames: readonly { readonly savedIf: boolean; readonly computeLeft: number; readonly pending: number }[];
  readonly interruptFlag: boolean;
  readonly windowOpened: boolean;
  readonly stiShadow: boolean;
  readonly halted: boolean;
  readonly awaitingData: boolean;
  readonly finished: boolean;
  readonly taken: readonly (readonly [number, number])[];
  readonly entryTsc: number;
  readonly runCycles: number;
};

export type ScriptedGuestState = {
  readonly model: typeof SCRIPTED_GUEST_MODEL;
  readonly version: typeof SCRIPTED_GUEST_STATE_VERSION;
  readonly journal: GuestJournal;
  readonly cpu: ScriptedCpuState;
};

export function scriptedGuestState(journal: GuestJournal, cpu: ScriptedCpuState): ScriptedGuestState {
  return { model: SCRIPTED_GUEST_MODEL, version: SCRIPTED_GUEST_STATE_VERSION, journal, cpu };
}

/** The journal as it is kept while the guest runs: reads in a growing float64 buffer. */
export class JournalRecorder {
  private values = new Float64Array(1024);
  private count = 0;
  private readonly interrupts: [number, number][] = [];

  /** A recorder holding `journal`'s reads and interrupts, to journal on from there (a restored guest). */
  static from(journal: GuestJournal): JournalRecorder {
    const recorder = new JournalRecorder();
    const values = readsOf(journal);
    for (const value of values) recorder.read(value);
    for (const [step, vector] of journal.interrupts) recorder.injected(step, vector);
    return recorder;
  }

  read(value: number): void {
    if (this.count === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.count++] = value;
  }

  injected(step: number, vector: number): void {
    this.interrupts.push([step, vector]);
  }

  journal(steps: number): GuestJournal {
    const reads = new Uint8Array(this.count * 8);
    const view = new DataView(reads.buffer);
    for (let i = 0; i < this.count; i++) view.setFloat64(i * 8, this.values[i] ?? 0, true);
    return { steps, reads, interrupts: this.interrupts.map(([step, vector]) => [step, vector] as const) };
  }
}

function readsOf(journal: GuestJournal): Float64Array {
  const { reads } = journal;
  if (reads.length % 8 !== 0) throw new RangeError(`a journal's reads are 8 bytes each, not ${reads.length} bytes in all`);
  const view = new DataView(reads.buffer, reads.byteOffset, reads.length);
  return Float64Array.from({ length: reads.length / 8 }, (_, i) => view.getFloat64(i * 8, true));
}

/** How replay moves a fresh guest: one step of its top frame (given `read` when the op reads), or entering a handler. */
export interface Replayer {
  /** Steps the top frame; calls `read` for the value when the op it yields reads one. False: nothing left to step. */
  step(read: () => number): boolean;
  inject(vector: number): void;
}

/** Replays `state`'s journal into a fresh guest through `guest`; throws when the record is not a scripted guest's or does not fit. */
export function replayJournal(state: DeviceState, guest: Replayer): ScriptedGuestState {
  expectState(state, SCRIPTED_GUEST_MODEL, SCRIPTED_GUEST_STATE_VERSION);
  const saved = state as unknown as ScriptedGuestState;
  const values = readsOf(saved.journal);
  let next = 0;
  const read = (): number => {
    const value = values[next++];
    if (value === undefined) throw new RangeError('the program reads more values than the journal holds: another workload, other parameters, or vCPUs whose programs share state outside the machine');
    return value;
  };
  let interrupt = 0;
  const { interrupts, steps } = saved.journal;
  for (let step = 0; step <= steps; step++) {
    for (let at = interrupts[interrupt]; at?.[0] === step; at = interrupts[++interrupt]) guest.inject(at[1]);
    if (step === steps) break;
    if (!guest.step(read)) throw new RangeError(`the program ended after ${step} of the journal's ${steps} steps: another workload, other parameters, or vCPUs whose programs share state outside the machine`);
  }
  if (next !== values.length || interrupt !== interrupts.length) throw new RangeError('the program does not take the journal\'s values and interrupts where it did: another workload, other parameters, or vCPUs whose programs share state outside the machine');
  return saved;
}
