/**
 * Intel 8254 Programmable Interval Timer — register layout.
 * Datasheet: Intel 8254 (order no. 231164-005), "Control Word Format",
 * "Read-Back Command", "Status Byte", "Counter Latch Command".
 *
 * Ports (offsets within the `counters` region; the PC puts them at 40h–43h):
 *   0: counter 0 data   1: counter 1 data   2: counter 2 data   3: control word (write only)
 */

/** The PC's 8254 input clock: 14.31818 MHz / 12 (QEMU's PIT_FREQ). */
export const PIT_HZ = 1_193_182;

export const COUNTER_PORTS = 3;
export const CONTROL_PORT = 3;

/** Control word: SC1 SC0 | RW1 RW0 | M2 M1 M0 | BCD */
export const ControlWord = {
  /** Select counter, bits 7–6; 11 is the read-back command. */
  SC_SHIFT: 6,
  SC_READ_BACK: 3,
  /** Read/write, bits 5–4: 00 counter latch command, 01 LSB, 10 MSB, 11 LSB then MSB. */
  RW_SHIFT: 4,
  RW_MASK: 0x3,
  /** Mode, bits 3–1: 0–5; 6 and 7 are modes 2 and 3 (X10, X11). */
  M_SHIFT: 1,
  M_MASK: 0x7,
  BCD: 0x01,
} as const;

/** Read/write modes (RW1 RW0). */
export const RwMode = {
  latch: 0,
  lsb: 1,
  msb: 2,
  lsbThenMsb: 3,
} as const;

/** Read-back command: 1 1 COUNT# STATUS# CNT2 CNT1 CNT0 0 */
export const ReadBack = {
  /** Low: latch the count of the selected counters. */
  COUNT_N: 0x20,
  /** Low: latch the status of the selected counters. */
  STATUS_N: 0x10,
  CNT2: 0x08,
  CNT1: 0x04,
  CNT0: 0x02,
  /** Must be zero. */
  RESERVED: 0x01,
} as const;

/** Status byte: OUTPUT NULL-COUNT RW1 RW0 M2 M1 M0 BCD */
export const Status = {
  OUTPUT: 0x80,
  NULL_COUNT: 0x40,
} as const;

/** Largest count: a written 0 means 2^16 in binary, 10^4 in BCD. */
export const BINARY_MODULUS = 0x1_0000;
export const BCD_MODULUS = 10_000;
