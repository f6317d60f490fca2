/**
 * PS/2 keyboard commands and replies. IBM PS/2 Hardware Interface Technical
 * Reference, "Keyboard", "Commands from the System" and "Commands to the
 * System".
 */

export const KeyboardCommand = {
  /** Set the Num/Caps/Scroll Lock LEDs; the option byte follows (bit 0 Scroll, 1 Num, 2 Caps). */
  SET_LEDS: 0xed,
  /** Answered with EEh (no ACK). */
  ECHO: 0xee,
  /** Select (01h–03h) or read (00h) the scan code set; the option byte follows. */
  SCANCODE_SET: 0xf0,
  /** Answered with ACK and the two ID bytes ABh 83h (an MF2 keyboard). */
  IDENTIFY: 0xf2,
  /** Typematic rate and delay; the option byte follows. */
  SET_TYPEMATIC: 0xf3,
  ENABLE_SCANNING: 0xf4,
  /** Restore defaults and stop scanning. */
  DEFAULT_DISABLE: 0xf5,
  /** Restore defaults and scan. */
  SET_DEFAULT: 0xf6,
  /** Set 3 only: all keys typematic / make-break / make / typematic-make-break. */
  ALL_TYPEMATIC: 0xf7,
  ALL_MAKE_BREAK: 0xf8,
  ALL_MAKE: 0xf9,
  ALL_TYPEMATIC_MAKE_BREAK: 0xfa,
  /** Set 3 only: make one key typematic / make-break / make; the key's code follows. */
  KEY_TYPEMATIC: 0xfb,
  KEY_MAKE_BREAK: 0xfc,
  KEY_MAKE: 0xfd,
  /** Send the last byte again. */
  RESEND: 0xfe,
  /** Reset: ACK, then the basic assurance test's AAh. */
  RESET: 0xff,
} as const;

export const KeyboardReply = {
  /** Key detection error or overrun in sets 2 and 3 (FFh in set 1). */
  OVERRUN: 0x00,
  /** Basic assurance test passed. */
  BAT_OK: 0xaa,
  ECHO: 0xee,
  ACK: 0xfa,
  RESEND: 0xfe,
} as const;

/** The MF2 keyboard's ID, as F2h answers it (untranslated). */
export const KEYBOARD_ID: readonly number[] = [0xab, 0x83];

/** Power-on typematic byte: 10.9 characters/s after 500 ms. */
export const DEFAULT_TYPEMATIC = 0x2b;

/** The keyboard's own buffer: 16 bytes, as the PS/2 protocol requires of it. */
export const KEYBOARD_BUFFER_BYTES = 16;
