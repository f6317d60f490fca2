import type { CounterView, FastPathHints } from './fast-path.ts';
import type { FastPathProgram } from './fast-path-program.ts';
import type { AccessSize, IoRegion } from './io-region.ts';
import type { DeviceContext } from './device-context.ts';
import type { DeviceState } from './plain-state.ts';

/**
 * The contract every device model implements, whichever domain hosts it.
 *
 * - Regions are named as in the datasheet; `read`/`write` receive the region's
 *   name, the offset within it and an accepted width.
 * - Bad guest input never throws: it gets the hardware's answer (an ignored
 *   write, 0xff from an open bus, an error status) and a count in `anomalies()`.
 * - `getState()` is the device's whole state as plain data; `setState()`
 *   restores it into a fresh instance, possibly in another domain, re-arms
 *   timers from it and re-drives its irq outputs at their levels. A state of
 *   another model or version is a host error and throws `DeviceStateError`.
 */
export interface Device<S extends DeviceState = DeviceState> {
  /** The part, as in the state's `model`: `i8254`, `i8259`, `mc146818`. */
  readonly model: S['model'];
  readonly regions: readonly IoRegion[];
  read(region: string, offset: number, size: AccessSize): number;
  write(region: string, offset: number, size: AccessSize, value: number): void;
  getState(): S;
  setState(state: S): void;
  /**
   * Counts of guest input the hardware ignores or answers oddly (`ignoredWrites`,
   * `openBusReads`, …). Named so, not `counters`, because counters are what
   * timer chips are made of.
   */
  anomalies(): Readonly<Record<string, number>>;
  /**
   * The interrupt raised on `output` was accepted by the CPU (the domain's
   * irqchip calls this from its ack notifier). Only devices that pace
   * re-injection of lost ticks by it implement it (KVM's in-kernel PIT does).
   */
  irqAcknowledged?(output: number): void;
  /** The irqchip unmasked the line of `output` (KVM's irq mask notifier): a device holding a tick back may release it. */
  irqUnmasked?(output: number): void;
  /**
   * The device's free-running counters as they stand now (the ACPI PM timer,
   * the HPET main counter), for a domain to serve reads of them without
   * calling the device: the view changes only when the guest writes to the
   * device, so a domain refreshes it after each write it forwards.
   */
  counterViews?(): readonly CounterView[];
  /**
   * What a read of a `hints.cachedReads` span would return now, if a domain
   * may answer it without calling the device until the next access to the
   * device or the next timer of its domain: undefined when the read has a
   * side effect now (a 16550's LSR with an error bit to clear) or its value
   * is a function of time. Reading it changes nothing.
   */
  cachedRead?(region: string, offset: number): number | undefined;
  /**
   * Programs (seed 002's bytecode) a domain may run for this device's
   * accesses, each covering `length` bytes of a region from `offset`; all
   * share the device's scratch (`programScratch`).
   */
  readonly programs?: readonly DeviceProgram[];
  /** The scratch its programs see, as the device stands now (a fresh copy). */
  programScratch?(): Uint8Array;
  /** What its programs left in the scratch, folded back into the device: as if it had answered those accesses itself. */
  adoptProgramScratch?(scratch: Uint8Array): void;
  readonly hints?: FastPathHints;
}

/** A program a device offers for `length` bytes of `region` from `offset`. */
export interface DeviceProgram {
  readonly region: string;
  readonly offset: number;
  readonly length: number;
  readonly program: FastPathProgram;
}

/** How a domain (or the board) makes a device: it hands over the context, never the other way round. */
export type DeviceFactory<C, S extends DeviceState = DeviceState> = (context: DeviceContext, config: C) => Device<S>;

/** A state that does not belong to the device it is given to. */
export class DeviceStateError extends Error {
  override readonly name = 'DeviceStateError';
}

/** Checks a state's name and version before a device adopts it. */
export function expectState(state: DeviceState, model: string, version: number): void {
  if (state.model !== model) throw new DeviceStateError(`state of ${state.model} given to ${model}`);
  if (state.version !== version) {
    throw new DeviceStateError(`${model} state version ${state.version} is not the supported version ${version}`);
  }
}
