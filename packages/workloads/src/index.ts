export type { LapicTickOptions } from './lapic-tick.ts';
export { APIC_DIVISOR, GUEST_TSC_HZ, LAPIC_BUS_HZ, LOCAL_TIMER_VECTOR, SPURIOUS_APIC_VECTOR, lapicTick } from './lapic-tick.ts';
export type { PitTickOptions } from './pit-tick.ts';
export { TIMER_VECTOR, pitTick } from './pit-tick.ts';
export type { PmTimerRead, PmTimerReadOptions } from './pm-timer-read.ts';
export {
  ACPI_PM_MASK, PM_TIMER_PORT, RECENT_PM_TIMER_VALUES, pmTimerDelta, pmTimerForward, pmTimerMonotonic, pmTimerRead,
} from './pm-timer-read.ts';

/** The workloads `splitvisor` knows, with their parameters. */
export const WORKLOADS = [
  { name: 'pit-tick', description: "Linux's periodic tick on the 8254 at HZ (default 1000) with 8259 EOIs", parameters: ['hz'] },
  { name: 'lapic-tick', description: "Linux's tickless idle on the LAPIC timer in one-shot mode at HZ (default 1000), re-armed before each hlt, with LAPIC EOIs", parameters: ['hz'] },
  { name: 'pm-timer-read', description: "Linux's acpi_pm clocksource read (the verified triple read of PM_TMR) in a loop, interrupts off, for a number of reads (default: forever)", parameters: ['reads'] },
] as const;
