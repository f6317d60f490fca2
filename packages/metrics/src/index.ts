export type { Cost, CostModel } from './cost-model.ts';
export { COST_MODELS, KVM_2020, TCG, costModel } from './cost-model.ts';
export { Histogram } from './histogram.ts';
export { crossingCycles, crossingCyclesIn, modelledCycles } from './modelled-cycles.ts';
export type { TransitionRow } from './transition-counts.ts';
export { TransitionCounts } from './transition-counts.ts';
export type { ExitReport, ExitReportOptions, ExitsByDevice } from './report.ts';
export { exitReport, tallyExitsByDevice } from './report.ts';
