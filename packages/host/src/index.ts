export type { DescheduledTime, HostModelConfig, HostModelResult, HostTimerStrategy } from './host-model.ts';
export { DESCHEDULED_TIMES, HOST_LIMITS, HOST_TIMER_STRATEGIES, HostModelError, XEN_TIMER_MODES, runHostModel } from './host-model.ts';
