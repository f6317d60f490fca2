export type { PitTickOptions } from './pit-tick.ts';
export { TIMER_VECTOR, pitTick } from './pit-tick.ts';

/** The workloads `splitvisor` knows, with their parameters. */
export const WORKLOADS = [
  { name: 'pit-tick', description: "Linux's periodic tick on the 8254 at HZ (default 1000) with 8259 EOIs", parameters: ['hz'] },
] as const;
