/**
 * A PC's ACPI tables as QEMU's `pc` machine hands them to firmware through
 * fw_cfg: three files, `etc/acpi/tables` (every table but the RSDP, one
 * blob), `etc/acpi/rsdp` and `etc/table-loader`, the script that loads the
 * two and links them (`table-loader.ts`). The tables' pointers are written
 * as offsets in the blob, and the script adds the blob's address to each,
 * then fixes each table's checksum.
 *
 * SeaBIOS (src/fw/paravirt.c, 1.16): `qemu_cfg_init` seeing
 * `etc/table-loader` moves its PM base from B000h to 600h ("Moving pm_base
 * to 0x600"), where it then puts the PIIX4's PMBA; `qemu_platform_setup`
 * runs the script (`romfile_loader_execute`), finds the RSDP in its
 * F-segment, scans the DSDT the FADT points to ("table(50434146)=… (via
 * rsdt)", "ACPI: parse DSDT at …") and builds no tables of its own.
 *
 * The blob, in order: the FACS (at 0, so on the 64-byte boundary it needs,
 * the blob being allocated so aligned), the DSDT, the FADT, the MADT, the
 * HPET table when there is an HPET, the RSDT — QEMU's order for these
 * tables. The RSDT lists the FADT, the MADT and the HPET table. The blob is
 * not padded (QEMU rounds its own up to 128 KiB).
 */
import type { FwCfgFile } from '../fw-cfg/fw-cfg.ts';
import type { DsdtConfig } from './dsdt.ts';
import { dsdt } from './dsdt.ts';
import { FACS_ALIGNMENT, facs } from './facs.ts';
import type { FadtConfig } from './fadt.ts';
import { FadtField, fadt } from './fadt.ts';
import { hpetTable } from './hpet.ts';
import type { InterruptOverride } from './madt.ts';
import { IntiFlags, madt } from './madt.ts';
import { RSDP_V1_BYTES, RsdpField, rsdp, rsdt, rsdtEntryOffset } from './root.ts';
import type { AcpiOem } from './sdt.ts';
import { SPLITVISOR_OEM, SdtField } from './sdt.ts';
import type { LoaderEntry } from './table-loader.ts';
import { tableLoaderFile } from './table-loader.ts';

/** The fw_cfg file names, QEMU's. */
export const AcpiFile = { RSDP: 'etc/acpi/rsdp', TABLES: 'etc/acpi/tables', LOADER: 'etc/table-loader' } as const;

/** The RSDP's alignment (ACPI 6.4 §5.2.5.1: a 16-byte boundary). */
const RSDP_ALIGNMENT = 16;

/** The board as the tables describe it. */
export interface AcpiBoard {
  /** The local APICs' address. */
  readonly localApicAddress: number;
  readonly ioApic: { readonly id: number; readonly address: number; readonly gsiBase: number };
  /**
   * ISA IRQs driven level-triggered and active high, shared (the SCI, and
   * those PCI interrupts are routed to): an interrupt source override each,
   * to the GSI of the same number, saying so.
   */
  readonly levelIrqs: readonly number[];
  /** The PIIX4 PM block's registers and the SCI (FADT). */
  readonly pm: Pick<FadtConfig, 'pm1aEvent' | 'pm1aControl' | 'pmTimer' | 'pmTimer32' | 'sciIrq' | 'powerButton'>;
  readonly smiCommand: FadtConfig['smiCommand'];
  readonly resetRegister: FadtConfig['resetRegister'];
  /** The CMOS index of the RTC's century byte, 0 for none. */
  readonly rtcCentury: number;
  /** An 8042 keyboard controller. */
  readonly i8042: boolean;
  /** The HPET: its registers, and what its table says; null for none. */
  readonly hpet: {
    readonly address: number;
    readonly length: number;
    readonly eventTimerBlockId: number;
    readonly minimumTick: number;
  } | null;
  /** The PCI host bridge and the ISA devices behind it. */
  readonly dsdt: Omit<DsdtConfig, 'hpet'>;
  /** Who made the tables (default: this project, `SPLITVISOR_OEM`). */
  readonly oem?: AcpiOem;
}

export interface AcpiPcConfig extends AcpiBoard {
  /** Processors, APIC IDs 0 to n − 1. */
  readonly cpus: number;
  /** ISA irq 0 reaches GSI 2 (an interrupt source override). */
  readonly irq0Override: boolean;
}

/** The three files, and where each table lies in `etc/acpi/tables`. */
export interface AcpiTables {
  readonly rsdp: Uint8Array;
  readonly tables: Uint8Array;
  readonly loader: Uint8Array;
  /** Each table's offset in `tables`, by signature. */
  readonly layout: Readonly<Record<string, number>>;
}

/** The interrupt source overrides: ISA irq 0 to GSI 2, then the level-triggered IRQs. */
function overrides(config: AcpiPcConfig): InterruptOverride[] {
  const list: InterruptOverride[] = [];
  if (config.irq0Override) list.push({ irq: 0, gsi: 2, flags: IntiFlags.CONFORMING });
  for (const irq of [...new Set(config.levelIrqs)].sort((a, b) => a - b)) {
    if (irq === 0 && config.irq0Override) continue;
    list.push({ irq, gsi: irq, flags: IntiFlags.ACTIVE_HIGH | IntiFlags.LEVEL });
  }
  return list;
}

export function acpiTables(config: AcpiPcConfig): AcpiTables {
  const oem = config.oem ?? SPLITVISOR_OEM;
  const blob: Uint8Array[] = [];
  const layout: Record<string, number> = {};
  let size = 0;
  const add = (signature: string, table: Uint8Array): number => {
    const at = size;
    layout[signature] = at;
    blob.push(table);
    size += table.length;
    return at;
  };
  const entries: LoaderEntry[] = [{ command: 'allocate', file: AcpiFile.TABLES, align: FACS_ALIGNMENT, zone: 'high' }];
  const pointer = (at: number, bytes: 4 | 8) => { entries.push({ command: 'add-pointer', destFile: AcpiFile.TABLES, srcFile: AcpiFile.TABLES, offset: at, size: bytes }); };
  const checksum = (at: number, table: Uint8Array) => {
    entries.push({ command: 'add-checksum', file: AcpiFile.TABLES, offset: at + SdtField.CHECKSUM, start: at, length: table.length });
  };

  const facsAt = add('FACS', facs());
  const dsdtTable = dsdt({ ...config.dsdt, hpet: config.hpet === null ? null : { address: config.hpet.address, length: config.hpet.length } }, oem);
  const dsdtAt = add('DSDT', dsdtTable);
  checksum(dsdtAt, dsdtTable);

  const fadtTable = fadt({
    ...config.pm,
    facs: facsAt,
    dsdt: dsdtAt,
    smiCommand: config.smiCommand,
    rtcCentury: config.rtcCentury,
    legacyDevices: config.dsdt.isaDevices.length > 0,
    i8042: config.i8042,
    resetRegister: config.resetRegister,
  }, oem);
  const fadtAt = add('FACP', fadtTable);
  pointer(fadtAt + FadtField.FIRMWARE_CTRL, 4);
  pointer(fadtAt + FadtField.DSDT, 4);
  pointer(fadtAt + FadtField.X_DSDT, 8);
  checksum(fadtAt, fadtTable);

  const madtTable = madt({
    localApicAddress: config.localApicAddress,
    cpus: config.cpus,
    ioApic: config.ioApic,
    overrides: overrides(config),
    nmiLint: 1, // LINT1 takes NMI on a PC (Intel MP specification 1.4, §3.6.2.1, the virtual wire's wiring)
    pcatCompatible: true, // a PC has its two 8259s beside the APICs
  }, oem);
  const madtAt = add('APIC', madtTable);
  checksum(madtAt, madtTable);
  const listed = [fadtAt, madtAt];

  if (config.hpet !== null) {
    const hpet = hpetTable(config.hpet, oem);
    const hpetAt = add('HPET', hpet);
    checksum(hpetAt, hpet);
    listed.push(hpetAt);
  }

  const rsdtTable = rsdt(listed, oem);
  const rsdtAt = add('RSDT', rsdtTable);
  listed.forEach((_, i) => { pointer(rsdtAt + rsdtEntryOffset(i), 4); });
  checksum(rsdtAt, rsdtTable);

  entries.push(
    { command: 'allocate', file: AcpiFile.RSDP, align: RSDP_ALIGNMENT, zone: 'fseg' },
    { command: 'add-pointer', destFile: AcpiFile.RSDP, srcFile: AcpiFile.TABLES, offset: RsdpField.RSDT_ADDRESS, size: 4 },
    { command: 'add-checksum', file: AcpiFile.RSDP, offset: RsdpField.CHECKSUM, start: 0, length: RSDP_V1_BYTES },
  );

  const tables = new Uint8Array(size);
  let at = 0;
  for (const table of blob) {
    tables.set(table, at);
    at += table.length;
  }
  return { rsdp: rsdp(rsdtAt, oem), tables, loader: tableLoaderFile(entries), layout };
}

/** The fw_cfg files QEMU's `pc` machine carries its ACPI tables in. */
export function acpiFiles(config: AcpiPcConfig): FwCfgFile[] {
  const { rsdp: pointer, tables, loader } = acpiTables(config);
  return [{ name: AcpiFile.RSDP, data: pointer }, { name: AcpiFile.TABLES, data: tables }, { name: AcpiFile.LOADER, data: loader }];
}
