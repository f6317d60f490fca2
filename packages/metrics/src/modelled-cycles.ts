import type { Domain } from '@splitvisor/abi';
import { boundaryOf } from '@splitvisor/abi';
import type { CostModel } from './cost-model.ts';
import type { TransitionRow } from './transition-counts.ts';

/** What one crossing from `from` to `to` costs in `model`: its boundary's round trip if it goes outward, else nothing (the way back is in the round trip). */
export function crossingCycles(model: CostModel, from: Domain, to: Domain): number {
  const boundary = boundaryOf(from, to);
  return boundary === undefined ? 0 : model.boundaries[boundary].cycles;
}

/** The modelled overhead of a run: each outward crossing charged its boundary's round-trip cost. */
export function modelledCycles(rows: readonly TransitionRow[], model: CostModel): number {
  let cycles = 0;
  for (const row of rows) cycles += row.count * crossingCycles(model, row.from, row.to);
  return cycles;
}
