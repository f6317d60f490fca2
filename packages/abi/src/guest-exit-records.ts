/**
 * What a GuestCpu backend hands the monitor at an exit, kept as its own
 * records and rewritten by its next run — a VMCS's exit fields, not
 * messages: one record per kind of access, the run's result, the exits that
 * carry nothing, and the data of writes by width (each its own buffer at
 * offset 0, as a fresh one would be). Nothing is allocated per exit.
 * Beside the GuestCpu contract because every backend package shares them and
 * no backend may depend on another.
 */
import type { GuestExit, GuestRun } from './guest-cpu.ts';

export type Mutable<T> = { -readonly [K in keyof T]: T[K] };
export type IoGuestExit = Extract<GuestExit, { kind: 'io' }>;
export type MmioGuestExit = Extract<GuestExit, { kind: 'mmio' }>;
export type MsrGuestExit = Extract<GuestExit, { kind: 'msr' }>;

export const NO_DATA: Uint8Array = new Uint8Array(0);
export const HLT: GuestExit = Object.freeze({ kind: 'hlt' });
export const BUDGET: GuestExit = Object.freeze({ kind: 'budget' });
export const SHUTDOWN: GuestExit = Object.freeze({ kind: 'shutdown' });
export const IRQ_WINDOW: GuestExit = Object.freeze({ kind: 'irq-window' });

export function ioExitRecord(): Mutable<IoGuestExit> {
  return { kind: 'io', direction: 'out', port: 0, size: 1, count: 1, data: NO_DATA };
}

export function mmioExitRecord(): Mutable<MmioGuestExit> {
  return { kind: 'mmio', isWrite: false, address: 0, length: 4, data: NO_DATA };
}

export function msrExitRecord(): Mutable<MsrGuestExit> {
  return { kind: 'msr', isWrite: false, index: 0, data: NO_DATA };
}

export function runRecord(): Mutable<GuestRun> {
  return { exit: BUDGET, cycles: 0 };
}

/** Write data by width, each width's buffer rewritten by the next write of that width. */
export class WriteBuffers {
  private readonly byWidth: Uint8Array[] = [];

  of(width: number): Uint8Array {
    let data = this.byWidth[width];
    if (data === undefined) {
      data = new Uint8Array(width);
      this.byWidth[width] = data;
    }
    return data;
  }
}
