/**
 * What SeaBIOS 1.16 asks of QEMU's firmware devices during POST, before
 * anything else of the board (src/fw/paravirt.c, src/hw/serialio.c,
 * src/x86.h, src/boot.c), against ports the board must answer as QEMU's
 * `pc` does:
 *
 * 1. `qemu_debug_preinit`: a read of the debug port, 402h; only E9h
 *    (QEMU_DEBUGCON_READBACK, an isa-debugcon there) turns the log on. Every
 *    `dprintf` after is one `outb` to 402h per character.
 * 2. The banner, "SeaBIOS (version …)".
 * 3. `set_a20(1)`: port 92h read, bit 1 ORed in and written back when it
 *    was clear (the seabios-post trace: a read of 00h, a write of 02h; every
 *    later mode switch reads it again).
 * 3a. `qemu_detect`: the northbridge at 00:00.0 through configuration
 *    mechanism #1 (src/hw/pci.c pci_config_readw: a dword to CF8h, then a
 *    word at CFCh + (register & 2)): its vendor ID — 0000h or FFFFh, no PCI
 *    and nothing of 5a below — its device ID and the subsystem IDs at 2Ch,
 *    which must be QEMU's 1AF4h:1100h; "Running on QEMU (i440fx)" for 1237h.
 * 4. `qemu_cfg_detect`: key 0 to the selector (510h, a 16-bit write), four
 *    data reads (511h) that must spell "QEMU" — without them, no fw_cfg
 *    and nothing of what follows; "Found QEMU fw_cfg"; key 1, FW_CFG_ID's
 *    four bytes.
 * 5. `qemu_early_e820`: the file directory (key 19h: a big-endian count,
 *    then 64-byte entries) read entry by entry until `etc/e820`; that file's
 *    20-byte entries, a "qemu/e820: … [RAM]" line for each RAM range, whose
 *    end sizes RAM ("fw_cfg file etc/e820 not found" without it).
 * 6. `qemu_cfg_init`: the file directory again, every entry.
 * 6a. With the i440FX found, `pci_setup`'s `piix4_pm_setup` for the PIIX4
 *    PM function at 00:01.3 (src/fw/pciinit.c, found by its IDs 8086h:7113h):
 *    interrupt line 9 (the SCI), PMBA = acpi_pm_base | 1, PMREGMISC 01h
 *    (PMIOSE: the PM space decoded there), SMBBA = (acpi_pm_base + 100h) | 1
 *    and SMBHSTCFG 09h — each a dword to CF8h, then the register written at
 *    CFCh + (register & 3) — then `pmtimer_setup`: "Using pmtimer, ioport
 *    0x608", PM_TMR at acpi_pm_base + 8 its clock from then on (a 32-bit
 *    `inl`). acpi_pm_base is 600h (`pm-base`), where SeaBIOS moves it on
 *    QEMU and on this board ("Moving pm_base to 0x600" when fw_cfg holds
 *    the ACPI tables' etc/table-loader; without them SeaBIOS keeps its own
 *    B000h: `pm-base=45056`).
 * 7. `qemu_get_present_cpus_count` and "etc/max-cpus": FW_CFG_NB_CPUS (5)
 *    and FW_CFG_MAX_CPUS (0Fh), two bytes each; "Found n cpu(s) max
 *    supported m cpu(s)".
 * 8. `loadBootOrder`: the `bootorder` file, read whole.
 * 8a. `lpt_setup` (src/hw/serialio.c `detect_parport`) at 378h, then 278h:
 *    the control port (base + 2) read and written back with its direction
 *    bit (5) cleared, AAh written to the data port and read back — equal,
 *    a parallel port is there (the shared traces: 37Ah read CCh, written
 *    CCh, 378h AAh read back; 27Ah read FFh, written DFh, 278h read FFh);
 *    "Found n lpt ports".
 * 8b. `ata_detect` on the secondary IDE channel's master (src/hw/ata.c; the
 *    traces: QEMU's empty CD-ROM at ata1-0): the device selected, 55h and
 *    AAh written to the sector count and LBA low registers and read back
 *    (equal: a device may be there), the channel reset (SRST with nIEN,
 *    then nIEN alone), IDENTIFY PACKET DEVICE (A1h) and its 256 words —
 *    "DVD/CD [ata1-0: MODEL ATAPI-n DVD/CD]" for a CD-ROM (word 0's device
 *    type 5), its model from words 27–46, n the highest ATA/ATAPI version of
 *    word 80 — then blockcmd.c `scsi_is_ready`: TEST UNIT READY by PACKET
 *    (A0h, the 12-byte command through the data port); on CHECK CONDITION
 *    (ERR), REQUEST SENSE (18 bytes) and, for ASC 3Ah, "Device reports
 *    MEDIUM NOT PRESENT - n tries left", until the third; another sense (the
 *    unit attention of a drive just powered on) is asked again.
 * 9. `boot_fail` with `-boot reboot-timeout` set ("etc/boot-fail-wait"):
 *    "No bootable device.  Retrying in n seconds.", the wait — timed on the
 *    PM timer when there is one, PM_TMR read before and after — and POST
 *    again (the reset itself is left out: no CPU acts on one here).
 *
 * Every fw_cfg read goes through the data port — SeaBIOS's path before it
 * has read FW_CFG_ID, and for everything when the ID lacks the DMA bit; with
 * the bit SeaBIOS reads the rest by DMA, which needs a descriptor in guest
 * RAM that a scripted guest has no way to write.
 */
import type { GuestProgram } from '@splitvisor/scripted-guest';
import { ScriptedGuest } from '@splitvisor/scripted-guest';
import { GUEST_TSC_HZ } from './lapic-tick.ts';
import type { GuestRoutine } from './linux-8259.ts';
import { ACPI_PM_MASK, pmTimerDelta } from './pm-timer-read.ts';
import type { WorkloadDefinition } from './workload.ts';
import { numberParameter } from './workload.ts';

/** SeaBIOS's debug port (src/hw/serialio.c DebugOutputPort) and the read that says a debug console is there. */
const DEBUG_PORT = 0x402;
const DEBUGCON_READBACK = 0xe9;
/** System Control Port A and its A20 bit (src/x86.h PORT_A20, A20_ENABLE_BIT). */
const PORT_A20 = 0x92;
const A20_ENABLE_BIT = 0x02;
/** fw_cfg's ports (src/fw/paravirt.h PORT_QEMU_CFG_CTL, PORT_QEMU_CFG_DATA) and the keys read. */
const CFG_CTL = 0x510;
const CFG_DATA = 0x511;
const CFG_SIGNATURE = 0x00;
const CFG_ID = 0x01;
const CFG_NB_CPUS = 0x05;
const CFG_MAX_CPUS = 0x0f;
const CFG_FILE_DIR = 0x19;
/** A file directory entry (struct QemuCfgFile) and an e820 entry (struct e820_reservation). */
const CFG_FILE_BYTES = 64;
const E820_ENTRY_BYTES = 20;
const E820_RAM = 1;

/** Configuration mechanism #1 (src/hw/pci.h PORT_PCI_CMD, PORT_PCI_DATA) and the registers read and written. */
const PORT_PCI_CMD = 0xcf8;
const PORT_PCI_DATA = 0xcfc;
const PCI_ENABLE = 0x8000_0000;
const PCI_VENDOR_ID = 0x00;
const PCI_DEVICE_ID = 0x02;
const PCI_SUBSYSTEM_VENDOR_ID = 0x2c;
const PCI_SUBSYSTEM_ID = 0x2e;
const PCI_INTERRUPT_LINE = 0x3c;
/** QEMU's northbridge (its subsystem IDs: Red Hat, QEMU virtual machine) and the i440FX's device ID. */
const QEMU_SUBSYSTEM = [0x1af4, 0x1100] as const;
const I440FX_DEVICE_ID = 0x1237;
/** The PIIX4 PM function, 00:01.3 (bdf 0Bh), its IDs and registers (src/hw/pci_regs.h PIIX_PMBASE & co). */
const PIIX4_PM_BDF = 0x0b;
const PIIX4_PM_IDS = 0x7113_8086;
const PIIX_PMBASE = 0x40;
const PIIX_PMREGMISC = 0x80;
const PIIX_SMBHSTBASE = 0x90;
const PIIX_SMBHSTCFG = 0xd2;
const ACPI_SCI_IRQ = 9;
/** PM_TMR's offset in the PM space (ACPI PM1 timer block, PMBASE + 8). */
const PM_TMR_OFFSET = 8;
/** The parallel ports SeaBIOS looks for, in its order (LPT1, LPT2), the direction bit of their control port, and its probe byte. */
const LPT_PORTS = [0x378, 0x278] as const;
const LPT_CONTROL = 2;
const LPT_DIRECTION = 0x20;
const LPT_PROBE = 0xaa;
/** The secondary IDE channel's Command Block and Device Control (src/hw/ata.h ATA_CB_*), and what SeaBIOS sends it. */
const ATA1 = 0x170;
const ATA1_CONTROL = 0x376;
const ATA_DATA = 0;
const ATA_ERROR = 1;
const ATA_SECTOR_COUNT = 2;
const ATA_LBA_LOW = 3;
const ATA_BYTE_COUNT_LOW = 4;
const ATA_BYTE_COUNT_HIGH = 5;
const ATA_DEVICE = 6;
const ATA_STATUS = 7;
const ATA_DEVICE_0 = 0xa0;
const ATA_BSY = 0x80;
const ATA_DRQ = 0x08;
const ATA_ERR = 0x01;
const DC_HD15 = 0x08;
const DC_NIEN = 0x02;
const DC_SRST = 0x04;
const ATA_IDENTIFY_PACKET_DEVICE = 0xa1;
const ATA_PACKET = 0xa0;
/** SCSI operation codes (SPC-3) and what REQUEST SENSE is asked for; ASC 3Ah: MEDIUM NOT PRESENT. */
const TEST_UNIT_READY = 0x00;
const REQUEST_SENSE = 0x03;
const SENSE_BYTES = 18;
const MEDIUM_NOT_PRESENT = 0x3a;
/** IDENTIFY PACKET DEVICE word 0's device type for a CD-ROM (ATA/ATAPI-6 8.16.1). */
const CDROM_DEVICE_TYPE = 5;
/** scsi_is_ready's tries (MEDIUM NOT PRESENT answers), and the TEST UNIT READYs a scripted guest sends at most in place of its 5 s. */
const READY_TRIES = 3;
const READY_COMMANDS = 16;
/** Status reads before a device that stays busy is taken as absent (SeaBIOS waits by time; a model answers at once). */
const BUSY_POLLS = 1000;

/** What a read of nothing answers (an empty bus). */
const OPEN_BUS = 0xffff_ffff;

/** The version the banner names: the shared seabios-post trace's. */
export const SEABIOS_VERSION = '1.16.2';

export interface FirmwareProbeOptions {
  /** The reboot timeout SeaBIOS waits before POST again, ms (QEMU's -boot reboot-timeout; default 1). */
  readonly rebootMs?: number;
  /** acpi_pm_base, PMBA's base for the PM space (default 600h; rounded down to its 64 ports). */
  readonly pmBase?: number;
}

export interface FirmwareProbe {
  readonly guest: ScriptedGuest;
  /** POSTs completed. */
  readonly posts: () => number;
  /** Characters written to the debug port. */
  readonly logBytes: () => number;
  /** RAM as the e820 file gave it (the end of the highest RAM range), bytes; 0 without fw_cfg. */
  readonly ramBytes: () => number;
  /** CPUs as FW_CFG_NB_CPUS gave them; 0 without fw_cfg. */
  readonly cpus: () => number;
  /** Files in fw_cfg's directory. */
  readonly files: () => number;
  /** The boot order fw_cfg gave, one device path an entry. */
  readonly bootOrder: () => readonly string[];
  /** The northbridge's device ID qemu_detect found at 00:00.0 (1237h: the i440FX); 0 without QEMU's PCI. */
  readonly hostBridge: () => number;
  /** PM timer ticks over the last reboot wait, read at PM_TMR where SeaBIOS put it; 0 without one answering there. */
  readonly pmTimerTicks: () => number;
  /** Parallel ports the last POST found (its "Found n lpt ports"). */
  readonly lptPorts: () => number;
  /** CD-ROM drives the last POST found at ata1-0 (0 or 1). */
  readonly cdroms: () => number;
  /** TEST UNIT READYs the CD-ROM answered MEDIUM NOT PRESENT, over every POST. */
  readonly mediumNotPresent: () => number;
}

/** A number as SeaBIOS's %016llx prints it. */
const hex16 = (value: number): string => value.toString(16).padStart(16, '0');

export function firmwareProbe(options: FirmwareProbeOptions = {}): FirmwareProbe {
  const rebootCycles = Math.round(((options.rebootMs ?? 1) * GUEST_TSC_HZ) / 1000);
  const pmBase = (options.pmBase ?? 0x600) & 0xffc0;
  let posts = 0;
  let logBytes = 0;
  let ramBytes = 0;
  let cpus = 0;
  let files = 0;
  let bootOrder: string[] = [];
  let debug = false;
  let hostBridge = 0;
  /** PM_TMR's port once pmtimer_setup ran (0: the PIT's timer, no PM timer). */
  let pmTimerPort = 0;
  let pmTimerTicks = 0;
  let lptPorts = 0;
  let cdroms = 0;
  let mediumNotPresent = 0;

  function* dprintf(text: string): GuestRoutine<void> {
    if (!debug) return;
    for (const c of text) {
      yield { op: 'out', port: DEBUG_PORT, value: c.charCodeAt(0) & 0xff };
      logBytes++;
    }
  }

  function* select(key: number): GuestRoutine<void> {
    yield { op: 'out', port: CFG_CTL, value: key, size: 2 };
  }

  function* bytes(count: number): GuestRoutine<number[]> {
    const read: number[] = [];
    for (let i = 0; i < count; i++) read.push(yield { op: 'in', port: CFG_DATA });
    return read;
  }

  /** src/hw/pci.c: CONFIG_ADDRESS for `register` of `bdf` (bus 0), then CONFIG_DATA at CFCh + its low bits. */
  function* pciSelect(bdf: number, register: number): GuestRoutine<void> {
    yield { op: 'out', port: PORT_PCI_CMD, value: (PCI_ENABLE | (bdf << 8) | (register & 0xfc)) >>> 0, size: 4 };
  }

  function* pciReadw(bdf: number, register: number): GuestRoutine<number> {
    yield* pciSelect(bdf, register);
    return yield { op: 'in', port: PORT_PCI_DATA + (register & 2), size: 2 };
  }

  function* pciReadl(bdf: number, register: number): GuestRoutine<number> {
    yield* pciSelect(bdf, register);
    return yield { op: 'in', port: PORT_PCI_DATA, size: 4 };
  }

  function* pciWriteb(bdf: number, register: number, value: number): GuestRoutine<void> {
    yield* pciSelect(bdf, register);
    yield { op: 'out', port: PORT_PCI_DATA + (register & 3), value };
  }

  function* pciWritel(bdf: number, register: number, value: number): GuestRoutine<void> {
    yield* pciSelect(bdf, register);
    yield { op: 'out', port: PORT_PCI_DATA, value, size: 4 };
  }

  /** paravirt.c qemu_detect: QEMU's northbridge at 00:00.0. */
  function* qemuDetect(): GuestRoutine<void> {
    const vendor = yield* pciReadw(0, PCI_VENDOR_ID);
    if (vendor === 0x0000 || vendor === 0xffff) return;
    const device = yield* pciReadw(0, PCI_DEVICE_ID);
    const subsystem = [yield* pciReadw(0, PCI_SUBSYSTEM_VENDOR_ID), yield* pciReadw(0, PCI_SUBSYSTEM_ID)];
    if (subsystem[0] !== QEMU_SUBSYSTEM[0] || subsystem[1] !== QEMU_SUBSYSTEM[1]) return;
    hostBridge = device;
    if (device === I440FX_DEVICE_ID) yield* dprintf('Running on QEMU (i440fx)\n');
  }

  /** pciinit.c piix4_pm_setup (piix4_pm_config_setup, then timer.c pmtimer_setup) on the i440FX's PIIX4 PM function. */
  function* piix4PmSetup(): GuestRoutine<void> {
    if (hostBridge !== I440FX_DEVICE_ID || (yield* pciReadl(PIIX4_PM_BDF, PCI_VENDOR_ID)) !== PIIX4_PM_IDS) return;
    yield* pciWriteb(PIIX4_PM_BDF, PCI_INTERRUPT_LINE, ACPI_SCI_IRQ);
    yield* pciWritel(PIIX4_PM_BDF, PIIX_PMBASE, pmBase | 1);
    yield* pciWriteb(PIIX4_PM_BDF, PIIX_PMREGMISC, 0x01);
    yield* pciWritel(PIIX4_PM_BDF, PIIX_SMBHSTBASE, (pmBase + 0x100) | 1);
    yield* pciWriteb(PIIX4_PM_BDF, PIIX_SMBHSTCFG, 0x09);
    pmTimerPort = pmBase + PM_TMR_OFFSET;
    yield* dprintf(`Using pmtimer, ioport 0x${pmTimerPort.toString(16)}\n`);
  }

  /** PM_TMR's 24 bits, or undefined when nothing answers there (a read of all ones). */
  function* pmTimer(): GuestRoutine<number | undefined> {
    if (pmTimerPort === 0) return undefined;
    const value = yield { op: 'in', port: pmTimerPort, size: 4 };
    return value === OPEN_BUS ? undefined : value & ACPI_PM_MASK;
  }

  /** serialio.c detect_parport: the data pins made outputs, AAh written and read back. */
  function* detectParport(base: number): GuestRoutine<boolean> {
    const control = yield { op: 'in', port: base + LPT_CONTROL };
    yield { op: 'out', port: base + LPT_CONTROL, value: control & ~LPT_DIRECTION & 0xff };
    yield { op: 'out', port: base, value: LPT_PROBE };
    return (yield { op: 'in', port: base }) === LPT_PROBE;
  }

  function* lptSetup(): GuestRoutine<void> {
    let found = 0;
    for (const base of LPT_PORTS) if (yield* detectParport(base)) found++;
    lptPorts = found;
    yield* dprintf(`Found ${found} lpt ports\n`);
  }

  /** ata.c await_ide (not BSY): the status, or undefined when the device stays busy. */
  function* ataNotBusy(): GuestRoutine<number | undefined> {
    for (let i = 0; i < BUSY_POLLS; i++) {
      const status = yield { op: 'in', port: ATA1 + ATA_STATUS };
      if ((status & ATA_BSY) === 0) return status;
    }
    return undefined;
  }

  /** ata.c send_cmd: the device and task file, the command, then not BSY; the status, or undefined. */
  function* ataCommand(command: number, byteCount: number): GuestRoutine<number | undefined> {
    yield { op: 'out', port: ATA1 + ATA_DEVICE, value: ATA_DEVICE_0 };
    for (const [register, value] of [[ATA_ERROR, 0], [ATA_SECTOR_COUNT, 0], [ATA_LBA_LOW, 0], [ATA_BYTE_COUNT_LOW, byteCount & 0xff], [ATA_BYTE_COUNT_HIGH, byteCount >> 8]] as const) {
      yield { op: 'out', port: ATA1 + register, value };
    }
    yield { op: 'out', port: ATA1 + ATA_STATUS, value: command };
    return yield* ataNotBusy();
  }

  /** `count` words from the data port. */
  function* ataWords(count: number): GuestRoutine<number[]> {
    const words: number[] = [];
    for (let i = 0; i < count; i++) words.push(yield { op: 'in', port: ATA1 + ATA_DATA, size: 2 });
    return words;
  }

  /** ata.c atapi_cmd_data: PACKET, the 12-byte command once DRQ asks for it, then `bytes` of data in; undefined on ERR. */
  function* atapiCommand(cdb: readonly number[], bytes: number): GuestRoutine<number[] | undefined> {
    const status = yield* ataCommand(ATA_PACKET, bytes);
    if (status === undefined || (status & ATA_DRQ) === 0) return undefined;
    for (let i = 0; i < 12; i += 2) yield { op: 'out', port: ATA1 + ATA_DATA, value: (cdb[i] ?? 0) | ((cdb[i + 1] ?? 0) << 8), size: 2 };
    const after = yield* ataNotBusy();
    if (after === undefined || (after & ATA_ERR) !== 0) return undefined;
    return bytes === 0 ? [] : (yield* ataWords(bytes >> 1)).flatMap((word) => [word & 0xff, word >> 8]);
  }

  /** ata.c ata_detect for ata1-0, then blockcmd.c scsi_is_ready: a CD-ROM found and asked whether it holds a disc. */
  function* cdromDetect(): GuestRoutine<void> {
    cdroms = 0;
    yield { op: 'out', port: ATA1 + ATA_DEVICE, value: ATA_DEVICE_0 };
    yield { op: 'out', port: ATA1 + ATA_SECTOR_COUNT, value: 0x55 };
    yield { op: 'out', port: ATA1 + ATA_LBA_LOW, value: 0xaa };
    const [count, low] = [yield { op: 'in', port: ATA1 + ATA_SECTOR_COUNT }, yield { op: 'in', port: ATA1 + ATA_LBA_LOW }];
    if (count !== 0x55 || low !== 0xaa) return;
    yield { op: 'out', port: ATA1_CONTROL, value: DC_HD15 | DC_NIEN | DC_SRST };
    yield { op: 'out', port: ATA1_CONTROL, value: DC_HD15 | DC_NIEN };
    if ((yield* ataNotBusy()) === undefined) return;
    const status = yield* ataCommand(ATA_IDENTIFY_PACKET_DEVICE, 0);
    if (status === undefined || (status & ATA_DRQ) === 0) return;
    const identify = yield* ataWords(256);
    if ((((identify[0] ?? 0) >> 8) & 0x1f) !== CDROM_DEVICE_TYPE) return;
    const model = identify.slice(27, 47).map((word) => String.fromCharCode(word >> 8, word & 0xff)).join('').trimEnd();
    const versions = identify[80] ?? 0;
    let version = 14;
    while (version > 0 && (versions & (1 << version)) === 0) version--;
    cdroms = 1;
    yield* dprintf(`DVD/CD [ata1-0: ${model} ATAPI-${version} DVD/CD]\n`);
    // Until it is ready or has said MEDIUM NOT PRESENT three times; any other sense (a unit attention) is retried.
    // SeaBIOS bounds the loop by 5 s of its timer; a scripted guest by commands.
    let tries = READY_TRIES;
    for (let command = 0; command < READY_COMMANDS; command++) {
      if ((yield* atapiCommand([TEST_UNIT_READY], 0)) !== undefined) return;
      const sense = yield* atapiCommand([REQUEST_SENSE, 0, 0, 0, SENSE_BYTES], SENSE_BYTES);
      if (sense?.[12] !== MEDIUM_NOT_PRESENT) continue;
      tries--;
      mediumNotPresent++;
      yield* dprintf(`Device reports MEDIUM NOT PRESENT - ${tries} tries left\n`);
      if (tries === 0) return;
    }
  }

  const little = (b: readonly number[]) => b.reduceRight((v, byte) => v * 256 + byte, 0);
  const big = (b: readonly number[]) => b.reduce((v, byte) => v * 256 + byte, 0);
  /** A directory entry's name: its bytes from 8 up to the NUL. */
  const name = (b: readonly number[]) => String.fromCharCode(...b.slice(8)).split('\0')[0] ?? '';

  /** One directory entry: its size, key and name. */
  function* fileEntry(): GuestRoutine<{ size: number; key: number; name: string }> {
    const entry = yield* bytes(CFG_FILE_BYTES);
    return { size: big(entry.slice(0, 4)), key: big(entry.slice(4, 6)), name: name(entry) };
  }

  function* earlyE820(): GuestRoutine<void> {
    yield* select(CFG_FILE_DIR);
    const count = big(yield* bytes(4));
    let found: { size: number; key: number } | undefined;
    for (let i = 0; i < count && found === undefined; i++) {
      const entry = yield* fileEntry();
      if (entry.name === 'etc/e820') found = entry;
    }
    if (found === undefined) {
      yield* dprintf('qemu/e820: fw_cfg file etc/e820 not found\n');
      return;
    }
    yield* select(found.key);
    for (let i = 0; i < Math.floor(found.size / E820_ENTRY_BYTES); i++) {
      const entry = yield* bytes(E820_ENTRY_BYTES);
      const [address, length, type] = [little(entry.slice(0, 8)), little(entry.slice(8, 16)), little(entry.slice(16))];
      if (type !== E820_RAM) continue;
      yield* dprintf(`qemu/e820: addr 0x${hex16(address)} len 0x${hex16(length)} [RAM]\n`);
      ramBytes = Math.max(ramBytes, address + length);
    }
  }

  function* post(): GuestRoutine<void> {
    debug = (yield { op: 'in', port: DEBUG_PORT }) === DEBUGCON_READBACK;
    yield* dprintf(`SeaBIOS (version ${SEABIOS_VERSION})\n`);
    const a20 = yield { op: 'in', port: PORT_A20 };
    if ((a20 & A20_ENABLE_BIT) === 0) yield { op: 'out', port: PORT_A20, value: (a20 | A20_ENABLE_BIT) & 0xff };
    yield* qemuDetect();
    yield* select(CFG_SIGNATURE);
    if (String.fromCharCode(...(yield* bytes(4))) !== 'QEMU') return;
    yield* dprintf('Found QEMU fw_cfg\n');
    yield* select(CFG_ID);
    yield* bytes(4);
    yield* earlyE820();
    yield* select(CFG_FILE_DIR);
    files = big(yield* bytes(4));
    const entries: { size: number; key: number; name: string }[] = [];
    for (let i = 0; i < files; i++) entries.push(yield* fileEntry());
    yield* piix4PmSetup();
    yield* select(CFG_NB_CPUS);
    cpus = little(yield* bytes(2));
    yield* select(CFG_MAX_CPUS);
    const max = little(yield* bytes(2));
    yield* dprintf(`Found ${cpus} cpu(s) max supported ${max} cpu(s)\n`);
    const order = entries.find((e) => e.name === 'bootorder');
    if (order !== undefined && order.size > 0) {
      yield* select(order.key);
      const text = String.fromCharCode(...(yield* bytes(order.size)));
      bootOrder = (text.split('\0')[0] ?? '').split('\n').filter((path) => path !== '');
    }
    yield* lptSetup();
    yield* cdromDetect();
  }

  const main = function* firmware(): GuestProgram {
    for (;;) {
      yield* post();
      yield* dprintf(`No bootable device.  Retrying in ${Math.floor((options.rebootMs ?? 1) / 1000)} seconds.\n`);
      posts++;
      const before = yield* pmTimer();
      yield { op: 'compute', cycles: rebootCycles };
      const after = yield* pmTimer();
      pmTimerTicks = before === undefined || after === undefined ? 0 : pmTimerDelta(before, after);
    }
  };

  return {
    guest: new ScriptedGuest(main()),
    posts: () => posts,
    logBytes: () => logBytes,
    ramBytes: () => ramBytes,
    cpus: () => cpus,
    files: () => files,
    bootOrder: () => bootOrder,
    hostBridge: () => hostBridge,
    pmTimerTicks: () => pmTimerTicks,
    lptPorts: () => lptPorts,
    cdroms: () => cdroms,
    mediumNotPresent: () => mediumNotPresent,
  };
}

export const FIRMWARE_PROBE: WorkloadDefinition = {
  name: 'firmware-probe',
  description: "SeaBIOS's POST on QEMU's firmware devices: the debug console probe and log, the A20 gate at port 92h, the i440FX through PCI configuration space, fw_cfg's signature, ID, file directory, etc/e820, CPU counts and boot order through the data port, the PIIX4's PM space at PMBA and its timer, the parallel ports at 378h and 278h, the CD-ROM at ata1-0 (IDENTIFY PACKET DEVICE, then TEST UNIT READY and REQUEST SENSE by PACKET); then a reboot timeout timed on the PM timer and POST again",
  follows: 'SeaBIOS 1.16 src/hw/serialio.c qemu_debug_preinit, lpt_setup; src/hw/ata.c ata_detect, atapi_cmd_data; src/hw/blockcmd.c scsi_is_ready; src/x86.h set_a20; src/fw/paravirt.c qemu_detect, qemu_cfg_detect, qemu_early_e820, qemu_cfg_init, qemu_get_present_cpus_count; src/fw/pciinit.c piix4_pm_setup; src/hw/timer.c pmtimer_setup; src/boot.c loadBootOrder, boot_fail',
  parameters: [
    { name: 'reboot-ms', description: 'the reboot timeout between POSTs (-boot reboot-timeout), ms', default: 1, min: 1, max: 60_000 },
    { name: 'pm-base', description: 'acpi_pm_base, the PM space SeaBIOS puts at PMBA: 1536 (600h, as on QEMU with its ACPI tables) or 45056 (B000h, SeaBIOS\'s own default), rounded down to 64 ports', default: 0x600, min: 0x40, max: 0xffc0 },
  ],
  create: (p) => {
    const run = firmwareProbe({ rebootMs: numberParameter(p, 'reboot-ms'), pmBase: numberParameter(p, 'pm-base') });
    return {
      guest: run.guest,
      progress: () => ({
        posts: run.posts(), logBytes: run.logBytes(), ramMiB: Math.floor(run.ramBytes() / 2 ** 20), cpus: run.cpus(), files: run.files(),
        hostBridge: run.hostBridge(), pmTimerTicks: run.pmTimerTicks(), lptPorts: run.lptPorts(), cdroms: run.cdroms(), mediumNotPresent: run.mediumNotPresent(),
      }),
    };
  },
};
