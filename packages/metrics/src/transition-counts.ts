/**
 * The TransitionRecorder the monitor and the domains report to: counts of
 * every crossing by (from, to, reason, device), without allocating on the
 * hot path once a key has been seen.
 */
import type { Domain, Nanoseconds, TransitionReason, TransitionRecorder } from '@splitvisor/abi';
import { boundaryOf } from '@splitvisor/abi';

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

export class TransitionCounts implements TransitionRecorder {
  private readonly cells = new Map<string, Cell>();
  total = 0;

  record(from: Domain, to: Domain, reason: TransitionReason, device: string | null, time: Nanoseconds): void {
    this.total++;
    const key = `${from}>${to}:${reason}:${device ?? ''}`;
    const cell = this.cells.get(key);
    if (cell === undefined) {
      this.cells.set(key, { from, to, reason, device, count: 1, first: time, last: time });
      return;
    }
    cell.count++;
    cell.last = time;
  }

  /** Every kind of crossing seen, in a stable order (by from, to, reason, device). */
  rows(): readonly TransitionRow[] {
    return [...this.cells.values()]
      .map((cell) => ({ ...cell }))
      .sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to) || a.reason.localeCompare(b.reason)
        || (a.device ?? '').localeCompare(b.device ?? ''));
  }

  /** Outward crossings of a device, by the domain that handled them: the "exits by device × domain" table. */
  exitsByDevice(): ReadonlyMap<string, Readonly<Partial<Record<Domain, number>>>> {
    const table = new Map<string, Partial<Record<Domain, number>>>();
    for (const cell of this.cells.values()) {
      if (cell.device === null || boundaryOf(cell.from, cell.to) === undefined) continue;
      const row = table.get(cell.device) ?? {};
      row[cell.to] = (row[cell.to] ?? 0) + cell.count;
      table.set(cell.device, row);
    }
    return table;
  }
}
