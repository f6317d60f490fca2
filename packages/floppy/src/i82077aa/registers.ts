/**
 * Intel 82077AA CHMOS single-chip floppy disk controller — register and
 * status layout. Reference: Intel 82077AA data sheet (290166), "Register
 * Description" (SRA/SRB in PS/2 mode, DOR, TDR, MSR, DSR, FIFO, DIR, CCR),
 * "Status Register Encoding" (ST0–ST3) and "Command Set Descriptions".
 *
 * Regions (the PC decodes them at 3F0h and 3F7h; 3F6h between them belongs
 * to the IDE controller's alternate status, so the controller does not
 * claim it):
 *   registers  6 ports: SRA, SRB, DOR, TDR, MSR (read) / DSR (write), FIFO
 *   dir-ccr    1 port:  DIR (read) / CCR (write)
 */

/** Offsets in the `registers` region. */
export const Register = {
  /** Status register A (read; PS/2 mode). */
  SRA: 0,
  /** Status register B (read; PS/2 mode). */
  SRB: 1,
  /** Digital output register (read/write). */
  DOR: 2,
  /** Tape drive register (read/write). */
  TDR: 3,
  /** Main status register (read) / data-rate select register (write). */
  MSR_DSR: 4,
  /** Data FIFO: command bytes in, result bytes out, data in non-DMA mode. */
  FIFO: 5,
} as const;

/** Digital output register. */
export const Dor = {
  DRIVE_SELECT: 0x03,
  /** Low holds the controller in reset; the rising edge leaves it, with an interrupt. */
  NOT_RESET: 0x04,
  /** PC-AT mode: gates the INT and DRQ outputs (both inactive while 0). */
  DMA_GATE: 0x08,
  /** Motor enable of drive n is bit 4 + n. */
  MOTOR0: 0x10,
} as const;

/** Main status register. */
export const Msr = {
  /** Drive n busy seeking (bits 0–3). Seeks complete at once here, so never set. */
  DRIVE_BUSY: 0x0f,
  /** A command is in progress: from its first byte to its last result byte. */
  COMMAND_BUSY: 0x10,
  /** Execution phase in non-DMA mode: data moves through the FIFO. */
  NON_DMA: 0x20,
  /** Direction: 1 = the controller has a byte for the host. */
  DIO: 0x40,
  /** Request for master: the FIFO is ready for a byte in the direction of DIO. */
  RQM: 0x80,
} as const;

/** Data-rate select register (write, 3F4h). */
export const Dsr = {
  DATA_RATE: 0x03,
  PRECOMPENSATION: 0x1c,
  POWER_DOWN: 0x40,
  /** Self-clearing software reset. */
  SOFTWARE_RESET: 0x80,
} as const;

/** Data rates (DSR/CCR bits 0–1). */
export const DataRate = {
  KBPS_500: 0,
  KBPS_300: 1,
  KBPS_250: 2,
  MBPS_1: 3,
} as const;

/** Digital input register (read, 3F7h). Bits 0–6 are not driven by the 82077AA in PC-AT mode; they read 0 (as QEMU). */
export const Dir = {
  /** The selected drive's disk-change line: set when the medium was removed, cleared by a step pulse with a medium in. */
  DISK_CHANGE: 0x80,
} as const;

/** Status register A (PS/2 mode). Lines with an "N_" prefix are active low. */
export const Sra = {
  DIRECTION: 0x01,
  N_WRITE_PROTECT: 0x02,
  N_INDEX: 0x04,
  HEAD_SELECT: 0x08,
  N_TRACK0: 0x10,
  STEP: 0x20,
  N_SECOND_DRIVE: 0x40,
  INTERRUPT_PENDING: 0x80,
} as const;

/** Status register B (PS/2 mode). */
export const Srb = {
  MOTOR0: 0x01,
  MOTOR1: 0x02,
  WRITE_ENABLE: 0x04,
  READ_DATA_TOGGLE: 0x08,
  WRITE_DATA_TOGGLE: 0x10,
  DRIVE_SELECT0: 0x20,
  /** Bits 6–7 read 1. */
  RESERVED: 0xc0,
} as const;

/** Status register 0. */
export const St0 = {
  DRIVE: 0x03,
  HEAD: 0x04,
  EQUIPMENT_CHECK: 0x10,
  SEEK_END: 0x20,
  /** Interrupt code (bits 6–7): 00 normal, 01 abnormal termination, 10 invalid command, 11 ready changed (after reset). */
  NORMAL: 0x00,
  ABNORMAL: 0x40,
  INVALID: 0x80,
  READY_CHANGED: 0xc0,
} as const;

/** Status register 1. */
export const St1 = {
  MISSING_ADDRESS_MARK: 0x01,
  NOT_WRITABLE: 0x02,
  NO_DATA: 0x04,
  OVERRUN: 0x10,
  DATA_ERROR: 0x20,
  END_OF_CYLINDER: 0x80,
} as const;

/** Status register 2. */
export const St2 = {
  MISSING_DATA_MARK: 0x01,
  BAD_CYLINDER: 0x02,
  WRONG_CYLINDER: 0x10,
  DATA_ERROR_IN_DATA: 0x20,
  CONTROL_MARK: 0x40,
} as const;

/** Status register 3 (SENSE DRIVE STATUS). Bits 3 and 5 always read 1 on the 82077AA. */
export const St3 = {
  DRIVE: 0x03,
  HEAD: 0x04,
  ALWAYS_ONE: 0x28,
  TRACK0: 0x10,
  WRITE_PROTECTED: 0x40,
} as const;

/** Flags in the first byte of the data commands. */
export const CommandFlag = {
  MULTI_TRACK: 0x80,
  MFM: 0x40,
  SKIP: 0x20,
} as const;

/** CONFIGURE's third byte (and DUMPREG's ninth). */
export const Configure = {
  /** Implied seek: a data command seeks to its cylinder first. */
  IMPLIED_SEEK: 0x40,
  /** FIFO disabled (8272A-compatible single-byte buffer). */
  FIFO_DISABLE: 0x20,
  /** Drive polling disabled. */
  POLL_DISABLE: 0x10,
  FIFO_THRESHOLD: 0x0f,
} as const;

/** The configuration after a hardware reset: FIFO disabled, polling on, no implied seeks, threshold 1 byte. */
export const CONFIGURE_DEFAULT: number = Configure.FIFO_DISABLE;

/** PERPENDICULAR MODE's parameter (and DUMPREG's eighth byte, below LOCK): OW, drive bits D3–D0, GAP, WGATE. */
export const Perpendicular = {
  OVERWRITE: 0x80,
  DRIVES: 0x3c,
  GAP: 0x02,
  WGATE: 0x01,
} as const;

/** VERSION's answer for the 82077AA (and its enhanced successors). */
export const VERSION_82077AA = 0x90;

/** The only sector size the media hold: 512 bytes, size code N = 2. */
export const SECTOR_BYTES = 512;
export const SECTOR_SIZE_CODE = 2;
