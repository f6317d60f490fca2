/**
 * What a workload is to the rest of splitvisor: a named guest program with
 * parameters (those the real driver has: HZ, sectors per transfer, the text
 * typed), the media and host input the board must give it (a disk to read, a
 * diskette, keys typed at the keyboard), and what it did in its own terms
 * (ticks counted, sectors moved, bytes printed) for the run report.
 *
 * Parameters are checked here, not in each program: a bad value is one
 * `WorkloadError` naming the workload, the parameter and what it takes.
 */
import type { GuestCpu } from '@splitvisor/abi';

export type ParameterValue = number | string;

export interface WorkloadParameter {
  readonly name: string;
  readonly description: string;
  readonly default: ParameterValue;
  /** The values a parameter may take (a selection, e.g. a clocksource); without: any number in [min, max]. */
  readonly choices?: readonly ParameterValue[];
  readonly min?: number;
  readonly max?: number;
  /** Whether a number must be whole (default true). */
  readonly integer?: boolean;
}

/** Keys the host types at the keyboard while the guest runs: one character every `intervalNs` from `startNs`. */
export interface HostTyping {
  readonly text: string;
  readonly startNs: number;
  readonly intervalNs: number;
}

/** What the board must hold for a workload; a user's own image, when given, takes the blank one's place. */
export interface WorkloadBoard {
  /** A blank (zeroed) disk of this many bytes on the ATA primary master. */
  readonly diskBytes?: number;
  /** A blank diskette of this many bytes in floppy drive A. */
  readonly floppyBytes?: number;
  readonly typing?: HostTyping;
}

export interface Workload {
  /** The bootstrap processor's program (a scripted guest; real firmware's x86 CPU). */
  readonly guest: GuestCpu;
  /** Other vCPUs' programs (application processors 1, 2, …), when the workload needs several. */
  readonly aps?: readonly GuestCpu[];
  readonly board?: WorkloadBoard;
  /** What the guest has done so far, in its own terms (ticks, sectors, bytes, iterations). */
  readonly progress: () => Readonly<Record<string, number>>;
}

export type WorkloadParameters = Readonly<Record<string, ParameterValue>>;

export interface WorkloadDefinition {
  readonly name: string;
  readonly description: string;
  /** The real driver and functions whose register sequence the program follows. */
  readonly follows: string;
  readonly parameters: readonly WorkloadParameter[];
  /** Builds the guest; `parameters` holds every parameter, checked and defaulted. */
  readonly create: (parameters: WorkloadParameters) => Workload;
}

export class WorkloadError extends Error {
  override readonly name = 'WorkloadError';
}

function describeRange(p: WorkloadParameter): string {
  if (p.choices !== undefined) return `one of ${p.choices.join(', ')}`;
  const kind = p.integer === false ? 'a number' : 'a whole number';
  if (p.min !== undefined && p.max !== undefined) return `${kind} from ${p.min} to ${p.max}`;
  if (p.min !== undefined) return `${kind} of at least ${p.min}`;
  return kind;
}

/** One parameter's value from what a user gave (a flag's string, or a number), checked. */
function checked(workload: string, p: WorkloadParameter, given: ParameterValue): ParameterValue {
  const fail = (): never => {
    throw new WorkloadError(`workload ${workload}: parameter ${p.name} takes ${describeRange(p)}, not ${JSON.stringify(given)}`);
  };
  if (p.choices !== undefined) {
    const match = p.choices.find((c) => String(c) === String(given));
    return match ?? fail();
  }
  if (typeof p.default === 'string') return String(given);
  const n = typeof given === 'number' ? given : given.trim() === '' ? Number.NaN : Number(given);
  if (!Number.isFinite(n)) return fail();
  if (p.integer !== false && !Number.isInteger(n)) return fail();
  if ((p.min !== undefined && n < p.min) || (p.max !== undefined && n > p.max)) return fail();
  return n;
}

/** Every parameter of `definition`, from `given` (by name) or its default; unknown names are an error. */
export function resolveParameters(definition: WorkloadDefinition, given: Readonly<Record<string, ParameterValue | undefined>>): WorkloadParameters {
  const known = new Set(definition.parameters.map((p) => p.name));
  for (const name of Object.keys(given)) {
    if (given[name] !== undefined && !known.has(name)) {
      const takes = definition.parameters.length === 0 ? 'no parameters' : definition.parameters.map((p) => p.name).join(', ');
      throw new WorkloadError(`workload ${definition.name} has no parameter ${name} (it takes ${takes})`);
    }
  }
  const resolved: Record<string, ParameterValue> = {};
  for (const p of definition.parameters) {
    const value = given[p.name];
    resolved[p.name] = value === undefined ? p.default : checked(definition.name, p, value);
  }
  return resolved;
}

/** `value` when it is a whole number above 0; else a RangeError naming `name` (a program's option, checked where it is built). */
export function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive whole number, not ${value}`);
  return value;
}

/** A resolved parameter as a number (the definition's own choices and defaults make it one). */
export function numberParameter(parameters: WorkloadParameters, name: string): number {
  const value = parameters[name];
  if (typeof value !== 'number') throw new WorkloadError(`parameter ${name} is ${JSON.stringify(value)}, not a number`);
  return value;
}

export function stringParameter(parameters: WorkloadParameters, name: string): string {
  const value = parameters[name];
  if (value === undefined) throw new WorkloadError(`no parameter ${name}`);
  return String(value);
}
