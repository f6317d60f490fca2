/**
 * PS/2 mouse commands, replies and packet layout. IBM PS/2 Hardware Interface
 * Technical Reference, "Pointing Device" (commands E6h–FFh, the status
 * bytes, the 3-byte data report); Microsoft IntelliMouse extensions (the
 * 200/100/80 and 200/200/80 sample-rate sequences that switch the device ID
 * to 3 and 4, and their fourth packet byte).
 */

export const MouseCommand = {
  SET_SCALING_1_1: 0xe6,
  SET_SCALING_2_1: 0xe7,
  /** Resolution 0–3 (1, 2, 4, 8 counts/mm); the option byte follows. */
  SET_RESOLUTION: 0xe8,
  /** ACK and three status bytes. */
  STATUS_REQUEST: 0xe9,
  SET_STREAM_MODE: 0xea,
  /** Remote mode: ACK and one data report. */
  READ_DATA: 0xeb,
  RESET_WRAP_MODE: 0xec,
  /** Echo every byte until ECh or FFh. */
  SET_WRAP_MODE: 0xee,
  SET_REMOTE_MODE: 0xf0,
  /** ACK and the device ID (0; 3 or 4 after the IntelliMouse sequences). */
  GET_DEVICE_ID: 0xf2,
  /** Reports per second; the option byte follows. */
  SET_SAMPLE_RATE: 0xf3,
  ENABLE_DATA_REPORTING: 0xf4,
  DISABLE_DATA_REPORTING: 0xf5,
  SET_DEFAULTS: 0xf6,
  RESEND: 0xfe,
  /** ACK, then the self-test's AAh and the device ID 00h. */
  RESET: 0xff,
} as const;

export const MouseReply = {
  BAT_OK: 0xaa,
  ACK: 0xfa,
  RESEND: 0xfe,
} as const;

/** First status byte (E9h). */
export const MouseStatus = {
  RIGHT: 0x01,
  MIDDLE: 0x02,
  LEFT: 0x04,
  SCALING_2_1: 0x10,
  ENABLED: 0x20,
  REMOTE: 0x40,
} as const;

/** First byte of a data report. */
export const Packet = {
  LEFT: 0x01,
  RIGHT: 0x02,
  MIDDLE: 0x04,
  ALWAYS_ONE: 0x08,
  X_SIGN: 0x10,
  Y_SIGN: 0x20,
  X_OVERFLOW: 0x40,
  Y_OVERFLOW: 0x80,
} as const;

/** Host button bits, as the data report's byte 0 (bits 3–4: the IntelliMouse Explorer's 4th and 5th buttons). */
export const MouseButton = {
  LEFT: 0x01,
  RIGHT: 0x02,
  MIDDLE: 0x04,
  FOURTH: 0x08,
  FIFTH: 0x10,
} as const;

/** The valid sample rates (reports per second). */
export const SAMPLE_RATES: readonly number[] = [10, 20, 40, 60, 80, 100, 200];
export const DEFAULT_SAMPLE_RATE = 100;
/** 4 counts/mm. */
export const DEFAULT_RESOLUTION = 2;

export const DeviceId = {
  STANDARD: 0x00,
  INTELLIMOUSE: 0x03,
  INTELLIMOUSE_EXPLORER: 0x04,
} as const;

/** The mouse's output buffer (replies and reports, in order). */
export const MOUSE_BUFFER_BYTES = 16;
/** Room kept free of reports so that the longest reply (E9h's four bytes) always fits. */
export const REPLY_HEADROOM = 4;
/** A report's movement range: 9-bit two's complement. */
export const MOVEMENT_MAX = 255;
export const MOVEMENT_MIN = -256;
/** Movement the host may have pending before more is dropped (counted), per axis. */
export const PENDING_MOTION_LIMIT: number = 1 << 15;
