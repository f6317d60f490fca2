/**
 * Sense data: what a PACKET device reports about its last command (SPC-3
 * 4.5, sense data; the sense keys of Table 27 and the additional sense codes
 * of Annex D; MMC-5 Annex F for those of multimedia devices). A command that
 * ends in CHECK CONDITION leaves its sense for REQUEST SENSE, which returns it
 * in the fixed format (SPC-3 4.5.3); the sense key also shows in the ATA Error
 * register's high nibble (ATA/ATAPI-6, PACKET command, error outputs).
 */

/** Sense keys (SPC-3 Table 27). */
export const SenseKey = {
  NO_SENSE: 0x0,
  NOT_READY: 0x2,
  MEDIUM_ERROR: 0x3,
  ILLEGAL_REQUEST: 0x5,
  UNIT_ATTENTION: 0x6,
  ABORTED_COMMAND: 0xb,
} as const;

/** An additional sense code and its qualifier. */
export type AdditionalSense = { readonly asc: number; readonly ascq: number };

/** The additional sense codes this drive reports (SPC-3 Annex D, MMC-5 Annex F), named as there. */
export const Asc = {
  NO_ADDITIONAL_SENSE_INFORMATION: { asc: 0x00, ascq: 0x00 },
  UNRECOVERED_READ_ERROR: { asc: 0x11, ascq: 0x00 },
  INVALID_COMMAND_OPERATION_CODE: { asc: 0x20, ascq: 0x00 },
  LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE: { asc: 0x21, ascq: 0x00 },
  INVALID_FIELD_IN_CDB: { asc: 0x24, ascq: 0x00 },
  /** A disc was inserted, or the tray closed on one. */
  NOT_READY_TO_READY_CHANGE_MEDIUM_MAY_HAVE_CHANGED: { asc: 0x28, ascq: 0x00 },
  POWER_ON_RESET_OR_BUS_DEVICE_RESET_OCCURRED: { asc: 0x29, ascq: 0x00 },
  CANNOT_READ_MEDIUM_INCOMPATIBLE_FORMAT: { asc: 0x30, ascq: 0x02 },
  SAVING_PARAMETERS_NOT_SUPPORTED: { asc: 0x39, ascq: 0x00 },
  MEDIUM_NOT_PRESENT: { asc: 0x3a, ascq: 0x00 },
  MEDIUM_NOT_PRESENT_TRAY_OPEN: { asc: 0x3a, ascq: 0x02 },
  MEDIUM_REMOVAL_PREVENTED: { asc: 0x53, ascq: 0x02 },
  ILLEGAL_MODE_FOR_THIS_TRACK: { asc: 0x64, ascq: 0x00 },
} as const;

/**
 * The sense of one command: key, additional sense, and the INFORMATION
 * field where the command defines one (the block a read failed at), else null.
 */
export type SenseData = {
  readonly key: number;
  readonly asc: number;
  readonly ascq: number;
  readonly information: number | null;
};

export const NO_SENSE: SenseData = { key: SenseKey.NO_SENSE, ...Asc.NO_ADDITIONAL_SENSE_INFORMATION, information: null };

export function sense(key: number, additional: AdditionalSense, information: number | null = null): SenseData {
  return { key, asc: additional.asc, ascq: additional.ascq, information };
}

/** Response code of fixed-format, current sense data. */
const CURRENT_FIXED = 0x70;
/** Bit 7 of byte 0: the INFORMATION field is defined by the command. */
const VALID = 0x80;
/** Bytes after the ADDITIONAL SENSE LENGTH field in the 18-byte form. */
const ADDITIONAL_SENSE_LENGTH = 10;
const FIXED_SENSE_BYTES = 18;

/**
 * Fixed-format sense data (SPC-3 Table 26): VALID only when INFORMATION
 * says something (QEMU sets it always, with INFORMATION zero).
 *
 *   byte 0     VALID (7) | response code 70h
 *   byte 2     sense key (3:0)
 *   bytes 3–6  INFORMATION
 *   byte 7     additional sense length (0Ah)
 *   bytes 12–13  ASC, ASCQ
 */
export function fixedSenseData(data: SenseData): Uint8Array {
  const bytes = new Uint8Array(FIXED_SENSE_BYTES);
  const view = new DataView(bytes.buffer);
  bytes[0] = CURRENT_FIXED | (data.information === null ? 0 : VALID);
  bytes[2] = data.key & 0x0f;
  view.setUint32(3, (data.information ?? 0) >>> 0);
  bytes[7] = ADDITIONAL_SENSE_LENGTH;
  bytes[12] = data.asc;
  bytes[13] = data.ascq;
  return bytes;
}
