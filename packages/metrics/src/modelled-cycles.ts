import type { Domain, TransitionReason } from '@splitvisor/abi';
import { boundaryOf, domainDepth } from '@splitvisor/abi';
import type { CostModel } from './cost-model.ts';
import type { TransitionRow } from './transition-counts.ts';

/**
 * What one recorded transition from `from` to `to` costs in `model`: an
 * outward crossing its boundary's round trip (the way back is in it); the
 * coalesced ring's work — `reason` 'coalesced' within the kernel (the append)
 * or within userspace (the drain) — its cost; a posted write's send, within
 * the kernel, its cost; anything else nothing.
 */
export function crossingCycles(model: CostModel, from: Domain, to: Domain, reason?: TransitionReason): number {
  if (reason === 'coalesced' && from === to) return from === 'kernel' ? model.coalescedAppend.cycles : from === 'user' ? model.coalescedDrain.cycles : 0;
  if (reason === 'posted' && from === to) return from === 'kernel' ? model.postedWrite.cycles : 0;
  const boundary = boundaryOf(from, to);
  return boundary === undefined ? 0 : model.boundaries[boundary].cycles;
}

const DOMAINS: readonly Domain[] = ['guest', 'monitor', 'kernel', 'user'];

/**
 * `crossingCycles` in `model`, looked up from a table made once: the run
 * loop charges every hop of every exit, and the table answers with two
 * switches and an index where the function compares its way to the answer.
 */
export function crossingCyclesIn(model: CostModel): (from: Domain, to: Domain, reason: TransitionReason) => number {
  // By (from × 4 + to) × 3 + the reason's class: other, coalesced, posted.
  const table = new Float64Array(4 * 4 * 3);
  for (const from of DOMAINS) {
    for (const to of DOMAINS) {
      const at = (domainDepth(from) * 4 + domainDepth(to)) * 3;
      table[at] = crossingCycles(model, from, to, 'io');
      table[at + 1] = crossingCycles(model, from, to, 'coalesced');
      table[at + 2] = crossingCycles(model, from, to, 'posted');
    }
  }
  return (from, to, reason) => table[(domainDepth(from) * 4 + domainDepth(to)) * 3 + (reason === 'coalesced' ? 1 : reason === 'posted' ? 2 : 0)] ?? 0;
}

/** The modelled overhead of a run: each outward crossing charged its boundary's round-trip cost, and the coalesced ring's work. */
export function modelledCycles(rows: readonly TransitionRow[], model: CostModel): number {
  let cycles = 0;
  for (const row of rows) cycles += row.count * crossingCycles(model, row.from, row.to, row.reason);
  return cycles;
}
