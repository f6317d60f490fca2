/**
 * `splitvisor replay`: a recorded guest I/O trace issued, open loop, to the
 * VM a placement builds — each access at its recorded time — and what came
 * of it: exits by device and domain with their modelled cost, and fidelity,
 * every read's answer compared with the one QEMU gave when it was recorded.
 *
 * A read that differs is explained only by a named register: one whose
 * value depends on when it was read (TIME_DEPENDENT), on how QEMU's machine
 * was configured (CONFIGURATION_DEPENDENT), on guest memory the trace does not
 * hold (MEMORY_DEPENDENT), or on the drives' images and product strings
 * (IMAGE_DEPENDENT); or by a register where QEMU departs from the datasheet
 * this build follows (QEMU_DEVIATES), counted apart. Anything else is a
 * mismatch. The IDE channels' registers are explained in the context of the
 * command the trace runs on each (IdeChannelTrack). Accesses to what this
 * board does not model are counted by QEMU's region name.
 */
import { basename } from 'node:path';
import type { Command } from 'commander';
import type { ExitReport } from '@splitvisor/metrics';
import { COST_MODELS, costModel, exitReport } from '@splitvisor/metrics';
import { IdleCpu } from '@splitvisor/scripted-guest';
import type { DeviceName } from '@splitvisor/placement';
import type { TraceRecord } from '@splitvisor/traces';
import { Vm, VmError } from '@splitvisor/vmm';
import { CliError } from './cli-error.ts';
import { writeResultHtml } from './html-report.ts';
import { progressBar } from './progress-bar.ts';
import { positiveInteger } from './run-flags.ts';
import { asResult } from './result-format.ts';
import type { PlacementChoice } from './placement-file.ts';
import { choosePlacement, placementRef } from './placement-file.ts';
import { readAnyTrace } from './qemu-trace-log.ts';

// --- the board, by address ----------------------------------------------------------------

/** An IDE channel's ports: the Command Block (data port first, Status/Command last), the Control Block, the bus master's eight. */
interface IdePorts {
  readonly command: number;
  readonly control: number;
  readonly busMaster: number;
}

/** The board's `disk`: the primary channel, a disk as master. */
const PRIMARY_IDE: IdePorts = { command: 0x1f0, control: 0x3f6, busMaster: 0xc000 };
/** The board's `cdrom`: the secondary channel, the ATAPI CD-ROM as master and no slave. */
const SECONDARY_IDE: IdePorts = { command: 0x170, control: 0x376, busMaster: 0xc008 };

// --- why a read may differ ----------------------------------------------------------------

/** What the replay knows when it compares a read: the access and the registers it selects through. */
export interface ReadContext {
  readonly record: TraceRecord;
  /** The CMOS register last selected at 70h (NMI-disable bit cleared). */
  readonly rtcIndex: number;
  /**
   * The data word this data-port read starts at in an IDENTIFY DEVICE (ECh) or IDENTIFY PACKET DEVICE (A1h) reply,
   * each IDE channel followed apart; -1 outside such a data phase.
   */
  readonly identifyWord: number;
  /** Per 8259 (master at 20h, slave at A0h): whether OCW3 last selected the ISR (else the IRR) for reads of the command port. */
  readonly picReadsIsr: readonly [boolean, boolean];
  /** For a read of the packet drive's channel (the secondary: 170h–177h, 376h, C008h–C00Fh): the command it runs. */
  readonly packetDrive?: PacketDriveContext;
}

/**
 * The packet drive's command as the trace drives it (ATA/ATAPI-6, PACKET command feature set: PACKET A0h written to
 * 177h, then the 12-byte command packet written to the data port) and the data-port reads since.
 */
export interface PacketDriveContext {
  /** Neither SRST nor a command to the drive since power-on. */
  readonly powerOn: boolean;
  /** DEV of the Device register (176h): 0 the packet drive, 1 the absent slave. */
  readonly device: 0 | 1;
  /** The command the drive runs (last written to 177h with DEV 0), or -1. */
  readonly command: number;
  /** A PACKET command's command packet (CDB), once all 12 bytes are written; else empty. */
  readonly cdb: readonly number[];
  /** Bytes the data port gave in the command's data phase before this read (where a data-port read starts). */
  readonly dataBytes: number;
  /**
   * Where this drive's power-on UNIT ATTENTION shows in this read, QEMU's drive having none: the Error register of
   * the command that met it (`error`) or the sense data of the REQUEST SENSE after it (`sense`).
   */
  readonly unitAttention?: 'error' | 'sense';
  /** While the drive answers a VPD page 83h INQUIRY, until it takes another command. */
  readonly deviceIdentification?: DeviceIdentificationReply;
}

/** This drive's reply to INQUIRY of the Device Identification page (SPC-3 7.6.3), which QEMU's drive fails. */
export interface DeviceIdentificationReply {
  /** Bytes the reply holds: the allocation length (the page is longer). */
  readonly transfer: number;
  /** QEMU's Status showed ERR for the command: the trace's own word that QEMU failed it. */
  readonly qemuFailed: boolean;
  /** Commands the trace wrote since, which this drive did not take: it still held DRQ for the reply. */
  readonly commandsNotTaken: number;
}

export interface VolatileRegister {
  readonly device: DeviceName | 'vga';
  readonly register: string;
  readonly matches: (c: ReadContext) => boolean;
  /** The bits that depend on when the register was read. */
  readonly bits: number;
  /** Where the bits sit in this read, when that depends on the read (which IDENTIFY words, which bytes of a command's data it holds); default `bits`. */
  readonly bitsIn?: (c: ReadContext) => number;
  /** Further condition on the two values, in the read's context (default: none). */
  readonly when?: (ours: number, qemu: number, c: ReadContext) => boolean;
  readonly why: string;
}

const pio = (port: number) => (c: ReadContext) => c.record.kind === 'pio' && c.record.addr === port;
const cmos = (...indices: number[]) => (c: ReadContext) => c.record.kind === 'pio' && c.record.addr === 0x71 && indices.includes(c.rtcIndex);

/** ATA/ATAPI-6 command codes the replay follows on the IDE channels. */
const AtaCommand = { DEVICE_RESET: 0x08, PACKET: 0xa0, IDENTIFY_PACKET_DEVICE: 0xa1, IDENTIFY_DEVICE: 0xec } as const;
/** Operation codes the replay follows in a command packet: SPC-3 Table 10 (REQUEST SENSE, INQUIRY), MMC-5 Table 8. */
const OperationCode = { REQUEST_SENSE: 0x03, INQUIRY: 0x12, GET_CONFIGURATION: 0x46, GET_EVENT_STATUS_NOTIFICATION: 0x4a } as const;
/** INQUIRY's byte 1 bit 0 (SPC-3 6.4.1): EVPD, the page in byte 2 is asked for rather than the standard data. */
const INQUIRY_EVPD = 0x01;
/** SPC-3 7.6.3: the Device Identification VPD page. */
const DEVICE_IDENTIFICATION_PAGE = 0x83;

/** Whether a read is of the packet drive's data port during the data of `opcode`'s command packet. */
function packetData(c: ReadContext, opcode: number): boolean {
  const drive = c.packetDrive;
  return pio(SECONDARY_IDE.command)(c) && drive?.device === 0 && drive.command === AtaCommand.PACKET && drive.cdb[0] === opcode;
}

/** Whether a read is of IDENTIFY PACKET DEVICE data on the packet drive's data port. */
const identifyPacketData = (c: ReadContext) => pio(SECONDARY_IDE.command)(c) && c.packetDrive?.command === AtaCommand.IDENTIFY_PACKET_DEVICE && c.identifyWord >= 0;

/** The bits of an IDENTIFY data-port read that `wordBits` names (a 32-bit read holds two words); 0 outside IDENTIFY data. */
function identifyBitsIn(c: ReadContext, wordBits: (word: number) => number): number {
  if (c.identifyWord < 0) return 0;
  let bits = 0;
  for (let i = 0; i < c.record.size / 2; i++) bits |= (wordBits(c.identifyWord + i) & 0xffff) << (16 * i);
  return bits;
}

/** The bits of a packet-drive data-port read that `byteBits` names for each byte of the command's data it holds. */
function dataBitsIn(c: ReadContext, byteBits: (offset: number) => number): number {
  const from = c.packetDrive?.dataBytes ?? 0;
  let bits = 0;
  for (let i = 0; i < c.record.size; i++) bits |= (byteBits(from + i) & 0xff) << (8 * i);
  return bits;
}

/** Byte `offset` of the command's data in `value`, a packet-drive data-port read; undefined when the read does not hold it. */
function dataByte(c: ReadContext, value: number, offset: number): number | undefined {
  const i = offset - (c.packetDrive?.dataBytes ?? 0);
  return i >= 0 && i < c.record.size ? (value >>> (8 * i)) & 0xff : undefined;
}

/**
 * Registers whose value is a function of the time it is read. The replay
 * issues each access at its recorded t, but t is QEMU's host wall clock at
 * 1 µs, QEMU's clocks started at its reset (before the first record), and
 * the guest's instructions between accesses are not replayed: equal values
 * are counted identical, differences in these bits time-dependent.
 */
export const TIME_DEPENDENT: readonly VolatileRegister[] = [
  { device: 'pit', register: 'counter 0-2 (40h-42h)', matches: (c) => c.record.kind === 'pio' && c.record.addr >= 0x40 && c.record.addr <= 0x42, bits: 0xff,
    why: '8254 datasheet: a counter read (latched or not) is the count down since the load; a read-back status byte carries OUT and NULL COUNT, which change with the count' },
  { device: 'pit', register: 'port 61h OUT2 and REFRESH (bits 5, 4)', matches: pio(0x61), bits: 0x30,
    why: 'IBM PC/AT technical reference: bit 5 is counter 2\'s OUT, bit 4 toggles with each DRAM refresh request (every 15 µs)' },
  { device: 'pm-timer', register: 'PM_TMR (608h)', matches: pio(0x608), bits: 0xffff_ffff,
    why: 'ACPI 4.7.3.3: a free-running 3.579545 MHz count; QEMU\'s started at its reset, before the first record' },
  { device: 'hpet', register: 'main counter (F0h, F4h)', matches: (c) => c.record.kind === 'mmio' && (c.record.addr === 0xfed0_00f0 || c.record.addr === 0xfed0_00f4), bits: 0xffff_ffff,
    why: 'IA-PC HPET 1.0a 2.3.4: the main counter counts up at the period in GCAP_ID while enabled' },
  { device: 'rtc', register: 'time and date (CMOS 00h-09h, 32h)', matches: cmos(0, 2, 4, 6, 7, 8, 9, 0x32), bits: 0xff,
    why: 'MC146818 datasheet: seconds to year advance once a second; QEMU starts them from the host clock, this RTC from 2000-01-01' },
  { device: 'rtc', register: 'alarm (CMOS 01h, 03h, 05h)', matches: cmos(1, 3, 5), bits: 0xff,
    why: 'QEMU 7.2 sets the alarm registers from its start time at power-on (seen in the shared traces: equal to the time registers); no hardware reset value exists' },
  { device: 'rtc', register: 'register A UIP (bit 7)', matches: cmos(0x0a), bits: 0x80,
    why: 'MC146818 datasheet: UIP is set for 244 µs before each once-a-second update' },
  { device: 'rtc', register: 'register C flags (bits 7-4)', matches: cmos(0x0c), bits: 0xf0,
    why: 'MC146818 datasheet: IRQF, PF, AF and UF are set by the periodic, alarm and update events as time passes, and cleared by the read' },
  { device: 'lapic', register: 'timer current count (FEE00390h)', matches: (c) => c.record.kind === 'mmio' && c.record.addr === 0xfee0_0390, bits: 0xffff_ffff,
    why: 'Intel SDM 3A 11.5.4: the current count counts down from the initial count at the divided bus clock' },
  { device: 'pic', register: 'IRR (20h, A0h after OCW3 RR=1 RIS=0)', matches: (c) => c.record.kind === 'pio' && ((c.record.addr === 0x20 && !c.picReadsIsr[0]) || (c.record.addr === 0xa0 && !c.picReadsIsr[1])), bits: 0xff,
    why: '8259A datasheet: the IRR is the request lines as they stand at the read; the timer and serial lines rise when their time comes (COM1\'s THRE as LSR THRE below), and open loop no CPU acknowledges them' },
  { device: 'disk', register: 'ATA status BSY/DRQ (1F7h, 3F6h bits 7, 3) while a command is busy', matches: (c) => c.record.kind === 'pio' && (c.record.addr === 0x1f7 || c.record.addr === 0x3f6), bits: 0x88,
    when: (ours, qemu) => ((ours | qemu) & 0x80) !== 0,
    why: 'ATA-8 ATA/ATAPI 5.3: BSY holds until the drive has the data and DRQ rises; QEMU reads the image asynchronously, this drive at once (counted only when one side shows BSY)' },
  { device: 'vga', register: 'input status 1 (3DAh, 3BAh)', matches: (c) => c.record.kind === 'pio' && (c.record.addr === 0x3da || c.record.addr === 0x3ba), bits: 0x09,
    why: 'IBM VGA technical reference: vertical retrace (bit 3) and display enable (bit 0) follow the beam' },
  { device: 'serial', register: 'LSR THRE and TEMT (3FDh bits 5, 6)', matches: pio(0x3fd), bits: 0x60,
    why: 'PC16550D datasheet: THRE and TEMT are clear until the transmitter has taken the character; this UART shifts it out at the programmed baud rate, QEMU\'s as soon as its chardev accepts it' },
  { device: 'serial', register: 'IIR THRE interrupt (3FAh, id 2 vs none)', matches: pio(0x3fa), bits: 0x03,
    why: 'PC16550D datasheet: the THR-empty interrupt is pending once THRE sets, which is timed as LSR THRE is' },
];

/**
 * CMOS bytes QEMU's `pc` machine fills from its configuration at power-on
 * (memory size, drives, boot order, CPUs); a bare MC146818 holds whatever
 * firmware last wrote. And the optional commands a drive says it offers.
 * Listed in the report when they explain a difference.
 */
export const CONFIGURATION_DEPENDENT: readonly VolatileRegister[] = [
  { device: 'rtc', register: 'CMOS 10h floppy types, 12h/19h/1Ah fixed-disk types, 14h equipment', matches: cmos(0x10, 0x12, 0x14, 0x19, 0x1a), bits: 0xff,
    why: 'IBM PC/AT CMOS map: set by setup from the drives attached; QEMU writes them from -drive' },
  { device: 'rtc', register: 'CMOS 15h-18h, 30h-31h base and extended memory', matches: cmos(0x15, 0x16, 0x17, 0x18, 0x30, 0x31), bits: 0xff,
    why: 'IBM PC/AT CMOS map: memory sizes, which QEMU writes from -m' },
  { device: 'rtc', register: 'CMOS 1Bh-24h fixed-disk geometry, 39h translation', matches: cmos(0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x39), bits: 0xff,
    why: 'Bochs/SeaBIOS CMOS layout: cylinders, heads and sectors of the first disks, which QEMU writes from the drives' },
  { device: 'rtc', register: 'CMOS 34h-35h, 5Bh-5Dh memory above 16 MiB and 4 GiB', matches: cmos(0x34, 0x35, 0x5b, 0x5c, 0x5d), bits: 0xff,
    why: 'Bochs/SeaBIOS CMOS layout: memory sizes in 64 KiB units, from -m' },
  { device: 'rtc', register: 'CMOS 38h, 3Dh boot order', matches: cmos(0x38, 0x3d), bits: 0xff,
    why: 'Bochs/SeaBIOS CMOS layout: boot devices, from -boot' },
  { device: 'rtc', register: 'CMOS 5Fh CPU count', matches: cmos(0x5f), bits: 0xff,
    why: 'Bochs/SeaBIOS CMOS layout: CPUs less one, from -smp' },
  { device: 'debugcon', register: 'debug port 402h read where the trace\'s QEMU had no isa-debugcon (region io)', matches: (c) => pio(0x402)(c) && c.record.mr === 'io', bits: 0xff,
    why: 'QEMU answers an unassigned port with all ones; the Linux traces\' QEMU put its isa-debugcon at 404h (their phase markers), this board has one at 402h, where SeaBIOS looks for E9h' },
  { device: 'disk', register: 'IDENTIFY DEVICE words 84 and 87 bit 6 (WRITE DMA FUA EXT, WRITE MULTIPLE FUA EXT)', matches: (c) => pio(PRIMARY_IDE.command)(c) && fuaBitsIn(c) !== 0, bits: 0, bitsIn: fuaBitsIn,
    why: 'ATA/ATAPI-7 IDENTIFY DEVICE: the FUA write commands are optional; this build\'s drive offers them, QEMU\'s IDE disk does not (the disk package can build it without: forceUnitAccess false)' },
  { device: 'cdrom', register: 'IDENTIFY PACKET DEVICE words 82-87 (DEVICE RESET, PACKET and power management feature sets)', matches: (c) => identifyPacketData(c) && packetFeatureBitsIn(c) !== 0, bits: 0, bitsIn: packetFeatureBitsIn,
    when: (_ours, qemu, c) => (qemu & packetFeatureBitsIn(c)) === 0,
    why: 'ATA/ATAPI-6 IDENTIFY PACKET DEVICE: words 82-87 name the feature sets a drive implements (PACKET shall be set for a PACKET device) and bit 14 of 83, 84 and 87 marks them valid; this drive claims DEVICE RESET, PACKET and power management (words 82/85 bits 9, 4, 3), QEMU\'s ide-cd leaves all six zero' },
];

/** IDENTIFY words 84 and 87 bit 6, where a data-port read holds them. */
function fuaBitsIn(c: ReadContext): number {
  return identifyBitsIn(c, (word) => (word === 84 || word === 87 ? 0x0040 : 0));
}

/** IDENTIFY PACKET DEVICE words 82-87 as this drive sets them: supported (82) and enabled (85) DEVICE RESET, PACKET, power management; 83, 84, 87 valid. */
const PACKET_FEATURE_WORDS: ReadonlyMap<number, number> = new Map([[82, 0x0218], [83, 0x4000], [84, 0x4000], [85, 0x0218], [87, 0x4000]]);

function packetFeatureBitsIn(c: ReadContext): number {
  return identifyBitsIn(c, (word) => PACKET_FEATURE_WORDS.get(word) ?? 0);
}

/**
 * IDENTIFY DEVICE words that describe the drive's image and its product
 * strings rather than the emulation (ATA-8 ACS 7.16): the replay's drive is
 * a blank image of the same size, but names itself as this build does.
 */
export const IMAGE_DEPENDENT_IDENTIFY_WORDS: readonly (readonly [number, number, string])[] = [
  [1, 1, 'default cylinders'], [3, 3, 'default heads'], [6, 6, 'default sectors per track'],
  [10, 19, 'serial number'], [23, 26, 'firmware revision'], [27, 46, 'model number'],
  [54, 58, 'current CHS capacity'], [60, 61, 'user addressable sectors'], [100, 103, 'LBA48 sectors'],
  [108, 111, 'world wide name'], [255, 255, 'integrity word (checksum over all the others)'],
];

/** IDENTIFY PACKET DEVICE's product strings (ATA/ATAPI-6): the drive has no image size to report, only its name. */
export const IMAGE_DEPENDENT_IDENTIFY_PACKET_WORDS: readonly (readonly [number, number, string])[] = [
  [10, 19, 'serial number'], [23, 26, 'firmware revision'], [27, 46, 'model number'],
];

const wordRanges = (words: readonly (readonly [number, number, string])[]) => words.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(', ');
const inRanges = (words: readonly (readonly [number, number, string])[], word: number) => words.some(([from, to]) => word >= from && word <= to);

/**
 * Reads that name the drive or describe its image rather than the emulation:
 * the disk's IDENTIFY DEVICE words above, and the CD-ROM's product strings in
 * IDENTIFY PACKET DEVICE and INQUIRY, which name this build's drive where
 * QEMU's name its own (QEMU DVD-ROM, QM00003, 2.5+). Only those words and
 * bytes may differ.
 */
export const IMAGE_DEPENDENT: readonly VolatileRegister[] = [
  { device: 'disk', register: `IDENTIFY DEVICE words ${wordRanges(IMAGE_DEPENDENT_IDENTIFY_WORDS)}`, matches: (c) => pio(PRIMARY_IDE.command)(c) && c.identifyWord >= 0, bits: 0,
    bitsIn: (c) => identifyBitsIn(c, (word) => (inRanges(IMAGE_DEPENDENT_IDENTIFY_WORDS, word) ? 0xffff : 0)),
    why: 'ATA-8 ACS 7.16: product strings and capacity of the drive, not of the emulation' },
  { device: 'cdrom', register: `IDENTIFY PACKET DEVICE words ${wordRanges(IMAGE_DEPENDENT_IDENTIFY_PACKET_WORDS)} (serial, firmware revision, model)`, matches: identifyPacketData, bits: 0,
    bitsIn: (c) => identifyBitsIn(c, (word) => (inRanges(IMAGE_DEPENDENT_IDENTIFY_PACKET_WORDS, word) ? 0xffff : 0)),
    why: 'ATA/ATAPI-6 IDENTIFY PACKET DEVICE: the drive\'s product strings, which name this build\'s drive, as the disk\'s IDENTIFY strings do' },
  { device: 'cdrom', register: 'INQUIRY standard data bytes 8-35 (vendor, product, revision)', matches: (c) => packetData(c, OperationCode.INQUIRY) && ((c.packetDrive?.cdb[1] ?? 0) & INQUIRY_EVPD) === 0, bits: 0,
    bitsIn: (c) => dataBitsIn(c, (offset) => (offset >= 8 && offset <= 35 ? 0xff : 0)),
    why: 'SPC-3 6.4.2: T10 vendor identification, product identification and product revision level are the product\'s, here this build\'s drive' },
];

/**
 * Registers whose value depends on guest memory an I/O trace does not
 * record: the replay's RAM holds zeros where QEMU's guest had written tables
 * the device reads by DMA.
 */
export const MEMORY_DEPENDENT: readonly VolatileRegister[] = [
  { device: 'disk', register: 'bus master status Active (C002h bit 0) after a transfer', matches: pio(0xc002), bits: 0x01,
    why: 'PIIX3 datasheet 2.7.2 (BMISX) / SFF-8038i: Active clears when the transfer reaches the PRD table\'s entry marked EOT; the table is in guest memory, which a trace of I/O does not hold — here it reads as zeros, entries of 64 KiB with no end, so Active stays set beside Interrupt' },
];

/**
 * Registers where QEMU (whose TCG devices recorded the shared traces) departs
 * from the datasheet and this build follows the datasheet, as KVM's in-kernel
 * devices do. Counted apart — never as identical — with the section that
 * decides it, so the choice is visible in every report.
 */
export const QEMU_DEVIATES: readonly VolatileRegister[] = [
  { device: 'lapic', register: 'LVT mask (FEE00320h-FEE00370h bit 16) after a software disable', matches: (c) => c.record.kind === 'mmio' && c.record.addr >= 0xfee0_0320 && c.record.addr <= 0xfee0_0370, bits: 0x1_0000,
    when: (ours) => (ours & 0x1_0000) !== 0,
    why: "Intel SDM 3A 11.4.7.2: while the local APIC is software-disabled every LVT mask bit is set, and they stay set when it is enabled again until written (KVM's in-kernel LAPIC does the same); QEMU's TCG APIC leaves them" },
  { device: 'cdrom', register: 'Status (177h, 376h) 00h before the first reset', bits: 0xff,
    matches: (c) => (pio(SECONDARY_IDE.command + 7)(c) || pio(SECONDARY_IDE.control)(c)) && c.packetDrive?.device === 0 && c.packetDrive.powerOn,
    when: (ours, qemu) => ours === 0x00 && qemu === 0x50,
    why: 'ATA/ATAPI-6 (PACKET command feature set): a PACKET device leaves DRDY clear after every reset, power-on included, until a command completes; QEMU\'s shows 50h until its first SRST (and 00h after it, as here)' },
  { device: 'cdrom', register: 'Error (171h) of the command that met the power-on UNIT ATTENTION', bits: 0xf0,
    matches: (c) => pio(SECONDARY_IDE.command + 1)(c) && c.packetDrive?.device === 0 && c.packetDrive.unitAttention === 'error',
    when: (ours) => ours === 0x60,
    why: 'SAM-3 (unit attention condition): a logical unit has UNIT ATTENTION 29h (POWER ON, RESET, OR BUS DEVICE RESET OCCURRED) pending after power-on, and the first command but INQUIRY, REQUEST SENSE (and MMC-5\'s GET CONFIGURATION, GET EVENT STATUS NOTIFICATION) fails with it: sense key 6 in Error bits 7-4 (ATA/ATAPI-6, PACKET); QEMU\'s drive has none, and says what the command meets next (2, NOT READY)' },
  { device: 'cdrom', register: 'REQUEST SENSE data bytes 2, 12, 13 (sense key, ASC, ASCQ) after the power-on UNIT ATTENTION', bits: 0,
    matches: (c) => packetData(c, OperationCode.REQUEST_SENSE) && c.packetDrive?.unitAttention === 'sense',
    bitsIn: (c) => dataBitsIn(c, (offset) => (offset === 2 || offset === 12 || offset === 13 ? 0xff : 0)),
    when: (ours, _qemu, c) => UNIT_ATTENTION_SENSE.every(([offset, value]) => {
      const byte = dataByte(c, ours, offset);
      return byte === undefined || byte === value;
    }),
    why: 'SAM-3, SPC-3 fixed-format sense data: the REQUEST SENSE after the command that met the power-on UNIT ATTENTION returns it, sense key 6, ASC 29h, ASCQ 00h; QEMU\'s returns what its drive had instead (2/3Ah/00h, MEDIUM NOT PRESENT)' },
  { device: 'cdrom', register: 'REQUEST SENSE data byte 0 VALID (bit 7)', bits: 0,
    matches: (c) => packetData(c, OperationCode.REQUEST_SENSE) && c.packetDrive?.dataBytes === 0,
    bitsIn: (c) => dataBitsIn(c, (offset) => (offset === 0 ? 0x80 : 0)),
    when: (ours, qemu) => (ours & 0x80) === 0 && (qemu & 0x80) !== 0,
    why: 'SPC-3 fixed-format sense data: VALID says the INFORMATION field holds what the command defines (the block a read failed at); no command here defines it, so VALID is clear; QEMU sets it always (F0h) with INFORMATION zero' },
  { device: 'cdrom', register: 'task file (171h, 172h, 174h, 175h, 177h, 376h) while answering VPD page 83h', bits: 0xff,
    matches: (c) => c.packetDrive?.deviceIdentification?.qemuFailed === true && deviceIdentificationRegister(c) !== undefined,
    when: (ours, _qemu, c) => ours === deviceIdentificationRegister(c),
    why: 'SPC-3 7.6.3: Device Identification is the VPD page a device shall have (page 00h lists it, here and in QEMU); this drive sends the bytes asked for — Status 58h, Interrupt Reason 02h (I/O), Error 00h, the Byte Count; 50h and 03h once they are read — where QEMU fails the request (41h, Error 50h: ILLEGAL REQUEST). Holding DRQ, it does not take the REQUEST SENSE Linux sends next (ATA/ATAPI-6: the Command Block is the device\'s while DRQ is set), so these last until it is read' },
  { device: 'cdrom', register: 'data (170h) of the VPD page 83h reply', bits: 0xffff_ffff, // any byte: `when` checks each against the page
    matches: (c) => pio(SECONDARY_IDE.command)(c) && c.packetDrive?.deviceIdentification?.qemuFailed === true,
    when: (ours, _qemu, c) => deviceIdentificationData(c, ours),
    why: 'SPC-3 7.6.3: what Linux reads as the sense data of its REQUEST SENSE is, here, the page it asked for — device type 05h, page 83h, the page length, a T10 vendor ID designator (ASCII, the vendor and product) — up to the allocation length, then 00h (no DRQ)' },
  { device: 'cdrom', register: 'bus master status Interrupt (C00Ah bit 2) after a command this drive did not take', bits: 0x04,
    matches: (c) => pio(SECONDARY_IDE.busMaster + 2)(c) && c.packetDrive?.deviceIdentification?.qemuFailed === true && c.packetDrive.deviceIdentification.commandsNotTaken > 0,
    when: (ours, qemu) => (ours & 0x04) === 0 && (qemu & 0x04) !== 0,
    why: 'PIIX3 datasheet 2.7.2 (BMISX): Interrupt is set by the channel\'s IDE interrupt; QEMU\'s drive raised it for the REQUEST SENSE this drive did not take (still holding the VPD page 83h reply)' },
];

/** Sense key, ASC and ASCQ of UNIT ATTENTION, POWER ON, RESET, OR BUS DEVICE RESET OCCURRED (SPC-3 Annex D), by their offset in fixed-format sense data. */
const UNIT_ATTENTION_SENSE: readonly (readonly [number, number])[] = [[2, 0x06], [12, 0x29], [13, 0x00]];

/** What this drive's register shows while it holds (or has sent) the VPD page 83h reply; undefined for other registers. */
function deviceIdentificationRegister(c: ReadContext): number | undefined {
  const reply = c.packetDrive?.deviceIdentification;
  if (reply === undefined || c.record.kind !== 'pio') return undefined;
  const sending = (c.packetDrive?.dataBytes ?? 0) < reply.transfer;
  switch (c.record.addr) {
    case SECONDARY_IDE.command + 1: return 0x00; // Error: GOOD status, no sense key
    case SECONDARY_IDE.command + 2: return sending ? 0x02 : 0x03; // Interrupt Reason: I/O, data to the host; then C/D + I/O, status
    case SECONDARY_IDE.command + 4: return reply.transfer & 0xff; // Byte Count: the one DRQ block
    case SECONDARY_IDE.command + 5: return reply.transfer >> 8;
    case SECONDARY_IDE.command + 7:
    case SECONDARY_IDE.control: return sending ? 0x58 : 0x50; // DRDY, DSC, and DRQ while the bytes are there
    default: return undefined;
  }
}

/**
 * Whether a data-port read holds what this drive's Device Identification page has there (SPC-3 7.6.3 and Table 298):
 * the page header (device type 05h, page code 83h, the length of what follows: the designator, at least its header,
 * vendor and product), the designator's header (code set 2: ASCII; association 0, type 1: T10 vendor ID based), its
 * ASCII; past the reply the data port gives 00h.
 */
function deviceIdentificationData(c: ReadContext, value: number): boolean {
  const reply = c.packetDrive?.deviceIdentification;
  if (reply === undefined) return false;
  for (let offset = c.packetDrive?.dataBytes ?? 0, i = 0; i < c.record.size; offset++, i++) {
    const byte = (value >>> (8 * i)) & 0xff;
    const fits = offset >= reply.transfer ? byte === 0
      : offset < DEVICE_IDENTIFICATION_HEAD.length ? DEVICE_IDENTIFICATION_HEAD[offset]?.(byte) === true
        : byte >= 0x20 && byte <= 0x7e;
    if (!fits) return false;
  }
  return true;
}

const DEVICE_IDENTIFICATION_HEAD: readonly ((byte: number) => boolean)[] = [
  (b) => b === 0x05, (b) => b === DEVICE_IDENTIFICATION_PAGE, (b) => b === 0x00, (b) => b >= 4 + 8 + 16,
  (b) => b === 0x02, (b) => b === 0x01, (b) => b === 0x00, (b) => b >= 8 + 16,
];

export type ReadClass = 'identical' | 'time-dependent' | 'configuration-dependent' | 'memory-dependent' | 'image-dependent' | 'qemu-deviates' | 'mismatch';

function explained(table: readonly VolatileRegister[], c: ReadContext, ours: number): VolatileRegister | undefined {
  return table.find((r) => r.matches(c) && ((ours ^ c.record.value) & ~(r.bitsIn?.(c) ?? r.bits)) === 0 && (r.when?.(ours, c.record.value, c) ?? true));
}

/** The tables in the order a difference is looked up, each with its class. */
const EXPLANATIONS: readonly (readonly [ReadClass, readonly VolatileRegister[]])[] = [
  ['time-dependent', TIME_DEPENDENT], ['configuration-dependent', CONFIGURATION_DEPENDENT], ['memory-dependent', MEMORY_DEPENDENT],
  ['qemu-deviates', QEMU_DEVIATES], ['image-dependent', IMAGE_DEPENDENT],
];

/** Which class a modelled read falls in, and the register that explains it. */
export function classifyRead(c: ReadContext, ours: number): { class: ReadClass; register?: VolatileRegister } {
  if (ours === c.record.value) return { class: 'identical' };
  for (const [cls, table] of EXPLANATIONS) {
    const register = explained(table, c, ours);
    if (register !== undefined) return { class: cls, register };
  }
  return { class: 'mismatch' };
}

// --- the IDE channels, as the trace drives them --------------------------------------------

/** Device Control (ATA/ATAPI-6): SRST, bit 2. Status: ERR, bit 0. */
const DEVICE_CONTROL_SRST = 0x04;
const STATUS_ERR = 0x01;
/** Commands that neither report nor clear a pending UNIT ATTENTION: SAM-3's INQUIRY and REQUEST SENSE (which returns it), MMC-5's GET CONFIGURATION and GET EVENT STATUS NOTIFICATION. */
const UNIT_ATTENTION_EXEMPT: ReadonlySet<number> = new Set([
  OperationCode.INQUIRY, OperationCode.REQUEST_SENSE, OperationCode.GET_CONFIGURATION, OperationCode.GET_EVENT_STATUS_NOTIFICATION,
]);
/**
 * The longest VPD page 83h request whose reply the replay can tell: the page header and the designator's header,
 * vendor and product (4 + 4 + 8 + 16 bytes) — what follows, the serial, sets the page's length.
 */
const DEVICE_IDENTIFICATION_FIXED_BYTES = 32;

/**
 * One IDE channel followed from the trace's accesses, so that a read is compared in the context of the command it
 * belongs to: DEV of the Device register, the command written for device 0, a PACKET command's command packet, the
 * bytes the data port gave since. On the packet drive's channel also what makes this drive answer otherwise than
 * QEMU's there (the power-on state and UNIT ATTENTION, the VPD page 83h reply; QEMU_DEVIATES).
 */
class IdeChannelTrack {
  private readonly ports: IdePorts;
  private readonly hasPacketDrive: boolean;
  private device: 0 | 1 = 0;
  private powerOn = true;
  private command = -1;
  private cdb: number[] = [];
  private receivingCdb = false;
  private dataBytes = 0;
  /** Byte Count Low/High (174h/175h) as last written: a PACKET command's byte count limit. */
  private byteCountLimit = 0;
  /**
   * The power-on UNIT ATTENTION: pending; reported (by the command that met it); then, if that command's successor is
   * a PACKET command, `next` until its packet says whether it is the REQUEST SENSE that returns it (`in-sense`); cleared.
   */
  private attention: 'pending' | 'reported' | 'next' | 'in-sense' | 'cleared' = 'pending';
  private reply: { transfer: number; qemuFailed: boolean; commandsNotTaken: number } | undefined;

  constructor(ports: IdePorts, hasPacketDrive: boolean) {
    this.ports = ports;
    this.hasPacketDrive = hasPacketDrive;
  }

  holds(record: TraceRecord): boolean {
    const { command, control, busMaster } = this.ports;
    return record.kind === 'pio' && ((record.addr >= command && record.addr < command + 8) || record.addr === control
      || (record.addr >= busMaster && record.addr < busMaster + 8));
  }

  write(record: TraceRecord): void {
    const { addr, size, value } = record;
    if (addr === this.ports.control) {
      if ((value & DEVICE_CONTROL_SRST) !== 0) this.reset();
      return;
    }
    const offset = addr - this.ports.command;
    if (offset < 0 || offset > 7) return;
    if (this.reply !== undefined && this.dataBytes < this.reply.transfer) {
      // ATA/ATAPI-6: while DRQ is set the Command Block is the device's; this drive ignores writes to it, but DEVICE RESET.
      if (offset !== 7 || value !== AtaCommand.DEVICE_RESET) {
        if (offset === 7) this.reply.commandsNotTaken++;
        return;
      }
    }
    switch (offset) {
      case 0:
        if (!this.receivingCdb) return;
        for (let i = 0; i < size; i++) this.cdb.push((value >>> (8 * i)) & 0xff);
        if (this.cdb.length >= 12) this.cdbWritten();
        return;
      case 4: this.byteCountLimit = (this.byteCountLimit & 0xff00) | (value & 0xff); return;
      case 5: this.byteCountLimit = (this.byteCountLimit & 0x00ff) | ((value & 0xff) << 8); return;
      case 6: this.device = (value & 0x10) === 0 ? 0 : 1; return; // DEV, bit 4
      case 7: if (this.device === 0) this.commandWritten(value & 0xff); return;
      default:
    }
  }

  /** The read's context; then the data port moves on. QEMU's Status in the read is the trace's word on how its command ended. */
  read(record: TraceRecord): { identifyWord: number; packetDrive?: PacketDriveContext } {
    const { command, control } = this.ports;
    const status = record.addr === command + 7 || record.addr === control;
    if (this.reply?.commandsNotTaken === 0 && status && (record.value & STATUS_ERR) !== 0) this.reply.qemuFailed = true;
    const data = record.addr === command && this.device === 0;
    // ATA-8 ACS 7.16/7.17: IDENTIFY DEVICE (ECh) and IDENTIFY PACKET DEVICE (A1h) answer with 256 data words.
    const identifying = this.command === AtaCommand.IDENTIFY_DEVICE || this.command === AtaCommand.IDENTIFY_PACKET_DEVICE;
    const identifyWord = data && identifying && this.dataBytes < 512 ? this.dataBytes >> 1 : -1;
    const context = this.hasPacketDrive ? { identifyWord, packetDrive: this.packetDriveContext() } : { identifyWord };
    if (data) this.dataBytes += record.size;
    return context;
  }

  private packetDriveContext(): PacketDriveContext {
    const unitAttention = this.attention === 'reported' ? 'error' : this.attention === 'in-sense' ? 'sense' : undefined;
    return {
      powerOn: this.powerOn, device: this.device, command: this.command, cdb: this.receivingCdb ? [] : [...this.cdb], dataBytes: this.dataBytes,
      ...(unitAttention === undefined ? {} : { unitAttention }),
      ...(this.reply === undefined ? {} : { deviceIdentification: { ...this.reply } }),
    };
  }

  /** SRST: the command is over, device 0 selected; a packet drive's UNIT ATTENTION and sense data stay (only its ATA side resets). */
  private reset(): void {
    this.powerOn = false;
    this.device = 0;
    this.command = -1;
    this.cdb = [];
    this.receivingCdb = false;
    this.dataBytes = 0;
    this.reply = undefined;
  }

  private commandWritten(code: number): void {
    this.powerOn = false;
    this.command = code;
    this.cdb = [];
    this.receivingCdb = code === AtaCommand.PACKET;
    this.dataBytes = 0;
    this.reply = undefined;
    if (this.attention === 'reported') this.attention = code === AtaCommand.PACKET ? 'next' : 'cleared';
    else if (this.attention === 'next' || this.attention === 'in-sense') this.attention = 'cleared';
  }

  private cdbWritten(): void {
    this.receivingCdb = false;
    this.cdb.length = 12;
    const [opcode = -1, flags = 0, page = 0, allocationHigh = 0, allocationLow = 0] = this.cdb;
    // SAM-3: REQUEST SENSE returns a pending UNIT ATTENTION, or the one the last command reported; any other command but
    // the exempt ones reports a pending one, and one reported is gone with the next command.
    if ((this.attention === 'pending' || this.attention === 'next') && opcode === OperationCode.REQUEST_SENSE) this.attention = 'in-sense';
    else if (this.attention === 'pending' && !UNIT_ATTENTION_EXEMPT.has(opcode)) this.attention = 'reported';
    else if (this.attention === 'next') this.attention = 'cleared';
    if (opcode === OperationCode.INQUIRY && (flags & INQUIRY_EVPD) !== 0 && page === DEVICE_IDENTIFICATION_PAGE) {
      const allocation = (allocationHigh << 8) | allocationLow;
      // One DRQ block of the bytes asked for, when the replay can tell them; else the reads stay compared as they are.
      if (allocation <= DEVICE_IDENTIFICATION_FIXED_BYTES && allocation <= this.byteCountLimit) this.reply = { transfer: allocation, qemuFailed: false, commandsNotTaken: 0 };
    }
  }
}

// --- the report ---------------------------------------------------------------------------

export interface Mismatch {
  readonly t: number;
  readonly at: string;
  readonly size: number;
  readonly ours: string;
  readonly qemu: string;
}

export interface DeviceFidelity {
  /** QEMU's MemoryRegion name. */
  readonly mr: string;
  /** This board's device at those addresses. */
  readonly device: DeviceName;
  readonly reads: number;
  readonly identical: number;
  readonly timeDependent: number;
  readonly configurationDependent: number;
  readonly memoryDependent: number;
  readonly imageDependent: number;
  /** Reads where QEMU departs from the datasheet, which this build follows (QEMU_DEVIATES). */
  readonly qemuDeviates: number;
  readonly mismatches: number;
  /** identical / (reads − time-, configuration-, memory- and image-dependent − QEMU's deviations), percent; 100 when there is nothing to compare. */
  readonly identicalPercent: number;
  readonly firstMismatches: readonly Mismatch[];
}

export interface UnmodelledRegion {
  readonly mr: string;
  readonly reads: number;
  readonly writes: number;
}

/** With the exits by boundary and by device and their modelled overhead (share of guest time to 4 decimals). */
export interface ReplayReport extends ExitReport {
  readonly trace: string;
  readonly profile: string;
  readonly irqchip: string;
  readonly costModel: string;
  readonly records: number;
  readonly reads: number;
  readonly writes: number;
  /** Guest time the replay covered: the last record's t, ns. */
  readonly spanNs: number;
  readonly interruptMessagesDropped: number;
  readonly fidelity: readonly DeviceFidelity[];
  readonly unmodelled: readonly UnmodelledRegion[];
  /** The registers that explained at least one difference, by class, with why. */
  readonly explainedBy: readonly { readonly class: ReadClass; readonly device: string; readonly register: string; readonly reads: number; readonly why: string }[];
  /** The fidelity target: at least this share of the reads that are neither time-, configuration-, memory- nor image-dependent identical, per device. */
  readonly target: { readonly percent: number; readonly met: boolean; readonly below: readonly string[] };
}

export const FIDELITY_TARGET_PERCENT = 99.5;

export interface ReplayOptions {
  /** A profile's name, or where the placement comes from. */
  readonly profile: PlacementChoice;
  /** Replay only the first `limit` records. */
  readonly limit?: number;
  readonly costModel?: string;
  /** A raw image for the primary master, or `blank`: a blank 16 MiB one, the disk the shared traces were recorded with. None: no drives. */
  readonly disk?: string;
  /** A raw diskette image for drive A, or `blank`: a blank 1.44 MB one, as the shared SeaBIOS trace had. None: no drives. */
  readonly floppy?: string;
  /** Told every few thousand records how many of them are replayed. */
  readonly progress?: (done: number, total: number) => void;
}

/** Size of the blank disk the shared traces' QEMU had (`truncate -s 16M disk.img`, see their README). */
const BLANK_DISK_BYTES = 16 * 1024 * 1024;
/** A 1.44 MB diskette: 80 cylinders × 2 heads × 18 sectors of 512 bytes. */
const BLANK_FLOPPY_BYTES = 80 * 2 * 18 * 512;

const hex = (n: number) => `0x${n.toString(16)}`;

interface Tally {
  mr: string; device: DeviceName; reads: number; identical: number; timeDependent: number;
  configurationDependent: number; memoryDependent: number; imageDependent: number; qemuDeviates: number; mismatches: number; firstMismatches: Mismatch[];
}

/** Replays `records` under the profile; `trace` names them in the report. */
export async function replayRecords(trace: string, records: readonly TraceRecord[], options: ReplayOptions, interruptMessagesDropped = 0): Promise<ReplayReport> {
  const { label, placement } = choosePlacement(options.profile);
  const modelName = options.costModel ?? placement.costModel;
  const model = costModel(modelName);
  if (model === undefined) throw new CliError(`unknown cost model "${modelName}" (this build has: ${COST_MODELS.map((m) => m.name).join(', ')})`);
  const replayed = options.limit === undefined ? records : records.slice(0, options.limit);

  const { disk, floppy } = options;
  let vm: Vm;
  try {
    // 256 MiB of RAM, as the traces' QEMU (-m 256): DMA addresses the guest programmed must be backed.
    vm = new Vm(placement, new IdleCpu(), {
      board: {
        memoryBytes: 256 * 1024 * 1024,
        // Blank media in memory: nothing is written to the host.
        ...(disk === undefined ? {} : disk === 'blank' ? { diskBlankBytes: BLANK_DISK_BYTES } : { diskImage: disk, diskReadOnly: true }),
        ...(floppy === undefined ? {} : floppy === 'blank' ? { floppyBlankBytes: BLANK_FLOPPY_BYTES } : { floppyImage: floppy }),
      },
    });
  } catch (error) {
    if (error instanceof VmError) throw new CliError(error.message);
    throw error;
  }

  // The devices this placement has, wherever each was created; anything else in the trace is unmodelled.
  const windows = vm.deviceWindows();
  const deviceAt = (r: TraceRecord): DeviceName | undefined => {
    const space = r.kind === 'pio' ? 'port' : 'mmio';
    for (const w of windows) if (w.space === space && r.addr >= w.base && r.addr + r.size <= w.base + w.length) return w.name as DeviceName;
    return undefined;
  };
  const tallies = new Map<string, Tally>();
  const unmodelled = new Map<string, UnmodelledRegion & { reads: number; writes: number }>();
  const explainedCounts = new Map<VolatileRegister, { class: ReadClass; reads: number }>();
  let rtcIndex = 0;
  const picReadsIsr: [boolean, boolean] = [false, false];
  const ideChannels = [new IdeChannelTrack(PRIMARY_IDE, false), new IdeChannelTrack(SECONDARY_IDE, true)];
  let reads = 0;
  try {
    let done = 0;
    for (const record of replayed) {
      if (++done % 4096 === 0) options.progress?.(done, replayed.length);
      vm.advanceTo(record.t);
      const isRead = record.op === 'r';
      if (isRead) reads++;
      const ours = record.kind === 'pio'
        ? vm.io(isRead ? 'in' : 'out', record.addr, record.size, record.value)
        : Number(vm.mmio(!isRead, record.addr, record.size, BigInt(record.value)));
      const device = deviceAt(record);
      if (device === undefined) {
        const row = unmodelled.get(record.mr) ?? { mr: record.mr, reads: 0, writes: 0 };
        if (isRead) row.reads++;
        else row.writes++;
        unmodelled.set(record.mr, row);
        continue;
      }
      if (!isRead) {
        // 8259A datasheet: a command-port write with D4-D3 = 01 is OCW3; RR (D1) set makes RIS (D0) pick ISR or IRR; ICW1 (D4 = 1) resets to IRR.
        if (record.kind === 'pio' && (record.addr === 0x20 || record.addr === 0xa0)) {
          const chip = record.addr === 0x20 ? 0 : 1;
          if ((record.value & 0x10) !== 0) picReadsIsr[chip] = false;
          else if ((record.value & 0x18) === 0x08 && (record.value & 0x02) !== 0) picReadsIsr[chip] = (record.value & 0x01) !== 0;
        }
        if (record.kind === 'pio' && record.addr === 0x70) rtcIndex = record.value & 0x7f; // bit 7 is the NMI mask, not the index
        for (const channel of ideChannels) if (channel.holds(record)) channel.write(record);
        continue;
      }
      const ide = ideChannels.find((channel) => channel.holds(record))?.read(record) ?? { identifyWord: -1 };
      const context: ReadContext = { record, rtcIndex, picReadsIsr: [picReadsIsr[0], picReadsIsr[1]], ...ide };
      const key = `${record.mr}\u0000${device}`;
      let tally = tallies.get(key);
      if (tally === undefined) {
        tally = { mr: record.mr, device, reads: 0, identical: 0, timeDependent: 0, configurationDependent: 0, memoryDependent: 0, imageDependent: 0, qemuDeviates: 0, mismatches: 0, firstMismatches: [] };
        tallies.set(key, tally);
      }
      tally.reads++;
      const verdict = classifyRead(context, ours);
      switch (verdict.class) {
        case 'identical': tally.identical++; break;
        case 'time-dependent': tally.timeDependent++; break;
        case 'configuration-dependent': tally.configurationDependent++; break;
        case 'memory-dependent': tally.memoryDependent++; break;
        case 'qemu-deviates': tally.qemuDeviates++; break;
        case 'image-dependent': tally.imageDependent++; break;
        case 'mismatch':
          tally.mismatches++;
          if (tally.firstMismatches.length < 5) tally.firstMismatches.push({ t: record.t, at: hex(record.addr), size: record.size, ours: hex(ours), qemu: hex(record.value) });
          break;
      }
      if (verdict.register !== undefined) {
        const seen = explainedCounts.get(verdict.register) ?? { class: verdict.class, reads: 0 };
        seen.reads++;
        explainedCounts.set(verdict.register, seen);
      }
    }

    const fidelity: DeviceFidelity[] = [...tallies.values()]
      .sort((a, b) => a.device.localeCompare(b.device) || a.mr.localeCompare(b.mr))
      .map((t) => {
        const compared = t.reads - t.timeDependent - t.configurationDependent - t.memoryDependent - t.imageDependent - t.qemuDeviates;
        return { ...t, identicalPercent: compared === 0 ? 100 : Math.round((10_000 * t.identical) / compared) / 100 };
      });
    const below = fidelity.filter((f) => f.identicalPercent < FIDELITY_TARGET_PERCENT).map((f) => `${f.device} (${f.mr})`);
    const explainedBy = [...explainedCounts].map(([r, seen]) => ({ class: seen.class, device: r.device, register: r.register, reads: seen.reads, why: r.why }));
    explainedBy.sort((a, b) => a.class.localeCompare(b.class) || a.device.localeCompare(b.device) || a.register.localeCompare(b.register));
    return {
      trace,
      profile: label,
      irqchip: vm.irqchip,
      costModel: model.name,
      records: replayed.length,
      reads,
      writes: replayed.length - reads,
      spanNs: replayed.at(-1)?.t ?? 0,
      interruptMessagesDropped,
      ...exitReport(vm.counts.rows(), model, vm.clock.tsc(), { percentDecimals: 4 }),
      fidelity,
      unmodelled: [...unmodelled.values()].sort((a, b) => a.mr.localeCompare(b.mr)),
      explainedBy,
      target: { percent: FIDELITY_TARGET_PERCENT, met: below.length === 0, below },
    };
  } finally {
    await vm.close();
  }
}

/** Reads a trace (JSON Lines or QEMU's log, plain or gzip) and replays it. */
export async function replayTrace(path: string, options: ReplayOptions): Promise<ReplayReport> {
  const log = await readAnyTrace(path);
  return replayRecords(basename(path), log.records, options, log.interruptMessages);
}

export function printReplay(report: ReplayReport, log: (line: string) => void = (line) => { console.log(line); }): void {
  log(`replay of ${report.trace} under ${report.profile} (${report.irqchip} irqchip, cost model ${report.costModel})`);
  log(`${report.records} records (${report.reads} reads, ${report.writes} writes) over ${(report.spanNs / 1e9).toFixed(3)} s${report.interruptMessagesDropped > 0 ? `; ${report.interruptMessagesDropped} interrupt messages left out` : ''}`);
  log(`exits ${report.exits}, lightweight ${report.lightweightExits}, heavyweight ${report.heavyweightExits}; modelled overhead ${report.overheadCycles} cycles (${report.overheadPercent}% of guest time)`);
  log('exits by device, each once, by the domain that handled it (kicks: crossings into the device host with no exit of their own):');
  for (const [device, cell] of Object.entries(report.exitsByDevice)) {
    const kicks = report.kicksByDevice[device]?.user ?? 0;
    log(`  ${device}: ${(['monitor', 'kernel', 'user'] as const).filter((d) => cell[d] !== undefined).map((d) => `${d} ${cell[d] ?? 0}`).join(', ')}${kicks > 0 ? `; ${kicks} kicks` : ''}`);
  }
  log(`fidelity (reads: identical / time-dependent / configuration-dependent / memory-dependent / image-dependent / QEMU departs from the datasheet / mismatches; target ${report.target.percent}% identical of the rest):`);
  for (const f of report.fidelity) {
    log(`  ${f.device} (${f.mr}): ${f.reads} reads: ${f.identical} / ${f.timeDependent} / ${f.configurationDependent} / ${f.memoryDependent} / ${f.imageDependent} / ${f.qemuDeviates} / ${f.mismatches} — ${f.identicalPercent}%`);
    for (const m of f.firstMismatches) log(`    t=${m.t} ${m.at}/${m.size}: ours ${m.ours}, QEMU ${m.qemu}`);
  }
  log(report.target.met ? 'target met for every device' : `target not met: ${report.target.below.join(', ')}`);
  if (report.explainedBy.length > 0) {
    log('differences explained by:');
    for (const e of report.explainedBy) log(`  ${e.class}: ${e.device} ${e.register} (${e.reads} reads): ${e.why}`);
  }
  if (report.unmodelled.length > 0) log(`unmodelled (by QEMU region): ${report.unmodelled.map((u) => `${u.mr} ${u.reads}r/${u.writes}w`).join(', ')}`);
}

/** `splitvisor replay TRACE (--profile P | --placement FILE) [--json] [--limit N] [--cost-model M] [--disk IMAGE]`. */
export function addReplayCommand(program: Command): void {
  program
    .command('replay')
    .description('replay a recorded guest I/O trace (JSON Lines, or QEMU\'s memory_region_ops/cpu_in/out trace log; plain or gzip) open loop through a placement: exits by device and domain, modelled cost, and each read compared with what QEMU answered')
    .argument('<trace>', 'the trace file')
    .option('--profile <name>', 'the placement (see splitvisor profiles)')
    .option('--placement <file>', 'a placement of your own, as JSON (start from splitvisor profiles --show NAME)')
    .option('--limit <n>', 'replay only the first n records', positiveInteger)
    .option('--cost-model <name>', `charge crossings in this model instead of the profile's own: ${COST_MODELS.map((m) => m.name).join(', ')}`)
    .option('--disk <image>', 'a raw image for the ATA primary master, opened read-only, or "blank" for a blank 16 MiB one as the shared traces were recorded with (default: no drives)')
    .option('--floppy <image>', 'a raw 720 KB / 1.44 MB / 2.88 MB diskette image for drive A, or "blank" for a blank 1.44 MB one as the shared SeaBIOS trace had (default: no drives)')
    .option('--json', 'print the report as JSON')
    .option('--html <file>', 'also write the report as a self-contained HTML page')
    .action(async (trace: string, flags: { profile?: string; placement?: string; limit?: number; costModel?: string; disk?: string; floppy?: string; json?: boolean; html?: string }) => {
      const chosen = choosePlacement(placementRef(flags)); // a bad placement is found before the trace is read
      const bar = progressBar(`replay ${basename(trace)}`, flags.json === true, 'records');
      const report = await replayTrace(trace, {
        profile: chosen,
        progress: bar.update,
        ...(flags.limit === undefined ? {} : { limit: flags.limit }),
        ...(flags.costModel === undefined ? {} : { costModel: flags.costModel }),
        ...(flags.disk === undefined ? {} : { disk: flags.disk }),
        ...(flags.floppy === undefined ? {} : { floppy: flags.floppy }),
      });
      bar.stop();
      const result = asResult('replay', report);
      if (flags.json === true) console.log(JSON.stringify(result, null, 2));
      else printReplay(report);
      await writeResultHtml(flags, result);
    });
}
