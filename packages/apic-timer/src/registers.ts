/**
 * Local APIC timer registers.
 * Intel SDM vol. 3A, §11.5.4 "APIC Timer" (figure 11-10, Divide Configuration
 * Register; figure 11-8, Local Vector Table: timer entry) and §11.5.4.1
 * "TSC-Deadline Mode" (IA32_TSC_DEADLINE, MSR 6E0h).
 */

/** The LAPIC's register offsets for the timer (the LAPIC decodes them; this model serves them). */
export const ApicTimerReg = {
  LVT_TIMER: 0x320,
  INITIAL_COUNT: 0x380,
  CURRENT_COUNT: 0x390, // read-only
  DIVIDE_CONFIG: 0x3e0,
} as const;

export const IA32_TSC_DEADLINE = 0x6e0;

/** LVT timer entry. */
export const LvtTimer = {
  VECTOR_MASK: 0xff,
  DELIVERY_STATUS: 0x1000, // RO: send pending (never set here: delivery is immediate)
  MASKED: 0x1_0000,
  MODE_SHIFT: 17,
  MODE_MASK: 0x3,
} as const;

/** LVT timer mode (bits 18:17). */
export const TimerMode = {
  oneShot: 0,
  periodic: 1,
  tscDeadline: 2,
} as const;

/** The writable bits of the LVT timer entry: vector, mask, mode. */
export const LVT_TIMER_WRITABLE = 0x7_00ff;

/** Divide Configuration: bits 0, 1 and 3; 111b means divide by 1. */
export const DIVIDE_CONFIG_BITS = 0b1011;

/** The divisor a Divide Configuration value selects: 2, 4, … 128, then 1 (SDM figure 11-10). */
export function divisorOf(divideConfig: number): number {
  const code = (divideConfig & 0b11) | ((divideConfig >> 1) & 0b100);
  return code === 0b111 ? 1 : 2 << code;
}
