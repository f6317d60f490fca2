/**
 * ATA register layout and command codes. ATA/ATAPI-6 (T13 1410D rev 3b):
 * the register descriptions (Command Block and Control Block), the command
 * descriptions, and the 48-bit Address feature set; bus-master
 * registers from SFF-8038i ("Programming Interface for Bus Master IDE
 * Controller") as the Intel PIIX/PIIX3/PIIX4 implement them (BMIBA + 0/2/4).
 */

/** Command Block offsets (1F0h–1F7h on the primary channel). Reads and writes of one offset are different registers. */
export const TaskFileOffset = {
  DATA: 0,
  /** Read: Error. Write: Features. */
  ERROR_FEATURES: 1,
  SECTOR_COUNT: 2,
  /** LBA 7:0 (CHS: sector number). */
  LBA_LOW: 3,
  /** LBA 15:8 (CHS: cylinder low). */
  LBA_MID: 4,
  /** LBA 23:16 (CHS: cylinder high). */
  LBA_HIGH: 5,
  /** Device/Head: bit 6 LBA, bit 4 DEV, bits 3:0 LBA 27:24 or head. */
  DEVICE: 6,
  /** Read: Status (acknowledges the interrupt). Write: Command. */
  STATUS_COMMAND: 7,
} as const;

/**
 * Status (and Alternate Status) register:
 *
 *   bit 7  BSY   the device owns the Command Block
 *   bit 6  DRDY  the device accepts commands
 *   bit 5  DF    device fault
 *   bit 4  DSC   (command dependent; formerly "device seek complete"), set by a ready disk
 *   bit 3  DRQ   the device is ready to transfer a word of data
 *   bit 2  CORR  obsolete
 *   bit 1  IDX   obsolete
 *   bit 0  ERR   the previous command ended in error; see Error
 */
export const Status = {
  BSY: 0x80,
  DRDY: 0x40,
  DF: 0x20,
  DSC: 0x10,
  DRQ: 0x08,
  CORR: 0x04,
  IDX: 0x02,
  ERR: 0x01,
} as const;

/**
 * Error register (valid when Status.ERR is set; after a reset or
 * EXECUTE DEVICE DIAGNOSTIC it holds the diagnostic code instead):
 *
 *   bit 7  ICRC  interface CRC error
 *   bit 6  UNC   uncorrectable data
 *   bit 5  MC    media changed
 *   bit 4  IDNF  ID not found: the address is not a user-accessible sector
 *   bit 3  MCR   media change requested
 *   bit 2  ABRT  command aborted: not supported, or cannot be done
 *   bit 1  NM    no media
 *   bit 0  AMNF  obsolete (address mark not found)
 */
export const AtaError = {
  ICRC: 0x80,
  UNC: 0x40,
  MC: 0x20,
  IDNF: 0x10,
  MCR: 0x08,
  ABRT: 0x04,
  NM: 0x02,
  AMNF: 0x01,
} as const;

/** EXECUTE DEVICE DIAGNOSTIC code in the Error register (EXECUTE DEVICE DIAGNOSTIC codes): device 0 passed, device 1 passed or absent. */
export const DIAGNOSTIC_PASSED = 0x01;

/**
 * Device Control register (3F6h write):
 *
 *   bit 7  HOB   reads of the Command Block return the previous (high-order) byte of 48-bit registers
 *   bit 2  SRST  software reset of both devices, held while set
 *   bit 1  nIEN  INTRQ released (interrupts disabled) while set
 *
 * Bit 3 was "always one" in ATA-1 (SeaBIOS and Linux still set it); it is stored and ignored.
 */
export const DeviceControl = {
  HOB: 0x80,
  SRST: 0x04,
  NIEN: 0x02,
} as const;

/**
 * Device register (1F6h):
 *
 *   bit 7  obsolete (1)     bit 6  LBA: 1 = LBA addressing, 0 = CHS
 *   bit 5  obsolete (1)     bit 4  DEV: device 1 selected
 *   bits 3:0  LBA 27:24 (28-bit LBA) or head number (CHS)
 */
export const DeviceHead = {
  OBSOLETE: 0xa0,
  LBA: 0x40,
  DEV: 0x10,
  HEAD: 0x0f,
} as const;

/** Command codes (ATA/ATAPI-6 Table B.2; the EXT forms from the 48-bit Address feature set; the FUA forms from ATA/ATAPI-7). */
export const Command = {
  NOP: 0x00,
  DATA_SET_MANAGEMENT: 0x06,
  DEVICE_RESET: 0x08,
  /** 10h–1Fh: RECALIBRATE (obsolete). */
  RECALIBRATE: 0x10,
  READ_SECTORS: 0x20,
  READ_SECTORS_NO_RETRY: 0x21,
  READ_SECTORS_EXT: 0x24,
  READ_DMA_EXT: 0x25,
  READ_NATIVE_MAX_ADDRESS_EXT: 0x27,
  READ_MULTIPLE_EXT: 0x29,
  WRITE_SECTORS: 0x30,
  WRITE_SECTORS_NO_RETRY: 0x31,
  WRITE_SECTORS_EXT: 0x34,
  WRITE_DMA_EXT: 0x35,
  WRITE_MULTIPLE_EXT: 0x39,
  /** ATA/ATAPI-7: WRITE DMA EXT whose data is on the medium before the command completes (Forced Unit Access). */
  WRITE_DMA_FUA_EXT: 0x3d,
  READ_VERIFY_SECTORS: 0x40,
  READ_VERIFY_SECTORS_NO_RETRY: 0x41,
  READ_VERIFY_SECTORS_EXT: 0x42,
  /** 70h–7Fh: SEEK. */
  SEEK: 0x70,
  EXECUTE_DEVICE_DIAGNOSTIC: 0x90,
  INITIALIZE_DEVICE_PARAMETERS: 0x91,
  /** 94h–99h: the pre-ATA-4 codes of E0h–E5h. */
  STANDBY_IMMEDIATE_OLD: 0x94,
  IDLE_IMMEDIATE_OLD: 0x95,
  STANDBY_OLD: 0x96,
  IDLE_OLD: 0x97,
  CHECK_POWER_MODE_OLD: 0x98,
  SLEEP_OLD: 0x99,
  PACKET: 0xa0,
  IDENTIFY_PACKET_DEVICE: 0xa1,
  SMART: 0xb0,
  READ_MULTIPLE: 0xc4,
  WRITE_MULTIPLE: 0xc5,
  SET_MULTIPLE_MODE: 0xc6,
  READ_DMA: 0xc8,
  READ_DMA_NO_RETRY: 0xc9,
  WRITE_DMA: 0xca,
  WRITE_DMA_NO_RETRY: 0xcb,
  /** ATA/ATAPI-7: WRITE MULTIPLE EXT with Forced Unit Access. */
  WRITE_MULTIPLE_FUA_EXT: 0xce,
  STANDBY_IMMEDIATE: 0xe0,
  IDLE_IMMEDIATE: 0xe1,
  STANDBY: 0xe2,
  IDLE: 0xe3,
  CHECK_POWER_MODE: 0xe5,
  SLEEP: 0xe6,
  FLUSH_CACHE: 0xe7,
  IDENTIFY_DEVICE: 0xec,
  FLUSH_CACHE_EXT: 0xea,
  SET_FEATURES: 0xef,
  READ_NATIVE_MAX_ADDRESS: 0xf8,
} as const;

/** SET FEATURES subcommands (Features register). */
export const Feature = {
  ENABLE_WRITE_CACHE: 0x02,
  SET_TRANSFER_MODE: 0x03,
  DISABLE_READ_LOOK_AHEAD: 0x55,
  DISABLE_REVERTING_TO_DEFAULTS: 0x66,
  DISABLE_WRITE_CACHE: 0x82,
  ENABLE_READ_LOOK_AHEAD: 0xaa,
  ENABLE_REVERTING_TO_DEFAULTS: 0xcc,
} as const;

/** SMART subcommands (Features register) and the key in LBA Mid/High. */
export const Smart = {
  READ_DATA: 0xd0,
  ENABLE_DISABLE_AUTOSAVE: 0xd2,
  ENABLE_OPERATIONS: 0xd8,
  DISABLE_OPERATIONS: 0xd9,
  RETURN_STATUS: 0xda,
  KEY_LBA_MID: 0x4f,
  KEY_LBA_HIGH: 0xc2,
  /** RETURN STATUS answer when a threshold is exceeded (never, here). */
  EXCEEDED_LBA_MID: 0xf4,
  EXCEEDED_LBA_HIGH: 0x2c,
} as const;

/** DATA SET MANAGEMENT: Features bit 0 asks for TRIM (ACS-2). */
export const DSM_TRIM = 0x01;

/** CHECK POWER MODE answers in the Sector Count register. */
export const PowerModeCode = {
  STANDBY: 0x00,
  IDLE: 0x80,
  ACTIVE_OR_IDLE: 0xff,
} as const;

/** The most sectors per DRQ block for READ/WRITE MULTIPLE (IDENTIFY word 47), as QEMU offers. */
export const MAX_MULTIPLE_SECTORS = 16;

/** The largest LBA a 28-bit command can address, plus one: IDENTIFY words 60–61 saturate here. */
export const LBA28_LIMIT = 0x0fff_ffff;

/** Bus-master IDE register offsets within a channel's 8-byte block (SFF-8038i; PIIX BMIBA + 0h/8h). */
export const BusMasterOffset = {
  COMMAND: 0,
  STATUS: 2,
  PRD_TABLE: 4,
} as const;

/** Bus-master command register: bit 0 start/stop, bit 3 direction (1 = device to memory, a READ DMA). */
export const BusMasterCommand = {
  START: 0x01,
  WRITE_TO_MEMORY: 0x08,
} as const;

/**
 * Bus-master status register:
 *
 *   bit 7  simplex only (read-only; 0: both channels may DMA at once)
 *   bits 6:5  drive 1 / drive 0 DMA capable (read/write scratch bits for the BIOS)
 *   bit 2  interrupt: the channel's INTRQ rose (write 1 to clear)
 *   bit 1  error: a PRD or data transfer hit no memory (write 1 to clear)
 *   bit 0  active (read-only): the PRD table is not exhausted
 */
export const BusMasterStatus = {
  SIMPLEX: 0x80,
  DRIVE1_DMA_CAPABLE: 0x40,
  DRIVE0_DMA_CAPABLE: 0x20,
  INTERRUPT: 0x04,
  ERROR: 0x02,
  ACTIVE: 0x01,
} as const;

/** A PRD entry: base address (dword 0), byte count in bits 15:0 of dword 1 (0 = 64 KiB), end of table at bit 31. */
export const PRD_ENTRY_BYTES = 8;
export const PRD_END_OF_TABLE = 0x8000_0000;
/** Entries read from one table at most (a 4 KiB page of them), so a table without an end cannot run on forever. */
export const PRD_TABLE_LIMIT_BYTES = 4096;
