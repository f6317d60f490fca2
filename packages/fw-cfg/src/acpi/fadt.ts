/**
 * The Fixed ACPI Description Table, signature "FACP" (ACPI 6.4, §5.2.9,
 * Table 5.9), in its revision-3 form: the ACPI 2.0 structure, 244 bytes,
 * with the 64-bit (X_) copies of its addresses and a reset register. It
 * says where the fixed hardware is — the PM1 event and control blocks, the
 * PM timer, the SCI and the SMI command port — and points to the FACS and
 * the DSDT.
 *
 *   offset  size  field
 *   36      4     FIRMWARE_CTRL: the FACS (32-bit)
 *   40      4     DSDT (32-bit)
 *   44      1     reserved (ACPI 1.0's INT_MODEL): 0
 *   45      1     Preferred_PM_Profile: 0, unspecified
 *   46      2     SCI_INT: the SCI's ISA IRQ
 *   48      4     SMI_CMD: the port the OS writes ACPI_ENABLE/ACPI_DISABLE to
 *   52      1     ACPI_ENABLE
 *   53      1     ACPI_DISABLE
 *   54      1     S4BIOS_REQ: 0
 *   55      1     PSTATE_CNT: 0
 *   56      4     PM1a_EVT_BLK (port)
 *   60      4     PM1b_EVT_BLK: 0, none
 *   64      4     PM1a_CNT_BLK (port)
 *   68      4     PM1b_CNT_BLK: 0
 *   72      4     PM2_CNT_BLK: 0, none
 *   76      4     PM_TMR_BLK (port)
 *   80      4     GPE0_BLK: 0, none modelled
 *   84      4     GPE1_BLK: 0
 *   88      1     PM1_EVT_LEN: 4
 *   89      1     PM1_CNT_LEN: 2
 *   90      1     PM2_CNT_LEN: 0
 *   91      1     PM_TMR_LEN: 4
 *   92–95         GPE0_BLK_LEN, GPE1_BLK_LEN, GPE1_BASE, CST_CNT: 0
 *   96      2     P_LVL2_LAT: 101, over 100 µs: no C2
 *   98      2     P_LVL3_LAT: 1001, over 1000 µs: no C3
 *   100     4     FLUSH_SIZE, FLUSH_STRIDE: 0 (WBINVD flushes)
 *   104     2     DUTY_OFFSET, DUTY_WIDTH: 0
 *   106     1     DAY_ALRM: 0, no day alarm
 *   107     1     MON_ALRM: 0
 *   108     1     CENTURY: the RTC's CMOS index of the century, or 0
 *   109     2     IAPC_BOOT_ARCH (Table 5.11): bit 0 LEGACY_DEVICES (ISA
 *                 devices the OS cannot enumerate), bit 1 8042
 *   111     1     reserved
 *   112     4     Flags (Table 5.10)
 *   116     12    RESET_REG (a Generic Address Structure)
 *   128     1     RESET_VALUE
 *   129     3     reserved
 *   132     8     X_FIRMWARE_CTRL: 0 (FIRMWARE_CTRL says it)
 *   140     8     X_DSDT
 *   148     12×8  X_PM1a_EVT_BLK, X_PM1b_EVT_BLK, X_PM1a_CNT_BLK,
 *                 X_PM1b_CNT_BLK, X_PM2_CNT_BLK, X_PM_TMR_BLK, X_GPE0_BLK,
 *                 X_GPE1_BLK (Generic Address Structures; zeros for none)
 *
 * A Generic Address Structure (§5.2.3.2, Table 5.1): address space (0
 * memory, 1 system I/O), register bit width, bit offset, access size (0:
 * undefined, reserved in ACPI 2.0), 64-bit address.
 */
import type { AcpiOem } from './sdt.ts';
import { putLe, sdt } from './sdt.ts';

export const FADT_REVISION = 3;
export const FADT_BYTES = 244;

/** Offsets in the FADT of the fields the table loader patches, and of the rest this file writes. */
export const FadtField = {
  FIRMWARE_CTRL: 36,
  DSDT: 40,
  SCI_INT: 46,
  SMI_CMD: 48,
  ACPI_ENABLE: 52,
  ACPI_DISABLE: 53,
  PM1A_EVT_BLK: 56,
  PM1A_CNT_BLK: 64,
  PM_TMR_BLK: 76,
  PM1_EVT_LEN: 88,
  PM1_CNT_LEN: 89,
  PM_TMR_LEN: 91,
  P_LVL2_LAT: 96,
  P_LVL3_LAT: 98,
  CENTURY: 108,
  IAPC_BOOT_ARCH: 109,
  FLAGS: 112,
  RESET_REG: 116,
  RESET_VALUE: 128,
  X_DSDT: 140,
  X_PM1A_EVT_BLK: 148,
  X_PM1A_CNT_BLK: 172,
  X_PM_TMR_BLK: 208,
} as const;

/** FADT Flags (Table 5.10), those used here: bits 0, 2, 4, 5, 8 and 10. */
export const FadtFlag = {
  /** WBINVD works: required of every ACPI PC. */
  WBINVD: 0x0001,
  /** C1 (HLT) on every processor. */
  PROC_C1: 0x0004,
  /** Set: no fixed-feature power button (clear: PM1's PWRBTN_STS/EN). */
  PWR_BUTTON: 0x0010,
  /** Set: no fixed-feature sleep button. */
  SLP_BUTTON: 0x0020,
  /** The PM timer counts 32 bits (clear: 24). */
  TMR_VAL_EXT: 0x0100,
  /** RESET_REG resets the system. */
  RESET_REG_SUP: 0x0400,
} as const;

/** IAPC_BOOT_ARCH (Table 5.11): bits 0 and 1. */
export const BootArch = { LEGACY_DEVICES: 0x0001, I8042: 0x0002 } as const;

/** Generic Address Structure address spaces. */
export const AddressSpace = { MEMORY: 0, IO: 1 } as const;

/** PM1 block lengths (§4.8.3.1, §4.8.3.2, §4.8.3.3): the event block's status and enable, the control register, the timer. */
const PM1_EVT_LEN = 4;
const PM1_CNT_LEN = 2;
const PM_TMR_LEN = 4;

/** No C2/C3: latencies over the limits §5.2.9 gives (100 µs, 1000 µs). */
const NO_C2 = 101;
const NO_C3 = 1001;

export interface FadtConfig {
  /** The FACS's address (or, before the table loader patches it, its offset in the tables). */
  readonly facs: number;
  /** The DSDT's, likewise. */
  readonly dsdt: number;
  /** The SCI's ISA IRQ. */
  readonly sciIrq: number;
  /** The SMI command port and what to write there to enter and leave ACPI mode; null: ACPI mode always (SMI_CMD 0). */
  readonly smiCommand: { readonly port: number; readonly acpiEnable: number; readonly acpiDisable: number } | null;
  /** The PM1a event block's port (PM1_STS, PM1_EN). */
  readonly pm1aEvent: number;
  /** The PM1a control block's port (PM1_CNT). */
  readonly pm1aControl: number;
  /** The PM timer's port. */
  readonly pmTimer: number;
  /** The PM timer counts 32 bits rather than 24 (TMR_VAL_EXT). */
  readonly pmTimer32: boolean;
  /** The CMOS index of the RTC's century byte, 0 for none. */
  readonly rtcCentury: number;
  /** ISA devices the OS cannot enumerate (IAPC_BOOT_ARCH LEGACY_DEVICES). */
  readonly legacyDevices: boolean;
  /** An 8042 keyboard controller (IAPC_BOOT_ARCH 8042). */
  readonly i8042: boolean;
  /** A fixed-feature power button in the PM1 event block (else PWR_BUTTON is set). */
  readonly powerButton: boolean;
  /** An I/O port whose byte write `value` resets the machine (RESET_REG_SUP), or null. */
  readonly resetRegister: { readonly port: number; readonly value: number } | null;
}

/** A Generic Address Structure for `bytes` bytes of system I/O at `port`. */
function ioGas(table: Uint8Array, at: number, port: number, bytes: number): void {
  table[at] = AddressSpace.IO;
  table[at + 1] = 8 * bytes;
  table[at + 2] = 0;
  table[at + 3] = 0;
  putLe(table, at + 4, 8, port);
}

export function fadt(config: FadtConfig, oem: AcpiOem): Uint8Array {
  const table = new Uint8Array(FADT_BYTES);
  const put = (at: number, size: number, value: number) => { putLe(table, at, size, value); };
  put(FadtField.FIRMWARE_CTRL, 4, config.facs);
  put(FadtField.DSDT, 4, config.dsdt);
  put(FadtField.SCI_INT, 2, config.sciIrq);
  if (config.smiCommand !== null) {
    put(FadtField.SMI_CMD, 4, config.smiCommand.port);
    put(FadtField.ACPI_ENABLE, 1, config.smiCommand.acpiEnable);
    put(FadtField.ACPI_DISABLE, 1, config.smiCommand.acpiDisable);
  }
  put(FadtField.PM1A_EVT_BLK, 4, config.pm1aEvent);
  put(FadtField.PM1A_CNT_BLK, 4, config.pm1aControl);
  put(FadtField.PM_TMR_BLK, 4, config.pmTimer);
  put(FadtField.PM1_EVT_LEN, 1, PM1_EVT_LEN);
  put(FadtField.PM1_CNT_LEN, 1, PM1_CNT_LEN);
  put(FadtField.PM_TMR_LEN, 1, PM_TMR_LEN);
  put(FadtField.P_LVL2_LAT, 2, NO_C2);
  put(FadtField.P_LVL3_LAT, 2, NO_C3);
  put(FadtField.CENTURY, 1, config.rtcCentury);
  put(FadtField.IAPC_BOOT_ARCH, 2, (config.legacyDevices ? BootArch.LEGACY_DEVICES : 0) | (config.i8042 ? BootArch.I8042 : 0));
  const flags = FadtFlag.WBINVD | FadtFlag.PROC_C1 | FadtFlag.SLP_BUTTON
    | (config.powerButton ? 0 : FadtFlag.PWR_BUTTON)
    | (config.pmTimer32 ? FadtFlag.TMR_VAL_EXT : 0)
    | (config.resetRegister !== null ? FadtFlag.RESET_REG_SUP : 0);
  put(FadtField.FLAGS, 4, flags);
  if (config.resetRegister !== null) {
    ioGas(table, FadtField.RESET_REG, config.resetRegister.port, 1);
    put(FadtField.RESET_VALUE, 1, config.resetRegister.value);
  }
  put(FadtField.X_DSDT, 8, config.dsdt);
  ioGas(table, FadtField.X_PM1A_EVT_BLK, config.pm1aEvent, PM1_EVT_LEN);
  ioGas(table, FadtField.X_PM1A_CNT_BLK, config.pm1aControl, PM1_CNT_LEN);
  ioGas(table, FadtField.X_PM_TMR_BLK, config.pmTimer, PM_TMR_LEN);
  return sdt('FACP', FADT_REVISION, table.subarray(36), oem);
}
