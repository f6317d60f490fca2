/**
 * High Precision Event Timer register map.
 * IA-PC HPET (High Precision Event Timers) Specification, revision 1.0a,
 * §2.3 "Register Descriptions" (tables 3–8).
 */

/** Register offsets within the 1 KiB block (the PC puts it at FED00000h). */
export const HpetReg = {
  GCAP_ID: 0x000, // General Capabilities and ID (64-bit, RO)
  GEN_CONF: 0x010, // General Configuration
  GINTR_STA: 0x020, // General Interrupt Status (write 1 to clear)
  MAIN_CNT: 0x0f0, // Main Counter Value
  TIMER_BASE: 0x100, // Timer N: 0x100 + 0x20 * N
  TIMER_STRIDE: 0x20,
  TN_CONF: 0x00, // Timer N Configuration and Capability
  TN_CMP: 0x08, // Timer N Comparator Value
  TN_FSB: 0x10, // Timer N FSB Interrupt Route
} as const;

/** General Capabilities and ID, low 32 bits; the high 32 are COUNTER_CLK_PERIOD in femtoseconds. */
export const Gcap = {
  REV_ID_SHIFT: 0,
  NUM_TIM_CAP_SHIFT: 8, // number of the last timer
  COUNT_SIZE_CAP: 0x2000, // 64-bit main counter
  LEG_RT_CAP: 0x8000, // legacy replacement route capable
  VENDOR_ID_SHIFT: 16,
} as const;

/** General Configuration. */
export const GenConf = {
  ENABLE_CNF: 0x1,
  LEG_RT_CNF: 0x2,
} as const;

/** Timer N Configuration and Capability, low 32 bits; the high 32 are Tn_INT_ROUTE_CAP. */
export const TnConf = {
  INT_TYPE_CNF: 0x2, // 1: level-triggered
  INT_ENB_CNF: 0x4,
  TYPE_CNF: 0x8, // 1: periodic
  PER_INT_CAP: 0x10, // RO
  SIZE_CAP: 0x20, // RO: 64-bit comparator
  VAL_SET_CNF: 0x40, // WO: the next comparator write sets the comparator in periodic mode
  MODE32_CNF: 0x100,
  INT_ROUTE_SHIFT: 9,
  INT_ROUTE_MASK: 0x1f,
  FSB_EN_CNF: 0x4000,
  FSB_INT_DEL_CAP: 0x8000, // RO
} as const;

/** The bits of Timer N Configuration that software may write. */
export const TN_CONF_WRITABLE: number = TnConf.INT_TYPE_CNF | TnConf.INT_ENB_CNF | TnConf.TYPE_CNF | TnConf.MODE32_CNF
  | (TnConf.INT_ROUTE_MASK << TnConf.INT_ROUTE_SHIFT);

/** As QEMU's hpet: vendor 8086h, revision 1, a 10 ns (100 MHz) clock — GCAP_ID reads 8086A201h, period 989680h. */
export const HPET_VENDOR_ID = 0x8086;
export const HPET_REV_ID = 0x01;
export const HPET_PERIOD_FS = 10_000_000;
export const HPET_HZ = 100_000_000;
