/**
 * The TransitionRecorder the monitor and the domains report to: counts of
 * every crossing by (from, to, reason, device), in O(1) and without
 * allocating once a kind of crossing has been seen.
 */
import type { Domain, Nanoseconds, TransitionReason, TransitionRecorder } from '@splitvisor/abi';
import { domainDepth } from '@splitvisor/abi';
import { tallyExitsByDevice } from './report.ts';

export interface TransitionRow {
  readonly from: Domain;
  readonly to: Domain;
  readonly reason: TransitionReason;
  readonly device: string | null;
  readonly count: number;
  /** Virtual time of the first and last crossing of this kind. */
  readonly first: Nanoseconds;
  readonly last: Nanoseconds;
}

type Cell = { from: Domain; to: Domain; reason: TransitionReason; device: string | null; count: number; first: Nanoseconds; last: Nanoseconds };


/** The reasons, the commonest first (a switch on strings compares in order). */
const REASONS = 14;
function reasonIndex(reason: TransitionReason): number {
  switch (reason) {
    case 'io': return 0;
    case 'resume': return 1;
    case 'mmio': return 2;
    case 'hlt': return 3;
    case 'intr': return 4;
    case 'irq-window-open': return 5;
    case 'ioapic-eoi': return 6;
    case 'timer': return 7;
    case 'ioctl': return 8;
    case 'shutdown': return 9;
    case 'internal-error': return 10;
    case 'msr': return 11;
    case 'coalesced': return 12;
    case 'posted': return 13;
  }
}

export class TransitionCounts implements TransitionRecorder {
  /**
   * Cells by ((device × 4 + from) × 4 + to) × REASONS + reason, device being
   * its number in order of first sight (0: none): O(1) with no key to build.
   */
  private readonly cells: (Cell | undefined)[] = [];
  /** Every cell, in the order first seen. */
  private readonly seen: Cell[] = [];
  private readonly deviceNumbers = new Map<string, number>();
  /** The device of the last crossing recorded and its number: a crossing's hops all name the same device. */
  private lastDevice: string | null = null;
  private lastDeviceNumber = 0;
  total = 0;

  record(from: Domain, to: Domain, reason: TransitionReason, device: string | null, time: Nanoseconds): void {
    this.total++;
    const index = ((this.deviceNumber(device) * 4 + domainDepth(from)) * 4 + domainDepth(to)) * REASONS + reasonIndex(reason);
    const cell = this.cells[index];
    if (cell === undefined) {
      this.create(index, { from, to, reason, device, count: 1, first: time, last: time });
      return;
    }
    cell.count++;
    cell.last = time;
  }

  /**
   * The counts of a run this one continues — a VM restored from a
   * checkpoint after its device host was lost — added to its own, so the
   * totals are the whole run's.
   */
  carry(rows: readonly TransitionRow[]): void {
    for (const row of rows) {
      this.total += row.count;
      const index = ((this.deviceNumber(row.device) * 4 + domainDepth(row.from)) * 4 + domainDepth(row.to)) * REASONS + reasonIndex(row.reason);
      const cell = this.cells[index];
      if (cell === undefined) {
        this.create(index, { ...row });
        continue;
      }
      cell.count += row.count;
      cell.first = Math.min(cell.first, row.first);
      cell.last = Math.max(cell.last, row.last);
    }
  }

  private create(index: number, cell: Cell): void {
    // Filled in order up to the index: the array stays packed.
    while (this.cells.length < index) this.cells.push(undefined);
    this.cells[index] = cell;
    this.seen.push(cell);
  }

  private deviceNumber(device: string | null): number {
    if (device === this.lastDevice) return this.lastDeviceNumber;
    let number = 0;
    if (device !== null) {
      number = this.deviceNumbers.get(device) ?? this.deviceNumbers.size + 1;
      this.deviceNumbers.set(device, number);
    }
    this.lastDevice = device;
    this.lastDeviceNumber = number;
    return number;
  }

  /** Every kind of crossing seen, in a stable order (by from, to, reason, device). */
  rows(): readonly TransitionRow[] {
    return this.seen
      .map((cell) => ({ ...cell }))
      .sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to) || a.reason.localeCompare(b.reason)
        || (a.device ?? '').localeCompare(b.device ?? ''));
  }

  /** Outward crossings of a device, by the domain that handled them: the "exits by device × domain" table, in the order first seen. */
  exitsByDevice(): ReadonlyMap<string, Readonly<Partial<Record<Domain, number>>>> {
    return tallyExitsByDevice(this.seen);
  }
}
