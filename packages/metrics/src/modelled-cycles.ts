import { boundaryOf } from '@splitvisor/abi';
import type { CostModel } from './cost-model.ts';
import type { TransitionRow } from './transition-counts.ts';

/** The modelled overhead of a run: each outward crossing charged its boundary's round-trip cost. */
export function modelledCycles(rows: readonly TransitionRow[], model: CostModel): number {
  let cycles = 0;
  for (const row of rows) {
    const boundary = boundaryOf(row.from, row.to);
    if (boundary !== undefined) cycles += row.count * model.boundaries[boundary].cycles;
  }
  return cycles;
}
