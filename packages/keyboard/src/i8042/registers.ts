/**
 * Intel 8042 keyboard controller as the PC/AT and PS/2 use it — register
 * layout. References: IBM PC/AT Technical Reference (1984), "Keyboard
 * Controller" (status register, command byte, input and output ports,
 * controller commands); IBM PS/2 Hardware Interface Technical Reference,
 * "Keyboard/Auxiliary Device Controller" (the auxiliary-device additions:
 * command byte bits 1 and 5, status bit 5, commands A7h–A9h, D3h, D4h).
 *
 * Ports (regions; the PC decodes them at 60h and 64h):
 *   data    — read: the output buffer; write: the input buffer (a byte for the
 *             keyboard, or the parameter of a controller command)
 *   command — read: the status register; write: a controller command
 */

/** Status register (read at 64h). */
export const Status = {
  /** Output buffer full: a byte waits at 60h. */
  OBF: 0x01,
  /** Input buffer full: the controller has not yet taken the last byte written. Never set here (writes are taken at once). */
  IBF: 0x02,
  /** System flag: set by a passing self-test (AAh). */
  SYS: 0x04,
  /** Command/data: the last byte written went to 64h (1) or 60h (0). */
  CMD: 0x08,
  /** Keyboard not inhibited by the keylock switch (input port bit 7). */
  UNLOCKED: 0x10,
  /** The byte in the output buffer came from the auxiliary device (PS/2); "transmit timeout" on the AT. */
  AUX_OBF: 0x20,
  /** General timeout: a device did not answer. */
  TIMEOUT: 0x40,
  /** Parity error on the last byte received. Never set here (the link is perfect). */
  PARITY: 0x80,
} as const;

/** Controller command byte (controller RAM byte 0; read with 20h, written with 60h). */
export const CommandByte = {
  /** Raise irq 1 when the output buffer fills with a byte that is not from the auxiliary device. */
  KBD_INT: 0x01,
  /** Raise irq 12 when the output buffer fills with a byte from the auxiliary device. */
  AUX_INT: 0x02,
  /** The system flag the BIOS wants after a warm boot (copied to status bit 2 by the datasheet's controller; see I8042). */
  SYS: 0x04,
  /** Ignore the keylock switch. */
  INHIBIT_OVERRIDE: 0x08,
  /** Keyboard interface disabled (clock held low). */
  KBD_DISABLE: 0x10,
  /** Auxiliary interface disabled (clock held low). */
  AUX_DISABLE: 0x20,
  /** Translate keyboard bytes from scan code set 2 to set 1 (the "PC compatibility" mode). */
  XLATE: 0x40,
} as const;

/** Output port P2 (read with D0h, written with D1h). */
export const OutputPort = {
  /** Low resets the CPU. */
  SYSTEM_RESET: 0x01,
  /** Gate A20: high lets address line 20 through. */
  A20: 0x02,
  /** Follows "output buffer full with a keyboard byte" (the irq 1 request). */
  KBD_OBF: 0x10,
  /** Follows "output buffer full with an auxiliary byte" (the irq 12 request). */
  AUX_OBF: 0x20,
  /**
   * Bits 2–3 (auxiliary data/clock) and 6–7 (keyboard clock/data) read as
   * ones, the lines' idle level; as QEMU, which makes 0xdd/0xdf-style writes
   * round-trip.
   */
  IDLE_LINES: 0xcc,
} as const;

/** Controller commands (written to 64h). */
export const ControllerCommand = {
  /** 20h–3Fh: read controller RAM byte (20h: the command byte). */
  READ_RAM: 0x20,
  /** 60h–7Fh: write controller RAM byte (60h: the command byte); the byte follows at 60h. */
  WRITE_RAM: 0x60,
  DISABLE_AUX: 0xa7,
  ENABLE_AUX: 0xa8,
  /** Auxiliary interface test: 00h means the clock and data lines are fine. */
  TEST_AUX: 0xa9,
  /** Controller self-test: 55h on success. */
  SELF_TEST: 0xaa,
  /** Keyboard interface test: 00h means the clock and data lines are fine. */
  TEST_KBD: 0xab,
  DISABLE_KBD: 0xad,
  ENABLE_KBD: 0xae,
  READ_INPUT_PORT: 0xc0,
  READ_OUTPUT_PORT: 0xd0,
  WRITE_OUTPUT_PORT: 0xd1,
  /** Write the next data byte into the output buffer as if the keyboard had sent it. */
  WRITE_KBD_OUTPUT: 0xd2,
  /** Write the next data byte into the output buffer as if the auxiliary device had sent it (loopback). */
  WRITE_AUX_OUTPUT: 0xd3,
  /** Send the next data byte to the auxiliary device. */
  WRITE_AUX: 0xd4,
  /** Gate A20 off / on (the HP Vectra commands QEMU also decodes). */
  DISABLE_A20: 0xdd,
  ENABLE_A20: 0xdf,
  /** F0h–FFh: pulse the output port bits whose command bits 0–3 are 0 low for about 6 µs (bit 0: CPU reset). */
  PULSE_OUTPUT: 0xf0,
} as const;

/**
 * What C0h reads: bit 7 high (keyboard not inhibited), everything else 0 —
 * QEMU's answer; the other bits are board jumpers the datasheet leaves to
 * the board.
 */
export const INPUT_PORT = 0x80;

/** Answers of the self-test and interface tests. */
export const SELF_TEST_PASSED = 0x55;
export const INTERFACE_OK = 0x00;

/** The controller's RAM: 32 bytes addressable by 20h–3Fh / 60h–7Fh; byte 0 is the command byte. */
export const RAM_BYTES = 32;
