/**
 * The 82077AA command set: how the first command byte is decoded and how many
 * parameter bytes follow. Reference: Intel 82077AA data sheet, "Command Set"
 * (Table 5-1). Bits written as MT, MFM, SK in the table are flags (see
 * CommandFlag); a byte no command matches is an invalid command.
 */

export type CommandName =
  | 'read-data' | 'read-deleted-data' | 'write-data' | 'write-deleted-data' | 'read-track' | 'verify'
  | 'format-track' | 'read-id' | 'recalibrate' | 'seek' | 'relative-seek' | 'sense-interrupt-status'
  | 'sense-drive-status' | 'specify' | 'configure' | 'version' | 'dumpreg' | 'lock' | 'perpendicular-mode'
  | 'invalid';

export interface CommandSpec {
  readonly name: CommandName;
  /** Parameter bytes after the command byte. */
  readonly parameters: number;
}

interface Entry extends CommandSpec {
  /** The bits that identify the command, and their value. */
  readonly mask: number;
  readonly value: number;
}

/** Opcodes as drivers write them (flags clear). */
export const Opcode = {
  READ_TRACK: 0x02,
  SPECIFY: 0x03,
  SENSE_DRIVE_STATUS: 0x04,
  WRITE_DATA: 0x05,
  READ_DATA: 0x06,
  RECALIBRATE: 0x07,
  SENSE_INTERRUPT_STATUS: 0x08,
  WRITE_DELETED_DATA: 0x09,
  READ_ID: 0x0a,
  READ_DELETED_DATA: 0x0c,
  FORMAT_TRACK: 0x0d,
  DUMPREG: 0x0e,
  SEEK: 0x0f,
  VERSION: 0x10,
  PERPENDICULAR_MODE: 0x12,
  CONFIGURE: 0x13,
  /** Bit 7 is the LOCK bit: 14h unlocks, 94h locks. */
  LOCK: 0x14,
  VERIFY: 0x16,
  /** Bit 6 is the direction: 8Fh steps out, CFh steps in. */
  RELATIVE_SEEK: 0x8f,
} as const;

const TABLE: readonly Entry[] = [
  { name: 'read-data', mask: 0x1f, value: Opcode.READ_DATA, parameters: 8 },
  { name: 'read-deleted-data', mask: 0x1f, value: Opcode.READ_DELETED_DATA, parameters: 8 },
  // SK must be 0 for the write commands; QEMU also accepts it set (a BeOS quirk), and so does this decoder.
  { name: 'write-data', mask: 0x1f, value: Opcode.WRITE_DATA, parameters: 8 },
  { name: 'write-deleted-data', mask: 0x1f, value: Opcode.WRITE_DELETED_DATA, parameters: 8 },
  { name: 'read-track', mask: 0x9f, value: Opcode.READ_TRACK, parameters: 8 },
  { name: 'verify', mask: 0x1f, value: Opcode.VERIFY, parameters: 8 },
  { name: 'format-track', mask: 0xbf, value: Opcode.FORMAT_TRACK, parameters: 5 },
  { name: 'read-id', mask: 0xbf, value: Opcode.READ_ID, parameters: 1 },
  { name: 'recalibrate', mask: 0xff, value: Opcode.RECALIBRATE, parameters: 1 },
  { name: 'seek', mask: 0xff, value: Opcode.SEEK, parameters: 2 },
  { name: 'relative-seek', mask: 0xbf, value: Opcode.RELATIVE_SEEK, parameters: 2 },
  { name: 'sense-interrupt-status', mask: 0xff, value: Opcode.SENSE_INTERRUPT_STATUS, parameters: 0 },
  { name: 'sense-drive-status', mask: 0xff, value: Opcode.SENSE_DRIVE_STATUS, parameters: 1 },
  { name: 'specify', mask: 0xff, value: Opcode.SPECIFY, parameters: 2 },
  { name: 'configure', mask: 0xff, value: Opcode.CONFIGURE, parameters: 3 },
  { name: 'version', mask: 0xff, value: Opcode.VERSION, parameters: 0 },
  { name: 'dumpreg', mask: 0xff, value: Opcode.DUMPREG, parameters: 0 },
  { name: 'lock', mask: 0x7f, value: Opcode.LOCK, parameters: 0 },
  { name: 'perpendicular-mode', mask: 0xff, value: Opcode.PERPENDICULAR_MODE, parameters: 1 },
];

const INVALID: CommandSpec = { name: 'invalid', parameters: 0 };

/** The command a first byte starts. */
export function decodeCommand(byte: number): CommandSpec {
  return TABLE.find((e) => (byte & e.mask) === e.value) ?? INVALID;
}
