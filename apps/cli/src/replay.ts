/**
 * `splitvisor replay`: a recorded guest I/O trace issued, open loop, to the
 * VM a placement builds — each access at its recorded time — and what came
 * of it: exits by device and domain with their modelled cost, and fidelity,
 * every read's answer compared with the one QEMU gave when it was recorded.
 *
 * A read that differs is explained only by a named register: one whose
 * value depends on when it was read (TIME_DEPENDENT), on how QEMU's machine
 * was configured (CONFIGURATION_DEPENDENT), on guest memory the trace does not
 * hold (MEMORY_DEPENDENT), or on the disk image (IMAGE_DEPENDENT_IDENTIFY_WORDS);
 * or by a register where QEMU departs from the datasheet this build follows
 * (QEMU_DEVIATES), counted apart. Anything else is a mismatch. Accesses
 * to what this board does not model are counted by QEMU's region name.
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

/** Each board region's length, as its model declares it (the board gives only bases). */
// --- why a read may differ ----------------------------------------------------------------

/** What the replay knows when it compares a read: the access and the registers it selects through. */
export interface ReadContext {
  readonly record: TraceRecord;
  /** The CMOS register last selected at 70h (NMI-disable bit cleared). */
  readonly rtcIndex: number;
  /** The IDENTIFY DEVICE data word this read starts at, or -1 outside an IDENTIFY data phase on the primary channel. */
  readonly identifyWord: number;
  /** Per 8259 (master at 20h, slave at A0h): whether OCW3 last selected the ISR (else the IRR) for reads of the command port. */
  readonly picReadsIsr: readonly [boolean, boolean];
}

export interface VolatileRegister {
  readonly device: DeviceName | 'vga';
  readonly register: string;
  readonly matches: (c: ReadContext) => boolean;
  /** The bits that depend on when the register was read. */
  readonly bits: number;
  /** Where the bits sit in this read, when that depends on the read (which IDENTIFY words it holds); default `bits`. */
  readonly bitsIn?: (c: ReadContext) => number;
  /** Further condition on the two values (default: none). */
  readonly when?: (ours: number, qemu: number) => boolean;
  readonly why: string;
}

const pio = (port: number) => (c: ReadContext) => c.record.kind === 'pio' && c.record.addr === port;
const cmos = (...indices: number[]) => (c: ReadContext) => c.record.kind === 'pio' && c.record.addr === 0x71 && indices.includes(c.rtcIndex);

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
  { device: 'disk', register: 'IDENTIFY DEVICE words 84 and 87 bit 6 (WRITE DMA FUA EXT, WRITE MULTIPLE FUA EXT)', matches: (c) => fuaBitsIn(c) !== 0, bits: 0, bitsIn: fuaBitsIn,
    why: 'ATA/ATAPI-7 IDENTIFY DEVICE: the FUA write commands are optional; this build\'s drive offers them, QEMU\'s IDE disk does not (the disk package can build it without: forceUnitAccess false)' },
];

/** IDENTIFY words 84 and 87 bit 6, where a data-port read holds them (a 32-bit read holds two words). */
function fuaBitsIn(c: ReadContext): number {
  if (c.identifyWord < 0) return 0;
  let bits = 0;
  for (let i = 0; i < c.record.size / 2; i++) if (c.identifyWord + i === 84 || c.identifyWord + i === 87) bits |= 0x0040 << (16 * i);
  return bits;
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

function identifyWordIsImageDependent(word: number): boolean {
  return IMAGE_DEPENDENT_IDENTIFY_WORDS.some(([from, to]) => word >= from && word <= to);
}

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
];

export type ReadClass = 'identical' | 'time-dependent' | 'configuration-dependent' | 'memory-dependent' | 'image-dependent' | 'qemu-deviates' | 'mismatch';

function explained(table: readonly VolatileRegister[], c: ReadContext, ours: number): VolatileRegister | undefined {
  return table.find((r) => r.matches(c) && ((ours ^ c.record.value) & ~(r.bitsIn?.(c) ?? r.bits)) === 0 && (r.when?.(ours, c.record.value) ?? true));
}

/** Which class a modelled read falls in, and the register that explains it. */
export function classifyRead(c: ReadContext, ours: number): { class: ReadClass; register?: VolatileRegister } {
  if (ours === c.record.value) return { class: 'identical' };
  const time = explained(TIME_DEPENDENT, c, ours);
  if (time !== undefined) return { class: 'time-dependent', register: time };
  const configuration = explained(CONFIGURATION_DEPENDENT, c, ours);
  if (configuration !== undefined) return { class: 'configuration-dependent', register: configuration };
  const memory = explained(MEMORY_DEPENDENT, c, ours);
  if (memory !== undefined) return { class: 'memory-dependent', register: memory };
  const deviation = explained(QEMU_DEVIATES, c, ours);
  if (deviation !== undefined) return { class: 'qemu-deviates', register: deviation };
  if (c.identifyWord >= 0) {
    let onlyImage = true;
    for (let i = 0; i < c.record.size / 2; i++) {
      const differs = (((ours ^ c.record.value) >>> (16 * i)) & 0xffff) !== 0;
      if (differs && !identifyWordIsImageDependent(c.identifyWord + i)) onlyImage = false;
    }
    if (onlyImage) return { class: 'image-dependent' };
  }
  return { class: 'mismatch' };
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
  let imageReads = 0;
  let rtcIndex = 0;
  const picReadsIsr: [boolean, boolean] = [false, false];
  let identifyWord = -1;
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
        // ATA-8 ACS 7.16/7.17: IDENTIFY DEVICE (ECh) and IDENTIFY PACKET DEVICE (A1h) answer with 256 data words.
        if (record.kind === 'pio' && record.addr === 0x1f7) identifyWord = record.value === 0xec || record.value === 0xa1 ? 0 : -1;
        continue;
      }
      const context: ReadContext = { record, rtcIndex, picReadsIsr: [picReadsIsr[0], picReadsIsr[1]], identifyWord: record.kind === 'pio' && record.addr === 0x1f0 ? identifyWord : -1 };
      if (record.kind === 'pio' && record.addr === 0x1f0 && identifyWord >= 0) identifyWord = identifyWord + record.size / 2 >= 256 ? -1 : identifyWord + record.size / 2;
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
        case 'image-dependent': tally.imageDependent++; imageReads++; break;
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
    if (imageReads > 0) explainedBy.push({ class: 'image-dependent', device: 'disk', register: `IDENTIFY DEVICE words ${IMAGE_DEPENDENT_IDENTIFY_WORDS.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(', ')}`, reads: imageReads, why: 'ATA-8 ACS 7.16: product strings and capacity of the drive, not of the emulation' });
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
