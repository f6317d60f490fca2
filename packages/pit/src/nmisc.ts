/**
 * The PC's port 61h, "NMI Status and Control" (Intel PIIX4 datasheet, NMISC,
 * I/O 061h): where the 8254's counter 2 meets the rest of the board.
 *
 *   bit 0  TIM2 GATE        R/W  gate input of counter 2
 *   bit 1  SPKR DATA        R/W  speaker data enable (ANDed with OUT2 to the speaker)
 *   bit 2  PCI SERR# enable R/W  (0 = enabled)
 *   bit 3  IOCHK# NMI enable R/W (0 = enabled)
 *   bit 4  REFRESH CYCLE TOGGLE  RO
 *   bit 5  TIM2 OUT         RO   counter 2's OUT pin
 *   bit 6  IOCHK# NMI source     RO
 *   bit 7  SERR# NMI source      RO
 *
 * Bit 4 toggles on every read, as QEMU's pcspk does (hardware toggles it with
 * each DRAM refresh, every ~15 µs; what drivers need is that it changes).
 * Bits 6 and 7 read 0: no NMI source is modelled. Bits 2 and 3 are stored
 * and read back, as the datasheet says (QEMU reads them as 0).
 */
export const Nmisc = {
  TIM2_GATE: 0x01,
  SPKR_DATA: 0x02,
  SERR_ENABLE_N: 0x04,
  IOCHK_ENABLE_N: 0x08,
  REFRESH_TOGGLE: 0x10,
  TIM2_OUT: 0x20,
  IOCHK_STATUS: 0x40,
  SERR_STATUS: 0x80,
} as const;

/** The bits a write stores. */
export const NMISC_WRITABLE: number = Nmisc.TIM2_GATE | Nmisc.SPKR_DATA | Nmisc.SERR_ENABLE_N | Nmisc.IOCHK_ENABLE_N;
