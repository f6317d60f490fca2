/**
 * QEMU's fw_cfg interface as its specification writes it (QEMU
 * docs/specs/fw_cfg.rst, "Guest-side Hardware Interface" and "Guest-side
 * DMA Interface"), and the selector keys of the items QEMU's x86 machines
 * carry (QEMU include/standard-headers/linux/qemu_fw_cfg.h, the key list
 * SeaBIOS src/fw/paravirt.c repeats).
 */

/** Selector keys. Bit 15 selects the architecture's items, bit 14 is the write channel (ignored since QEMU 2.4). */
export const FwCfgKey = {
  SIGNATURE: 0x0000,
  ID: 0x0001,
  UUID: 0x0002,
  RAM_SIZE: 0x0003,
  NOGRAPHIC: 0x0004,
  NB_CPUS: 0x0005,
  MACHINE_ID: 0x0006,
  NUMA: 0x000d,
  BOOT_MENU: 0x000e,
  MAX_CPUS: 0x000f,
  FILE_DIR: 0x0019,
  /** The first key of the items the file directory names. */
  FILE_FIRST: 0x0020,
  WRITE_CHANNEL: 0x4000,
  ARCH_LOCAL: 0x8000,
  /** x86 (ARCH_LOCAL + n). */
  ACPI_TABLES: 0x8000,
  SMBIOS_ENTRIES: 0x8001,
  IRQ0_OVERRIDE: 0x8002,
  E820_TABLE: 0x8003,
  HPET: 0x8004,
} as const;

/** An item is found by its key less the write-channel bit (QEMU's FW_CFG_ENTRY_MASK keeps bits 13–0, the arch bit picks the table). */
export const ITEM_KEY_MASK = 0xbfff;

/** FW_CFG_ID, a 32-bit little-endian feature bitmap: bit 0 the traditional interface (always), bit 1 the DMA interface. */
export const FwCfgFeature = { TRADITIONAL: 0x01, DMA: 0x02 } as const;

/** What the signature item holds: "QEMU". */
export const FW_CFG_SIGNATURE = 'QEMU';

/** What a read of the DMA address register returns while the DMA interface is there: "QEMU CFG", big-endian (51454D5520434647h). */
export const FW_CFG_DMA_SIGNATURE = 'QEMU CFG';

/** FWCfgDmaAccess.control bits. The upper 16 bits are the key a SELECT selects. */
export const DmaControl = { ERROR: 0x01, READ: 0x02, SKIP: 0x04, SELECT: 0x08, WRITE: 0x10 } as const;

/** The FWCfgDmaAccess structure in guest RAM: control (BE32), length (BE32), address (BE64). */
export const DMA_ACCESS_BYTES = 16;

/** One file directory entry: size (BE32), select (BE16), reserved (16 bits), name (56 bytes, NUL-terminated ASCII). */
export const FILE_ENTRY_BYTES = 64;
/** The longest name a directory entry holds (its 56 bytes less the NUL). */
export const FILE_NAME_MAX = 55;

/** Files QEMU's machines make room for by default (its FW_CFG_FILE_SLOTS_DFLT, the `x-file-slots` property). */
export const FILE_SLOTS = 0x20;
