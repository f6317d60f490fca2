/**
 * The device host died (or stopped answering) while the VM needed it: the
 * guest is paused at the access it was making — never answered with
 * garbage, never dropped — and this says which device's access that was,
 * what it was, at what guest time, and why the host is gone.
 */
import type { Exit, Nanoseconds } from '@splitvisor/abi';
import { VmError } from './vm-error.ts';

export interface InFlight {
  /** The device whose window the access falls in, when it is one of the host's. */
  readonly device: string | undefined;
  /** The access as a person reads it: `in 1 byte from port 40h`, `a write of 4 bytes to FED00010h`. */
  readonly access: string;
  /** The guest time the access was made at. */
  readonly timeNs: Nanoseconds;
}

export class DeviceHostLost extends VmError {
  /** What the channel said: the host's exit code or signal and its last words. */
  readonly reason: string;
  /** The accesses the host had been given and not answered, oldest first (one, or a posted write and those after it). */
  readonly inFlight: readonly InFlight[];
  /** Wall-clock ms the VM waited on the host before it knew (the detection time). */
  readonly waitedMs: number;

  constructor(reason: string, inFlight: readonly InFlight[], waitedMs: number) {
    const first = inFlight[0];
    const what = first === undefined ? 'between accesses'
      : `while serving ${first.access}${first.device === undefined ? '' : ` (${first.device})`} at guest time ${(first.timeNs / 1e6).toFixed(6)} ms${inFlight.length > 1 ? ` and ${inFlight.length - 1} more` : ''}`;
    super(`the device host was lost ${what}: ${reason}; the guest is paused at that access`);
    this.reason = reason;
    this.inFlight = inFlight;
    this.waitedMs = waitedMs;
  }
}

const hex = (n: number) => `${n.toString(16).toUpperCase()}h`;
const bytes = (n: number) => `${n} byte${n === 1 ? '' : 's'}`;

/** An exit as the user reads it. */
export function describeExit(exit: Exit): string {
  switch (exit.kind) {
    case 'io': {
      const count = exit.count > 1 ? ` ×${exit.count}` : '';
      return exit.direction === 'in' ? `in ${bytes(exit.size)} from port ${hex(exit.port)}${count}` : `out ${bytes(exit.size)} to port ${hex(exit.port)}${count}`;
    }
    case 'mmio':
      return exit.isWrite ? `a write of ${bytes(exit.length)} to ${hex(exit.address)}` : `a read of ${bytes(exit.length)} from ${hex(exit.address)}`;
    case 'msr':
      return `${exit.isWrite ? 'WRMSR' : 'RDMSR'} ${hex(exit.index)}`;
    default:
      return `a ${exit.kind} exit`;
  }
}
