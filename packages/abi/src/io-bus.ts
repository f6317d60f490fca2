/**
 * A domain's bus: which device region answers each port and each MMIO
 * address. Every domain (kernel, monitor, device host) owns one for the
 * devices placed in it; mapping a range that overlaps another is refused
 * with the two claimants named, and an access to nothing answers as an
 * empty bus does (all ones) and is counted.
 *
 * Port space is 64 K addresses, so a port is looked up in a table of them
 * (an I/O bitmap's shape: one slot per port); MMIO ranges are few and
 * sparse, found by binary search.
 */
import type { Device } from './device.ts';
import type { Access } from './access.ts';
import type { AccessOutcome } from './io-access.ts';
import { readBytes, writeBytes } from './io-access.ts';
import type { AddressSpace, IoRegion } from './io-region.ts';

export interface Mapping {
  readonly name: string;
  readonly device: Device;
  readonly region: IoRegion;
  readonly base: number;
}

/** Two claimants for one address: a configuration error of the host, not a guest's doing. */
export class BusConflictError extends Error {
  override readonly name = 'BusConflictError';
}

export type BusOutcome = AccessOutcome | 'unassigned';

/** Ports are 16-bit addresses (`in`/`out` take DX). */
const PORTS = 0x1_0000;

export class IoBus {
  private readonly spaces: Record<AddressSpace, Mapping[]> = { port: [], mmio: [], msr: [] };
  /** Per port: 1 + the index in `portMappings` of the mapping holding it, or 0 (nothing mapped). */
  private readonly portSlots = new Int32Array(PORTS);
  /** Port mappings in the order they were mapped (slots index into this; an unmapped one stays, its slots cleared). */
  private readonly portMappings: Mapping[] = [];
  /** A port region was mapped at a base that is not a whole port: lookups the table misses fall back to the search. */
  private oddPortBase = false;
  readonly unassigned = { reads: 0, writes: 0 };
  /** Told after every mapping: whoever keeps a view of what this bus holds. */
  private readonly watchers: (() => void)[] = [];

  /** Puts `device`'s `regionName` at `base` under the board name `name`. */
  map(name: string, device: Device, regionName: string, base: number): void {
    const region = device.regions.find((r) => r.name === regionName);
    if (region === undefined) throw new BusConflictError(`${name} has no region "${regionName}" (it has ${device.regions.map((r) => r.name).join(', ')})`);
    const list = this.spaces[region.space];
    for (const other of list) {
      if (base < other.base + other.region.length && other.base < base + region.length) {
        throw new BusConflictError(`${name} ${regionName} at ${hex(base)}–${hex(base + region.length - 1)} overlaps ${other.name} ${other.region.name} at ${hex(other.base)}–${hex(other.base + other.region.length - 1)}`);
      }
    }
    const mapping: Mapping = { name, device, region, base };
    list.push(mapping);
    list.sort((a, b) => a.base - b.base);
    if (region.space === 'port') {
      this.portMappings.push(mapping);
      const end = Math.min(PORTS, Math.ceil(base + region.length));
      if (Number.isInteger(base)) this.portSlots.fill(this.portMappings.length, Math.max(0, base), Math.max(0, end));
      else this.oddPortBase = true;
    }
    for (const watcher of this.watchers) watcher();
  }

  /**
   * Takes every region of the device named `name` off this bus (it moves to
   * another domain), or only its region `region` (a window the board moves:
   * a PCI BAR); returns how many.
   */
  unmap(name: string, region?: string): number {
    let removed = 0;
    for (const space of ['port', 'mmio', 'msr'] as const) {
      const list = this.spaces[space];
      for (let i = list.length - 1; i >= 0; i--) {
        const m = list[i];
        if (m?.name !== name || (region !== undefined && m.region.name !== region)) continue;
        list.splice(i, 1);
        removed++;
        if (space === 'port' && Number.isInteger(m.base)) this.portSlots.fill(0, Math.max(0, m.base), Math.max(0, Math.min(PORTS, Math.ceil(m.base + m.region.length))));
      }
    }
    if (removed > 0) for (const watcher of this.watchers) watcher();
    return removed;
  }

  /** The mapping holding `address`, or undefined. */
  find(space: AddressSpace, address: number): Mapping | undefined {
    if (space === 'port' && (address & 0xffff) === address) {
      const slot = this.portSlots[address] ?? 0;
      if (slot !== 0) return this.portMappings[slot - 1];
      if (!this.oddPortBase) return undefined;
    }
    const list = this.spaces[space];
    let lo = 0;
    let hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const m = list[mid];
      if (m === undefined) break;
      if (address < m.base) hi = mid - 1;
      else if (address >= m.base + m.region.length) lo = mid + 1;
      else return m;
    }
    return undefined;
  }

  read(space: AddressSpace, address: number, into: Uint8Array): BusOutcome {
    const m = this.find(space, address);
    if (m === undefined) {
      this.unassigned.reads++;
      into.fill(0xff);
      return 'unassigned';
    }
    return readBytes(m.device, m.region, address - m.base, into);
  }

  write(space: AddressSpace, address: number, data: Uint8Array): BusOutcome {
    const m = this.find(space, address);
    if (m === undefined) {
      this.unassigned.writes++;
      return 'unassigned';
    }
    return writeBytes(m.device, m.region, address - m.base, data);
  }

  /**
   * One access, if a device here holds its address: each element of a string
   * I/O in turn at the same address, a write's bytes taken from
   * `access.data`, a read's put into the caller's `into` (`width × count`
   * bytes). Returns the mapping that answered, or undefined when nothing here
   * holds the address — then nothing is done and nothing counted (the access
   * goes on to another domain). Nothing is allocated: the run loop's hot path.
   */
  access(access: Access, into: Uint8Array): Mapping | undefined {
    const m = this.find(access.space, access.address);
    if (m === undefined) return undefined;
    const offset = access.address - m.base;
    if (access.count !== 1) stringIo(m, offset, access.width, access.count, access.isWrite, access.data, into);
    else if (access.isWrite) writeBytes(m.device, m.region, offset, access.data);
    else readBytes(m.device, m.region, offset, into);
    return m;
  }

  /** An access no device here holds, answered as an empty bus answers (all ones; a write dropped) and counted. */
  openBus(access: Access, into: Uint8Array): void {
    if (access.isWrite) {
      this.unassigned.writes += access.count;
    } else {
      this.unassigned.reads += access.count;
      into.fill(0xff);
    }
  }

  /** Calls `watcher` after every mapping and unmapping from now on. */
  watch(watcher: () => void): void {
    this.watchers.push(watcher);
  }

  /** Whether nothing is mapped here at all. */
  get empty(): boolean {
    return this.spaces.port.length === 0 && this.spaces.mmio.length === 0 && this.spaces.msr.length === 0;
  }

  mappings(): readonly Mapping[] {
    return [...this.spaces.port, ...this.spaces.mmio, ...this.spaces.msr];
  }
}

/** `count` accesses of `width` bytes at the same offset (`rep insw`, `rep outsb`), each element in turn. */
function stringIo(m: Mapping, offset: number, width: number, count: number, isWrite: boolean, data: Uint8Array, into: Uint8Array): void {
  for (let i = 0; i < count; i++) {
    if (isWrite) writeBytes(m.device, m.region, offset, data.subarray(i * width, (i + 1) * width));
    else readBytes(m.device, m.region, offset, into.subarray(i * width, (i + 1) * width));
  }
}

function hex(value: number): string {
  return `0x${value.toString(16)}`;
}
