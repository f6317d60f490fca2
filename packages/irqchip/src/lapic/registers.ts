/**
 * Local APIC registers (xAPIC, MMIO). Intel SDM vol. 3A, chapter 11
 * "Advanced Programmable Interrupt Controller (APIC)": table 11-1 (register
 * address map), §11.5.1 (LVT), §11.5.3 (ESR), §11.6.1 (ICR), §11.8.3.1 (TPR,
 * PPR), §11.8.4 (IRR, ISR, TMR), §11.8.5 (EOI), §11.9 (SVR), §11.6.2.2 (LDR,
 * DFR).
 */
export const LapicReg = {
  ID: 0x020,
  VERSION: 0x030,
  TPR: 0x080,
  APR: 0x090,
  PPR: 0x0a0,
  EOI: 0x0b0,
  RRD: 0x0c0,
  LDR: 0x0d0,
  DFR: 0x0e0,
  SVR: 0x0f0,
  ISR: 0x100, // eight 32-bit words, 16 bytes apart
  TMR: 0x180,
  IRR: 0x200,
  ESR: 0x280,
  LVT_CMCI: 0x2f0,
  ICR_LOW: 0x300,
  ICR_HIGH: 0x310,
  LVT_TIMER: 0x320,
  LVT_THERMAL: 0x330,
  LVT_PERF: 0x340,
  LVT_LINT0: 0x350,
  LVT_LINT1: 0x360,
  LVT_ERROR: 0x370,
  TIMER_INITIAL: 0x380,
  TIMER_CURRENT: 0x390,
  TIMER_DIVIDE: 0x3e0,
} as const;

/** As QEMU and KVM: version 14h, six LVT entries (maximum LVT entry 5): 00050014h. */
export const LAPIC_VERSION = 0x0005_0014;

export const Svr = {
  VECTOR_MASK: 0xff,
  APIC_ENABLED: 0x100,
  FOCUS_DISABLED: 0x200,
  EOI_BROADCAST_SUPPRESSION: 0x1000,
} as const;

/** SVR bits software can write (EOI-broadcast suppression is not offered: version bit 24 is clear). */
export const SVR_WRITABLE = 0x3ff;

export const Lvt = {
  VECTOR_MASK: 0xff,
  DELIVERY_MODE_SHIFT: 8,
  DELIVERY_MODE_MASK: 0x7,
  DELIVERY_STATUS: 0x1000,
  POLARITY_LOW: 0x2000,
  REMOTE_IRR: 0x4000,
  TRIGGER_LEVEL: 0x8000,
  MASKED: 0x1_0000,
} as const;

/** Writable bits of LINT0/LINT1 (vector, mode, polarity, trigger, mask); of the other LVT entries (vector, mode, mask). */
export const LVT_LINT_WRITABLE = 0x1_a7ff;
export const LVT_OTHER_WRITABLE = 0x1_07ff;
export const LVT_ERROR_WRITABLE = 0x1_00ff;

export const Icr = {
  VECTOR_MASK: 0xff,
  DELIVERY_MODE_SHIFT: 8,
  DELIVERY_MODE_MASK: 0x7,
  DEST_MODE_LOGICAL: 0x800,
  DELIVERY_STATUS: 0x1000,
  LEVEL_ASSERT: 0x4000,
  TRIGGER_LEVEL: 0x8000,
  SHORTHAND_SHIFT: 18,
  SHORTHAND_MASK: 0x3,
} as const;

export const ICR_LOW_WRITABLE = 0x000c_cfff;

/** ESR bits (§11.5.3). */
export const Esr = {
  SEND_ILLEGAL_VECTOR: 0x20,
  RECEIVE_ILLEGAL_VECTOR: 0x40,
  ILLEGAL_REGISTER_ADDRESS: 0x80,
} as const;

/** DFR model (bits 31:28): flat 1111b, cluster 0000b; bits 27:0 read as ones. */
export const DFR_MODEL_FLAT = 0xf;
export const DFR_RESERVED_ONES = 0x0fff_ffff;
