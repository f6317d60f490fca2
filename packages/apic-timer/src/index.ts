export type { ApicTimerConfig, ApicTimerState } from './apic-timer.ts';
export { ApicTimer } from './apic-timer.ts';
export { ApicTimerReg, IA32_TSC_DEADLINE, LvtTimer, TimerMode, divisorOf } from './registers.ts';
