/**
 * ACPI power management timer and the PM1 event bits it uses.
 * ACPI Specification 6.5: §4.8.3.3 "Power Management Timer (PM_TMR)",
 * §4.8.3.1 "PM1 Event Grouping" (PM1_STS, PM1_EN), FADT flag TMR_VAL_EXT.
 */

/** The PM timer's clock: 3.579545 MHz (ACPI §4.8.3.3). */
export const PM_TIMER_HZ = 3_579_545;

/** PM1 event block offsets: PM1_STS (16 bits, write 1 to clear) then PM1_EN (16 bits). */
export const PM1_STS = 0;
export const PM1_EN = 2;

/** PM1_STS bits. Only TMR_STS is modelled; the others read 0. */
export const Pm1Sts = {
  TMR_STS: 0x0001,
  BM_STS: 0x0010,
  GBL_STS: 0x0020,
  PWRBTN_STS: 0x0100,
  SLPBTN_STS: 0x0200,
  RTC_STS: 0x0400,
  WAK_STS: 0x8000,
} as const;

/** PM1_EN bits; all are stored, only TMR_EN acts. */
export const Pm1En = {
  TMR_EN: 0x0001,
  GBL_EN: 0x0020,
  PWRBTN_EN: 0x0100,
  SLPBTN_EN: 0x0200,
  RTC_EN: 0x0400,
} as const;

export const PM1_EN_WRITABLE: number = Pm1En.TMR_EN | Pm1En.GBL_EN | Pm1En.PWRBTN_EN | Pm1En.SLPBTN_EN | Pm1En.RTC_EN;
