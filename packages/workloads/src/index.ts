export type { LapicTickOptions } from './lapic-tick.ts';
export { APIC_DIVISOR, GUEST_TSC_HZ, LAPIC_BUS_HZ, LOCAL_TIMER_VECTOR, SPURIOUS_APIC_VECTOR, lapicTick } from './lapic-tick.ts';
export type { PitTickOptions } from './pit-tick.ts';
export { TIMER_VECTOR, pitTick } from './pit-tick.ts';
export type { PmTimerRead, PmTimerReadOptions } from './pm-timer-read.ts';
export {
  ACPI_PM_MASK, PM_TIMER_PORT, RECENT_PM_TIMER_VALUES, pmTimerDelta, pmTimerForward, pmTimerMonotonic, pmTimerRead,
} from './pm-timer-read.ts';
export type {
  HostTyping, ParameterValue, Workload, WorkloadBoard, WorkloadDefinition, WorkloadParameter, WorkloadParameters,
} from './workload.ts';
export { WorkloadError, numberParameter, resolveParameters, stringParameter } from './workload.ts';
export { WORKLOAD_ALIASES, WORKLOAD_DEFINITIONS, createWorkload, workloadDefinition } from './catalog.ts';
export type { VmexitTest } from './vmexit.ts';
export { IPI_TEST_VECTOR, TSC_DEADLINE_TIMER_VECTOR, VMEXIT, VMEXIT_TESTS, vmexit } from './vmexit.ts';
