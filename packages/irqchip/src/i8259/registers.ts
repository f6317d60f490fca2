/**
 * Intel 8259A Programmable Interrupt Controller — command words.
 * Datasheet: Intel 8259A (231468-003), "Initialization Command Words" (ICW1–ICW4)
 * and "Operation Command Words" (OCW1–OCW3), figures 7 and 8.
 *
 * Ports (offsets within each chip's region): 0 — ICW1, OCW2, OCW3 (write),
 * IRR/ISR/poll word (read); 1 — ICW2–ICW4, OCW1 (write), IMR (read).
 */

/** ICW1 (port 0, D4 = 1). */
export const Icw1 = {
  IC4: 0x01, // ICW4 needed
  SNGL: 0x02, // single (no ICW3)
  ADI: 0x04, // call address interval (8080 mode only)
  LTIM: 0x08, // level-triggered mode
  MARKER: 0x10,
} as const;

/** ICW4. */
export const Icw4 = {
  UPM: 0x01, // 8086/8088 mode
  AEOI: 0x02, // automatic end of interrupt
  MS: 0x04, // master/slave in buffered mode
  BUF: 0x08, // buffered mode
  SFNM: 0x10, // special fully nested mode
} as const;

/** OCW2 (port 0, D4 = D3 = 0): R SL EOI in bits 7–5, the level in bits 2–0. */
export const Ocw2 = {
  rotateInAeoiClear: 0,
  nonSpecificEoi: 1,
  noOperation: 2,
  specificEoi: 3,
  rotateInAeoiSet: 4,
  rotateOnNonSpecificEoi: 5,
  setPriority: 6,
  rotateOnSpecificEoi: 7,
} as const;

/** OCW3 (port 0, D4 = 0, D3 = 1). */
export const Ocw3 = {
  RIS: 0x01, // read ISR (else IRR), when RR
  RR: 0x02, // read register command
  P: 0x04, // poll
  MARKER: 0x08,
  SMM: 0x20, // special mask mode, when ESMM
  ESMM: 0x40,
} as const;

/** The vector bits ICW2 sets in 8086 mode (the low three come from the level). */
export const ICW2_VECTOR_MASK = 0xf8;

/** The cascade input of the master on a PC. */
export const CASCADE_IRQ = 2;
