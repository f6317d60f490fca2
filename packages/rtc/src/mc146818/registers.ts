/**
 * MC146818A register map. Motorola MC146818A datasheet, "Address Map"
 * (figure 3), "Time, Calendar and Alarm Locations" (table 2), and
 * "Registers" (registers A–D).
 *
 *   00h seconds         01h seconds alarm   02h minutes   03h minutes alarm
 *   04h hours           05h hours alarm     06h day of week (1 = Sunday)
 *   07h date of month   08h month           09h year (00–99)
 *   0Ah register A      0Bh register B      0Ch register C  0Dh register D
 *   0Eh–3Fh             user RAM (the PC's CMOS setup bytes, 32h the century)
 *
 * The PC decodes a 7-bit index (QEMU masks it to 7Fh), so a PC's CMOS holds
 * 128 bytes: 14 of the chip's registers and 114 of RAM.
 */

/** Time, calendar and alarm locations. */
export const RtcReg = {
  SECONDS: 0x00,
  SECONDS_ALARM: 0x01,
  MINUTES: 0x02,
  MINUTES_ALARM: 0x03,
  HOURS: 0x04,
  HOURS_ALARM: 0x05,
  DAY_OF_WEEK: 0x06,
  DATE_OF_MONTH: 0x07,
  MONTH: 0x08,
  YEAR: 0x09,
  A: 0x0a,
  B: 0x0b,
  C: 0x0c,
  D: 0x0d,
} as const;

/** Bytes addressable through the PC's index port (7 bits). */
export const CMOS_BYTES = 128;

/** The first byte of RAM after the chip's registers. */
export const NVRAM_START = 0x0e;

/**
 * Register A:
 *
 *   bit 7    UIP     update in progress (read-only)
 *   bits 6–4 DV2–0   divider: 000 4.194304 MHz, 001 1.048576 MHz, 010 32.768 kHz time base;
 *                    11x divider chain held in reset; 011 and 10x test modes
 *   bits 3–0 RS3–0   periodic interrupt / square-wave rate select (0 = off)
 */
export const RegA = {
  UIP: 0x80,
  DV_SHIFT: 4,
  DV_MASK: 0x7,
  RS_MASK: 0x0f,
} as const;

/** Divider field values of register A. */
export const Divider = {
  TIME_BASE_4MHZ: 0b000,
  TIME_BASE_1MHZ: 0b001,
  TIME_BASE_32KHZ: 0b010,
  /** 110 and 111: the divider chain is held in reset. */
  RESET: 0b110,
} as const;

/**
 * Register B (all bits read/write):
 *
 *   bit 7 SET   1: updates inhibited, the time may be set (also clears UIE)
 *   bit 6 PIE   periodic interrupt enable
 *   bit 5 AIE   alarm interrupt enable
 *   bit 4 UIE   update-ended interrupt enable
 *   bit 3 SQWE  square-wave output enable (the PC leaves the SQW pin unconnected)
 *   bit 2 DM    data mode: 1 binary, 0 BCD
 *   bit 1 24/12 1: 24-hour mode, 0: 12-hour mode (bit 7 of the hours is PM)
 *   bit 0 DSE   daylight-saving enable
 */
export const RegB = {
  SET: 0x80,
  PIE: 0x40,
  AIE: 0x20,
  UIE: 0x10,
  SQWE: 0x08,
  DM: 0x04,
  HOUR_24: 0x02,
  DSE: 0x01,
} as const;

/**
 * Register C (read-only; every read clears it and releases IRQ):
 *
 *   bit 7 IRQF  PF·PIE + AF·AIE + UF·UIE
 *   bit 6 PF    periodic interrupt flag (set at the selected tap whatever PIE says)
 *   bit 5 AF    alarm flag
 *   bit 4 UF    update-ended flag
 *   bits 3–0    read 0
 */
export const RegC = {
  IRQF: 0x80,
  PF: 0x40,
  AF: 0x20,
  UF: 0x10,
  /** The flags, lined up with their enables in register B. */
  FLAGS: 0x70,
} as const;

/** Register D (read-only): bit 7 VRT, valid RAM and time (the battery is good); bits 6–0 read 0. */
export const RegD = {
  VRT: 0x80,
} as const;

/** In 12-hour mode, bit 7 of the hours and hours-alarm bytes is PM. */
export const HOUR_PM = 0x80;

/** An alarm byte whose two high bits are set (C0h–FFh) matches every value. */
export const ALARM_DONT_CARE = 0xc0;

/** The PC's power-on register A and B as a BIOS leaves them (and QEMU sets them): 32.768 kHz, 1024 Hz rate; BCD, 24-hour. */
export const POWER_ON_A = 0x26;
export const POWER_ON_B = 0x02;
