// Runs a scripted guest on its own, as a CPU under a monitor would: answers its reads, keeps its TSC, and records
// every port and MMIO access; on `hlt` a millisecond passes and the PIT's tick (vector 20h) comes in.
import type { ScriptedGuest } from '@splitvisor/scripted-guest';

export interface Access {
  readonly kind: 'out' | 'in' | 'write' | 'read';
  /** Port or physical address. */
  readonly at: number;
  /** Written, or answered. */
  readonly value: number;
  readonly size: number;
}

export interface Driver {
  readonly log: Access[];
  /** Runs until `count` more accesses have been made (or `stop` says so). */
  step(count: number, stop?: (a: Access) => boolean): Access[];
  /** Runs until the guest halts; false if it made `limit` accesses first. */
  toHalt(limit?: number): boolean;
  inject(vector: number): void;
  readonly tsc: () => number;
}

const TICK_VECTOR = 0x20;
const MS_CYCLES = 2_000_000;

function little(value: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let v = value;
  for (let i = 0; i < size; i++) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return out;
}

function valueOf(data: Uint8Array): number {
  let v = 0;
  for (let i = data.length - 1; i >= 0; i--) v = v * 256 + (data[i] ?? 0);
  return v;
}

export interface DriveOptions {
  /** Inject the PIT tick at each `hlt` (default true). */
  readonly tickOnHalt?: boolean;
  /** Sees each `out` and MMIO write as it is made (a device fake keeping its index register). */
  readonly onWrite?: (kind: 'out' | 'write', at: number, value: number, size: number) => void;
}

export function drive(guest: ScriptedGuest, answer: (kind: 'in' | 'read', at: number, size: number) => number, options: DriveOptions = {}): Driver {
  const tickOnHalt = options.tickOnHalt ?? true;
  const log: Access[] = [];
  let tsc = 0;
  /** One run; the access it made, 'hlt', or undefined (budget, a window). */
  const once = (): Access | 'hlt' | 'shutdown' | undefined => {
    const { exit, cycles } = guest.run(Number.POSITIVE_INFINITY, false, tsc);
    tsc += cycles;
    switch (exit.kind) {
      case 'io': {
        if (exit.direction === 'out') {
          options.onWrite?.('out', exit.port, valueOf(exit.data), exit.size);
          return { kind: 'out', at: exit.port, value: valueOf(exit.data), size: exit.size };
        }
        const value = answer('in', exit.port, exit.size);
        guest.complete(little(value, exit.size));
        return { kind: 'in', at: exit.port, value, size: exit.size };
      }
      case 'mmio': {
        if (exit.isWrite) {
          options.onWrite?.('write', exit.address, valueOf(exit.data), exit.length);
          return { kind: 'write', at: exit.address, value: valueOf(exit.data), size: exit.length };
        }
        const value = answer('read', exit.address, exit.length);
        guest.complete(little(value, exit.length));
        return { kind: 'read', at: exit.address, value, size: exit.length };
      }
      case 'hlt': return 'hlt';
      case 'shutdown': return 'shutdown';
      default: return undefined;
    }
  };
  const halt = (): void => {
    tsc += MS_CYCLES;
    if (tickOnHalt) guest.inject(TICK_VECTOR);
  };
  return {
    log,
    step(count, stop) {
      const made: Access[] = [];
      for (let guard = 0; made.length < count && guard < 10_000_000; guard++) {
        const result = once();
        if (result === 'shutdown') break;
        if (result === 'hlt') halt();
        else if (result !== undefined) {
          log.push(result);
          made.push(result);
          if (stop?.(result) === true) break;
        }
      }
      return made;
    },
    toHalt(limit = 1_000_000) {
      for (let n = 0; n < limit;) {
        const result = once();
        if (result === 'hlt') return true;
        if (result === 'shutdown') return false;
        if (result !== undefined) {
          log.push(result);
          n++;
        }
      }
      return false;
    },
    inject: (vector) => { guest.inject(vector); },
    tsc: () => tsc,
  };
}

/** `a` as "kind at=value" in hex, for readable sequence assertions. */
export function show(a: Access): string {
  const size = a.size === 1 ? '' : `/${a.size}`;
  return `${a.kind} ${a.at.toString(16)}=${a.value.toString(16)}${size}`;
}
