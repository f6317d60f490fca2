/**
 * The items QEMU's `pc` machine puts in fw_cfg that SeaBIOS reads during
 * POST (SeaBIOS src/fw/paravirt.c, 1.16), encoded as QEMU encodes them
 * (hw/nvram/fw_cfg.c fw_cfg_add_i16/i32/i64: little-endian; hw/i386/fw_cfg.c;
 * the `bootorder` and `etc/e820` files):
 *
 * * qemu_cfg_detect: FW_CFG_SIGNATURE "QEMU" and FW_CFG_ID (the device's own).
 * * qemu_early_e820 (before it has RAM to allocate in): the file directory,
 *   searched for `etc/e820`, then that file — the RAM and reserved ranges;
 *   without it SeaBIOS sizes RAM from CMOS 30h–35h, which this board's RTC
 *   leaves 0.
 * * qemu_cfg_legacy: FW_CFG_MAX_CPUS ("etc/max-cpus"), FW_CFG_NUMA,
 *   FW_CFG_ACPI_TABLES and FW_CFG_SMBIOS_ENTRIES counts (0 here: no item),
 *   FW_CFG_IRQ0_OVERRIDE ("etc/irq0-override", for the MADT SeaBIOS builds),
 *   FW_CFG_BOOT_MENU ("etc/show-boot-menu").
 * * qemu_cfg_init: the file directory again; FW_CFG_NOGRAPHIC (with no
 *   display SeaBIOS puts its console on COM1, "etc/sercon-port").
 * * qemu_get_present_cpus_count: FW_CFG_NB_CPUS, against CMOS 5Fh + 1.
 * * boot.c boot_fail: `etc/boot-fail-wait`, the seconds before a retry when
 *   nothing boots — QEMU's `-boot reboot-timeout`, -1 (never: "No bootable
 *   device." and a halt) unless given; without the file SeaBIOS retries
 *   every 60 s.
 * * boot.c loadBootOrder: the `bootorder` file, one OpenFirmware device path
 *   per line.
 * * optionroms.c run_file_roms: each `genroms/NAME` file, an option ROM
 *   SeaBIOS copies below 1 MiB and runs after the PCI devices' (QEMU's
 *   `-option-rom FILE` and the ROMs it adds itself, such as kvmvapic.bin,
 *   named by their file's base name).
 * * qemu_cfg_init and qemu_platform_setup, given the board (`acpi`): the
 *   ACPI tables' `etc/table-loader` (whose presence moves SeaBIOS's PM base
 *   to 600h), `etc/acpi/tables` and `etc/acpi/rsdp` (`../acpi/pc-tables.ts`).
 *
 * FW_CFG_RAM_SIZE is there as QEMU has it (SeaBIOS takes RAM from the e820
 * file). An item QEMU has whose value would be 0 here (NUMA, BOOT_MENU,
 * UUID) is left out: a key without an item reads as zeros, the same bytes.
 */
import type { AcpiBoard } from '../acpi/pc-tables.ts';
import { acpiFiles } from '../acpi/pc-tables.ts';
import { leBytes } from '../acpi/sdt.ts';
import type { FwCfgConfig, FwCfgFile, FwCfgItem } from './fw-cfg.ts';
import { FwCfgKey } from './keys.ts';

/** E820 range types (ACPI 6.4 15.1, Address Range Types). */
export const E820Type = { RAM: 1, RESERVED: 2 } as const;

export interface E820Entry {
  readonly address: number;
  readonly length: number;
  readonly type: number;
}

/** One `etc/e820` entry: address and length (64-bit) and type (32-bit), little-endian, packed (QEMU's struct e820_entry). */
export const E820_ENTRY_BYTES = 20;

export interface QemuPcConfig {
  /** Guest RAM, bytes (FW_CFG_RAM_SIZE). */
  readonly ramBytes: number;
  /** The vCPUs (FW_CFG_NB_CPUS, and FW_CFG_MAX_CPUS: QEMU's apic_id_limit, one past the highest APIC ID, with IDs 0 to n − 1). */
  readonly cpus: number;
  /** The machine's memory map for the firmware (`etc/e820`). */
  readonly e820: readonly E820Entry[];
  /** Seconds SeaBIOS waits to retry when nothing boots (`etc/boot-fail-wait`); -1, QEMU's default, never retries. */
  readonly bootFailWaitSeconds?: number;
  /** OpenFirmware device paths to boot from, in order (`bootorder`); empty: the firmware's own order. */
  readonly bootOrder: readonly string[];
  /** No display (FW_CFG_NOGRAPHIC): SeaBIOS puts its console on the serial port. */
  readonly noGraphic: boolean;
  /** ISA irq 0 reaches the I/O APIC on GSI 2 (FW_CFG_IRQ0_OVERRIDE), as the MADT's override says. */
  readonly irq0Override: boolean;
  /**
   * The board, for the ACPI tables (`etc/acpi/tables`, `etc/acpi/rsdp`, `etc/table-loader`; the MADT's processors
   * and irq 0 override from `cpus` and `irq0Override`); absent: no tables, and SeaBIOS builds its own.
   */
  readonly acpi?: AcpiBoard;
  /** Option ROMs for the firmware to run (`genroms/NAME`), in order; each image as given (its 55h AAh checked by the caller). */
  readonly optionRoms?: readonly OptionRomFile[];
}

/** An option ROM handed to the firmware through fw_cfg: its file's base name and its bytes. */
export interface OptionRomFile {
  readonly name: string;
  readonly data: Uint8Array;
}


/** The `etc/e820` file: each entry as QEMU writes it. */
export function e820File(entries: readonly E820Entry[]): Uint8Array {
  const data = new Uint8Array(E820_ENTRY_BYTES * entries.length);
  entries.forEach((entry, i) => {
    const at = E820_ENTRY_BYTES * i;
    data.set(leBytes(8, entry.address), at);
    data.set(leBytes(8, entry.length), at + 8);
    data.set(leBytes(4, entry.type), at + 16);
  });
  return data;
}

/**
 * The `bootorder` file as QEMU's get_boot_devices_list writes it: the paths
 * separated by newlines, then one NUL (its size counts the NUL); no paths,
 * an empty file.
 */
export function bootOrderFile(paths: readonly string[]): Uint8Array {
  if (paths.length === 0) return new Uint8Array(0);
  const text = `${paths.join('\n')}\0`;
  return Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);
}

/** The fw_cfg contents of a QEMU `pc` machine with `config`, as SeaBIOS reads them. */
export function qemuPcItems(config: QemuPcConfig): FwCfgConfig {
  if (!Number.isSafeInteger(config.ramBytes) || config.ramBytes < 0) throw new RangeError(`RAM of ${config.ramBytes} bytes`);
  if (!Number.isInteger(config.cpus) || config.cpus < 1 || config.cpus > 0xffff) throw new RangeError(`${config.cpus} CPUs: expected 1 to 65535`);
  const items: FwCfgItem[] = [
    { key: FwCfgKey.RAM_SIZE, data: leBytes(8, config.ramBytes) },
    { key: FwCfgKey.NOGRAPHIC, data: leBytes(2, config.noGraphic ? 1 : 0) },
    { key: FwCfgKey.NB_CPUS, data: leBytes(2, config.cpus) },
    { key: FwCfgKey.MAX_CPUS, data: leBytes(2, config.cpus) },
    // QEMU adds it as a 32-bit item (fw_cfg_add_i32); SeaBIOS reads its first byte.
    { key: FwCfgKey.IRQ0_OVERRIDE, data: leBytes(4, config.irq0Override ? 1 : 0) },
  ];
  const files: FwCfgFile[] = [
    { name: 'bootorder', data: bootOrderFile(config.bootOrder) },
    { name: 'etc/boot-fail-wait', data: leBytes(4, (config.bootFailWaitSeconds ?? -1) >>> 0) },
    { name: 'etc/e820', data: e820File(config.e820) },
    ...(config.acpi === undefined ? [] : acpiFiles({ ...config.acpi, cpus: config.cpus, irq0Override: config.irq0Override })),
    ...(config.optionRoms ?? []).map((rom) => ({ name: `genroms/${rom.name}`, data: rom.data })),
  ];
  return { items, files };
}
