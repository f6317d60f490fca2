/**
 * The type 00h configuration header every function here carries: PCI Local
 * Bus Specification 3.0, §6.1 (figure 6-1, the predefined header) and §6.2
 * (the registers' bits).
 *
 *   00h vendor ID        02h device ID
 *   04h command          06h status
 *   08h revision ID      09h class code (09h programming interface,
 *                            0Ah sub-class, 0Bh base class)
 *   0Ch cache line size  0Dh latency timer  0Eh header type  0Fh BIST
 *   10h–24h base address registers 0–5
 *   2Ch subsystem vendor ID  2Eh subsystem ID
 *   30h expansion ROM base address
 *   3Ch interrupt line   3Dh interrupt pin   3Eh Min_Gnt   3Fh Max_Lat
 *
 * 40h–FFh are device specific.
 */

/** Offsets in the type 00h header (PCI 3.0 §6.1). */
export const PciHeader = {
  VENDOR_ID: 0x00,
  DEVICE_ID: 0x02,
  COMMAND: 0x04,
  STATUS: 0x06,
  REVISION_ID: 0x08,
  /** Class code, three bytes: programming interface (09h), sub-class (0Ah), base class (0Bh). */
  CLASS_CODE: 0x09,
  CACHE_LINE_SIZE: 0x0c,
  LATENCY_TIMER: 0x0d,
  HEADER_TYPE: 0x0e,
  /** Base address register 0; register n is at 10h + 4n. */
  BAR0: 0x10,
  SUBSYSTEM_VENDOR_ID: 0x2c,
  SUBSYSTEM_ID: 0x2e,
  EXPANSION_ROM: 0x30,
  INTERRUPT_LINE: 0x3c,
  INTERRUPT_PIN: 0x3d,
} as const;

/** Bytes of the predefined header; the device-specific registers follow. */
export const HEADER_BYTES = 0x40;

/** Bytes of a conventional PCI function's configuration space. */
export const CONFIG_SPACE_BYTES = 0x100;

/** Command register bits (PCI 3.0 §6.2.2). */
export const PciCommand = {
  /** The function answers its I/O space BARs. */
  IO_SPACE: 0x0001,
  /** The function answers its memory space BARs and its expansion ROM. */
  MEMORY_SPACE: 0x0002,
  BUS_MASTER: 0x0004,
  SERR_ENABLE: 0x0100,
  INTX_DISABLE: 0x0400,
} as const;

/** Status register bits (PCI 3.0 §6.2.3). */
export const PciStatus = {
  FAST_BACK_TO_BACK: 0x0080,
  MASTER_DATA_PARITY_ERROR: 0x0100,
  /** DEVSEL timing, bits 10:9: 01b is medium. */
  DEVSEL_MEDIUM: 0x0200,
  SIGNALED_TARGET_ABORT: 0x0800,
  RECEIVED_TARGET_ABORT: 0x1000,
  RECEIVED_MASTER_ABORT: 0x2000,
  SIGNALED_SYSTEM_ERROR: 0x4000,
  DETECTED_PARITY_ERROR: 0x8000,
} as const;

/** The status bits software clears by writing 1 (PCI 3.0 §6.2.3: "reads … writes can only reset bits"). */
export const STATUS_WRITE_ONE_TO_CLEAR = 0xf900;

/** Header type register (0Eh): bit 7 says the device has more than one function. */
export const HeaderType = { MULTI_FUNCTION: 0x80 } as const;

/** Base address register bits (PCI 3.0 §6.2.5.1, §6.2.5.2). */
export const BaseAddress = {
  /** Bit 0 of a BAR: 1 for I/O space, 0 for memory space. */
  IO_SPACE: 0x1,
  /** Bit 3 of a memory BAR: the range is prefetchable. */
  PREFETCHABLE: 0x8,
  /** Bit 0 of the expansion ROM base address: the ROM decode enable. */
  ROM_ENABLE: 0x1,
} as const;

/**
 * The subsystem IDs QEMU gives a function that names none: 1AF4h (Red Hat,
 * Inc., formerly Qumranet) and 1100h (QEMU). Read back from every function
 * of the pc machine in the shared seabios-post trace (2Ch → 1AF4h, 2Eh → 1100h).
 */
export const QemuSubsystem = { VENDOR_ID: 0x1af4, ID: 0x1100 } as const;

/** Intel's PCI vendor ID. */
export const INTEL_VENDOR_ID = 0x8086;
