/**
 * Intel 8237A high-performance programmable DMA controller — register layout,
 * and the PC/AT's page registers beside it. References: Intel 8237A/8237A-4/
 * 8237A-5 data sheet (231466), "Register Description" and "Software
 * Commands" (Figures 6 and 7); IBM PC/AT Technical Reference, "DMA
 * Controller" (the two 8237s, the cascade on channel 4, word transfers on
 * channels 5–7, the page registers at 81h–8Fh); Intel 82371AB (PIIX4)
 * datasheet, "DMA Controller" (the same map on a PC chipset).
 *
 * Each controller decodes 16 registers (A3–A0). The first (channels 0–3)
 * sits at 00h–0Fh; the second (channels 4–7) at C0h–DFh with A0 wired to the
 * bus's A1, so its registers are at even ports and each odd port aliases the
 * even one below it (QEMU decodes it the same way).
 */

/** Registers 0–7: channel n's address (2n) and count (2n + 1), each a byte at a time through the flip-flop. */
export const CHANNEL_REGISTERS = 8;

/** Registers 8–15. Reads and writes of one register number reach different registers. */
export const ControlRegister = {
  /** Read: status. Write: command. */
  STATUS_COMMAND: 8,
  /** Write: request register (software DREQ). */
  REQUEST: 9,
  /** Write: set or clear one channel's mask bit. */
  SINGLE_MASK: 10,
  /** Write: one channel's mode register. */
  MODE: 11,
  /** Write (any value): clear the byte pointer flip-flop. */
  CLEAR_FLIP_FLOP: 12,
  /** Read: temporary register. Write (any value): master clear. */
  TEMPORARY_MASTER_CLEAR: 13,
  /** Write (any value): clear all four mask bits. */
  CLEAR_MASK: 14,
  /** Write: all four mask bits at once. Read (PC chipsets, e.g. PIIX4): the mask bits. */
  ALL_MASK: 15,
} as const;

/** Command register (write, register 8). */
export const Command = {
  /** Memory-to-memory transfers on channels 0 and 1. Not modelled. */
  MEMORY_TO_MEMORY: 0x01,
  /** Channel 0 address hold (memory-to-memory only). Not modelled. */
  ADDRESS_HOLD: 0x02,
  /** Controller disable: no channel of this controller is serviced. */
  DISABLE: 0x04,
  /** Compressed timing: a bus-timing choice, without effect in a model. */
  COMPRESSED_TIMING: 0x08,
  /** Rotating priority: without effect here (requests are serviced at once, in channel order). */
  ROTATING_PRIORITY: 0x10,
  /** Extended write selection: a bus-timing choice, without effect in a model. */
  EXTENDED_WRITE: 0x20,
  /** DREQ sense active low. The PC's devices drive DREQ active high; not modelled. */
  DREQ_ACTIVE_LOW: 0x40,
  /** DACK sense active high. Not modelled. */
  DACK_ACTIVE_HIGH: 0x80,
} as const;

/** Command bits this model cannot honour; a command with any of them is stored and counted. */
export const UNSUPPORTED_COMMAND: number = Command.MEMORY_TO_MEMORY | Command.ADDRESS_HOLD | Command.DREQ_ACTIVE_LOW | Command.DACK_ACTIVE_HIGH;

/** Mode register (write, register 11). */
export const Mode = {
  CHANNEL: 0x03,
  TRANSFER: 0x0c,
  /** Transfer types: verify (addresses and count run, no memory cycle), write (device → memory), read (memory → device). */
  VERIFY: 0x00,
  WRITE: 0x04,
  READ: 0x08,
  ILLEGAL: 0x0c,
  /** At terminal count the current registers reload from the base registers and the channel stays unmasked. */
  AUTO_INITIALIZE: 0x10,
  /** The address counts down. */
  DECREMENT: 0x20,
  MODE: 0xc0,
  DEMAND: 0x00,
  SINGLE: 0x40,
  BLOCK: 0x80,
  /** The channel passes another controller's requests through (channel 4 on the PC). */
  CASCADE: 0xc0,
} as const;

/** Request register and single mask register writes (registers 9 and 10). */
export const ChannelBit = {
  CHANNEL: 0x03,
  /** Set (1) or clear (0) the channel's bit. */
  SET: 0x04,
} as const;

/** Status register (read, register 8): bits 0–3 terminal count reached (cleared by the read), bits 4–7 request pending. */
export const Status = {
  TERMINAL_COUNT: 0x0f,
  REQUEST: 0xf0,
} as const;

/**
 * The page registers, as offsets in the `page` region, which the PC decodes at
 * 81h–8Fh. Which port holds which channel's page is the PC/AT's (and QEMU's)
 * assignment: 81h channel 2, 82h channel 3, 83h channel 1, 87h channel 0,
 * 89h channel 6, 8Ah channel 7, 8Bh channel 5, 8Fh channel 4. The other
 * ports of the block (84h–86h, 88h, 8Ch–8Eh) are spare page registers that
 * read back what was written. Port 80h, the first of the block on a PC
 * chipset, is left to the board: it is the POST-code port (QEMU's `ioport80`).
 */
export const PAGE_PORT_BASE = 0x81;
export const PAGE_PORTS = 15;
export const PAGE_CHANNEL: readonly (number | undefined)[] = [
  2, 3, 1, undefined, undefined, undefined, 0, undefined, 6, 7, 5, undefined, undefined, undefined, 4,
];
