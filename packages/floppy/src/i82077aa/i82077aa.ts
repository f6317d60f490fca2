/**
 * Intel 82077AA floppy disk controller with up to four 3½-inch drives, as the
 * PC wires it: registers at 3F0h–3F5h and 3F7h, INT on irq 6, DRQ/DACK on ISA
 * DMA channel 2 (gated, like INT, by DOR bit 3). Reference: Intel 82077AA
 * data sheet (290166): "Register Description", "Controller Phases",
 * "Command Set Descriptions", "Status Register Encoding", "Reset".
 *
 * Phases. Command: the host writes the command byte and its parameters to
 * the FIFO while MSR shows RQM (plus CB once the first byte is in).
 * Execution: data moves by DMA (MSR CB only; DRQ asserted on the channel) or
 * through the FIFO in non-DMA mode (SPECIFY's ND; MSR RQM, NON-DMA, CB and
 * DIO for reads, INT held while bytes are wanted). Result: MSR RQM, DIO, CB;
 * the last result byte returns to the command phase and releases INT.
 * Commands without a result phase (SEEK, RECALIBRATE, SPECIFY, CONFIGURE,
 * PERPENDICULAR MODE) return to the command phase at once; seeks leave an
 * interrupt whose status SENSE INTERRUPT STATUS reads. An invalid command
 * answers ST0 = 80h without an interrupt.
 *
 * Sense order after a reset ("SENSE INTERRUPT STATUS", Table 5-9; "Drive
 * Polling"): leaving reset, the controller holds a ready change (C0h–C3h)
 * per drive for SENSE INTERRUPT STATUS. Commands without an interrupt leave
 * them; the next interrupt (a seek's end, a result phase, a non-DMA
 * request) supersedes those not yet sensed, as in QEMU, and is the one the
 * next sense reports (a recalibrate's 20h + drive).
 *
 * Media. A drive holds a raw image of 720 KB, 1.44 MB or 2.88 MB (80
 * cylinders, 2 heads, 9/18/36 sectors of 512 bytes, recorded at 250 kb/s,
 * 500 kb/s, 1 Mb/s). A data command finds its sector by the ID fields of the
 * track under the head — cylinder, head, sector, size code 2 — so a wrong
 * data rate, FM (MFM bit clear), a cylinder past the medium or an empty
 * drive find no address mark (ST1 MA), a sector not on the track is ST1 ND
 * (with ST2 WC when the cylinder differs), a write to a protected diskette
 * ST1 NW. A multi-sector transfer ends normally at terminal count (DMA) or
 * abnormally with ST1 EN when it reaches EOT without one, as the 8272
 * family does; with MT it continues from head 0 to head 1. Result C/H/R/N
 * name the sector after the last one transferred.
 *
 * Timing follows QEMU (7.2, the recorder of the shared traces): seeks,
 * recalibrates, resets and data transfers complete at once (a DMA transfer
 * as soon as the channel is granted); READ ID answers 20 ms later, with the
 * sector after the last one that passed the head.
 *
 * Where QEMU differs and the data sheet is followed: DOR bit 3 gates INT and
 * DRQ, and DMA versus non-DMA is SPECIFY's ND (QEMU makes both one flag);
 * CONFIGURE starts as 20h (no implied seek) and software resets restore it
 * unless LOCKed (QEMU starts at 60h and never resets it); a transfer that
 * reaches EOT without terminal count ends with EN (QEMU ends normally); the
 * head does not move at the end of a track (QEMU steps to the next cylinder);
 * no medium, a wrong rate or FM give ST1 MA (QEMU: abnormal termination with
 * ST1 0 for no medium); a protected write is ST0 40h (QEMU adds SE); PART ID
 * is an invalid command, as on the 82077AA (QEMU answers as an 82078); the
 * MSR reads 0 while the controller is held in reset (QEMU returns RQM and
 * leaves reset); DUMPREG's sixth byte is HLT and ND (QEMU puts DMA-enabled
 * there); FORMAT TRACK fills the sectors whose IDs it is given (QEMU
 * formats nothing); a seek's end after a reset not sensed is ST0 20h + drive
 * (QEMU keeps the reset's IC bits: E0h). SCAN commands are not implemented
 * (invalid command).
 */
import type { AccessSize, Device, DeviceContext, IoRegion, Timer } from '@splitvisor/abi';
import { DeviceStateError, expectState } from '@splitvisor/abi';
import type { DmaChannel } from '@splitvisor/dma';
import type { CommandName } from './commands.ts';
import { decodeCommand } from './commands.ts';
import type { DriveType, MediaFormat } from '../media/formats.ts';
import { driveAccepts, formatOfImage, isDriveType } from '../media/formats.ts';
import type { FloppyImage } from '../media/floppy-image.ts';
import { FloppyConfigError } from '../media/floppy-image.ts';
import {
  CONFIGURE_DEFAULT, CommandFlag, Configure, Dir, Dor, Dsr, Msr, Perpendicular, Register, SECTOR_BYTES, SECTOR_SIZE_CODE,
  Sra, Srb, St0, St1, St2, St3, VERSION_82077AA,
} from './registers.ts';

export interface FloppyDriveConfig {
  /** The drive's density (default 1.44M): it reads media of its density and lower. */
  readonly type?: DriveType;
  /** A diskette in the drive at power-on. */
  readonly image?: FloppyImage;
  readonly writeProtected?: boolean;
}

export interface I82077aaConfig {
  /** The ISA DMA channel DRQ/DACK are wired to: channel 2 on the PC (`dma.channel(2)`). */
  readonly dma: DmaChannel;
  /** Drives 0–3 (a PC cables two); a hole is no drive. Default: one empty 1.44 MB drive. */
  readonly drives?: readonly (FloppyDriveConfig | undefined)[];
}

export type FloppyPhase = 'command' | 'execution' | 'result';

/** Commands with an execution phase. */
export type ExecutionCommand = Extract<CommandName,
  'read-data' | 'read-deleted-data' | 'read-track' | 'verify' | 'write-data' | 'write-deleted-data' | 'format-track' | 'read-id'>;

export type FloppyExecutionState = {
  readonly command: ExecutionCommand;
  readonly drive: number;
  /** The head selected (HDS), where the data is. */
  readonly head: number;
  /** The ID the command looks for: C, H, R, N. */
  readonly cylinder: number;
  readonly headAddress: number;
  readonly sector: number;
  readonly sizeCode: number;
  /** EOT: the last sector of the track (FORMAT TRACK: sectors per track). */
  readonly endOfTrack: number;
  readonly multiTrack: boolean;
  readonly mfm: boolean;
  readonly skip: boolean;
  /** Data moves by DMA (else through the FIFO). */
  readonly dma: boolean;
  /** VERIFY with EC: sectors still to verify; FORMAT TRACK: IDs still to receive; otherwise -1. */
  readonly sectorsLeft: number;
  readonly filler: number;
  readonly impliedSeek: boolean;
  readonly st1: number;
  readonly st2: number;
  /** The sector (or FORMAT TRACK's four ID bytes) being moved, and how far. */
  readonly buffer: Uint8Array;
  readonly position: number;
};

export type FloppyDriveState = {
  readonly cylinder: number;
  readonly head: number;
  /** The last sector ID that passed the head (READ ID answers the next one). */
  readonly sector: number;
  readonly diskChanged: boolean;
  /** The diskette in the drive (null: empty, or no drive): its format and write-protect tab. */
  readonly medium: { readonly format: DriveType; readonly writeProtected: boolean } | null;
};

export type I82077aaState = {
  readonly model: 'i82077aa';
  readonly version: 1;
  readonly dor: number;
  readonly tdr: number;
  readonly dataRate: number;
  readonly precompensation: number;
  readonly phase: FloppyPhase;
  /** Command bytes received so far in the command phase. */
  readonly command: readonly number[];
  readonly result: readonly number[];
  readonly resultIndex: number;
  readonly execution: FloppyExecutionState | null;
  readonly interruptPending: boolean;
  /** ST0 values SENSE INTERRUPT STATUS still has to report: a reset's four ready changes (until another interrupt supersedes them), seek ends. */
  readonly pendingSense: readonly number[];
  /** SPECIFY's two bytes: SRT|HUT, HLT|ND. */
  readonly specify: readonly number[];
  readonly configure: number;
  readonly precompensationTrack: number;
  readonly locked: boolean;
  readonly perpendicular: number;
  readonly lastEndOfTrack: number;
  readonly readIdDeadline: number | null;
  readonly drives: readonly (FloppyDriveState | null)[];
};

type Exec = { -readonly [K in keyof FloppyExecutionState]: FloppyExecutionState[K] };

interface Drive {
  readonly type: DriveType;
  image: FloppyImage | undefined;
  format: MediaFormat | undefined;
  writeProtected: boolean;
  cylinder: number;
  head: number;
  sector: number;
  diskChanged: boolean;
}

const MODEL = 'i82077aa' as const;
const VERSION = 1;
const DRIVES = 4;
const REGIONS: readonly IoRegion[] = [
  { name: 'registers', space: 'port', length: 6, sizes: [1] },
  { name: 'dir-ccr', space: 'port', length: 1, sizes: [1] },
];
/** QEMU answers READ ID one fiftieth of a second after the command (a revolution at 300 rpm is 200 ms; it pretends less). */
const READ_ID_NS = 20_000_000;
const POWER_ON_DOR = Dor.NOT_RESET | Dor.DMA_GATE; // as QEMU's pc machine leaves it; the BIOS resets the controller anyway
const SPECIFY_DEFAULT: readonly number[] = [0, 0];

const READS: ReadonlySet<ExecutionCommand> = new Set(['read-data', 'read-deleted-data', 'read-track']);
const WRITES: ReadonlySet<ExecutionCommand> = new Set(['write-data', 'write-deleted-data']);

type Chrn = readonly [number, number, number, number];

export class I82077aa implements Device<I82077aaState> {
  readonly model: 'i82077aa' = MODEL;
  readonly regions: readonly IoRegion[] = REGIONS;
  private readonly context: DeviceContext;
  private readonly dma: DmaChannel;
  private readonly drives: readonly (Drive | undefined)[];
  private readonly readIdTimer: Timer;

  private dor: number = POWER_ON_DOR;
  private tdr = 0;
  private dataRate = 0;
  private precompensation = 0;
  private phase: FloppyPhase = 'command';
  private command: number[] = [];
  private result: number[] = [];
  private resultIndex = 0;
  private execution: Exec | null = null;
  private interruptPending = false;
  private pendingSense: number[] = [];
  private specify: number[] = [...SPECIFY_DEFAULT];
  private configure: number = CONFIGURE_DEFAULT;
  private precompensationTrack = 0;
  private locked = false;
  private perpendicular = 0;
  private lastEndOfTrack = 0;
  private readIdDeadline: number | null = null;

  /** Levels last driven on INT and DRQ: live handles, re-derived on restore. */
  private irqDriven = false;
  private dreqDriven = false;
  private readonly odd = {
    invalidCommands: 0, writesDuringReset: 0, unexpectedDataReads: 0, unexpectedDataWrites: 0, readOnlyWrites: 0,
    imageReadErrors: 0, imageWriteErrors: 0,
  };

  constructor(context: DeviceContext, config: I82077aaConfig) {
    this.context = context;
    this.dma = config.dma;
    const drives = config.drives ?? [{}];
    if (drives.length > DRIVES) throw new FloppyConfigError(`an 82077AA has four drive selects, not ${drives.length}`);
    this.drives = Array.from({ length: DRIVES }, (_, n) => {
      const c = drives[n];
      if (c === undefined) return undefined;
      const type = c.type ?? '1.44M';
      if (!isDriveType(type)) throw new FloppyConfigError(`drive ${n}: unknown drive type ${String(type)}`);
      const drive: Drive = { type, image: undefined, format: undefined, writeProtected: false, cylinder: 0, head: 0, sector: 1, diskChanged: true };
      if (c.image !== undefined) this.load(n, drive, c.image, c.writeProtected ?? false);
      return drive;
    });
    this.readIdTimer = context.timer(() => { this.completeReadId(); });
    this.dma.attach(() => { this.dmaService(); });
    this.driveOutputs(true);
  }

  // --- host side ----------------------------------------------------------------------

  /** Puts a diskette in drive n (the disk-change line goes active). Throws FloppyConfigError for a size or density the drive cannot take. */
  insert(n: number, image: FloppyImage, options: { readonly writeProtected?: boolean } = {}): void {
    const drive = this.drive(n);
    if (drive === undefined) throw new FloppyConfigError(`there is no floppy drive ${n}`);
    this.load(n, drive, image, options.writeProtected ?? false);
    drive.diskChanged = true;
  }

  /** Takes the diskette out of drive n (the disk-change line goes active). */
  eject(n: number): void {
    const drive = this.drive(n);
    if (drive === undefined) throw new FloppyConfigError(`there is no floppy drive ${n}`);
    drive.image = undefined;
    drive.format = undefined;
    drive.writeProtected = false;
    drive.diskChanged = true;
  }

  /** Slides the write-protect tab of the diskette in drive n. */
  setWriteProtected(n: number, on: boolean): void {
    const drive = this.drive(n);
    if (drive?.image === undefined) throw new FloppyConfigError(`there is no diskette in drive ${n}`);
    drive.writeProtected = on;
  }

  /** The diskette in drive n, if any. */
  medium(n: number): { readonly format: MediaFormat; readonly writeProtected: boolean } | undefined {
    const drive = this.drive(n);
    return drive?.format === undefined ? undefined : { format: drive.format, writeProtected: drive.writeProtected };
  }

  /** The machine was reset: the controller as at power-on (LOCK cleared, configuration to its defaults), media kept. */
  reset(): void {
    this.softwareReset();
    this.dor = POWER_ON_DOR;
    this.tdr = 0;
    this.dataRate = 0;
    this.precompensation = 0;
    this.specify = [...SPECIFY_DEFAULT];
    this.configure = CONFIGURE_DEFAULT;
    this.precompensationTrack = 0;
    this.locked = false;
    this.perpendicular = 0;
    this.lastEndOfTrack = 0;
    this.driveOutputs();
  }

  private load(n: number, drive: Drive, image: FloppyImage, writeProtected: boolean): void {
    const format = formatOfImage(image.sectors);
    if (format === undefined) throw new FloppyConfigError(`drive ${n}: an image of ${image.sectors} sectors is no 720 KB, 1.44 MB or 2.88 MB diskette`);
    if (!driveAccepts(drive.type, format)) throw new FloppyConfigError(`drive ${n}: a ${drive.type} drive cannot read a ${format.name} diskette`);
    drive.image = image;
    drive.format = format;
    drive.writeProtected = writeProtected;
  }

  // --- guest side ---------------------------------------------------------------------

  read(region: string, offset: number, _size: AccessSize): number {
    let value: number;
    if (region === 'dir-ccr') value = this.readDir();
    else {
      switch (offset) {
        case Register.SRA: value = this.readSra(); break;
        case Register.SRB: value = this.readSrb(); break;
        case Register.DOR: value = this.dor; break;
        case Register.TDR: value = this.tdr & 0x03; break;
        case Register.MSR_DSR: value = this.msr(); break;
        case Register.FIFO: value = this.readFifo(); break;
        default: value = 0xff;
      }
    }
    this.driveOutputs();
    return value;
  }

  write(region: string, offset: number, _size: AccessSize, value: number): void {
    const byte = value & 0xff;
    if (region === 'dir-ccr') this.writeCcr(byte);
    else {
      switch (offset) {
        case Register.DOR: this.writeDor(byte); break;
        case Register.TDR: this.writeTdr(byte); break;
        case Register.MSR_DSR: this.writeDsr(byte); break;
        case Register.FIFO: this.writeFifo(byte); break;
        default:
          this.odd.readOnlyWrites++;
          break;
      }
    }
    this.driveOutputs();
  }

  private get inReset(): boolean {
    return (this.dor & Dor.NOT_RESET) === 0;
  }

  /** MSR as the phase makes it. Reading it has no side effect. */
  msr(): number {
    if (this.inReset) return 0;
    switch (this.phase) {
      case 'command':
        return Msr.RQM | (this.command.length > 0 ? Msr.COMMAND_BUSY : 0);
      case 'result':
        return Msr.RQM | Msr.DIO | Msr.COMMAND_BUSY;
      case 'execution': {
        const exec = this.execution;
        if (exec === null || exec.dma || !this.movesData(exec)) return Msr.COMMAND_BUSY;
        return Msr.RQM | Msr.NON_DMA | Msr.COMMAND_BUSY | (READS.has(exec.command) ? Msr.DIO : 0);
      }
    }
  }

  private readSra(): number {
    const drive = this.drive(this.dor & Dor.DRIVE_SELECT);
    let sra = Sra.N_INDEX;
    if (this.interruptPending) sra |= Sra.INTERRUPT_PENDING;
    if (this.drives[1] === undefined) sra |= Sra.N_SECOND_DRIVE;
    if (drive?.cylinder !== 0) sra |= Sra.N_TRACK0;
    if (drive?.head === 1) sra |= Sra.HEAD_SELECT;
    if (drive === undefined || !this.writeProtected(drive)) sra |= Sra.N_WRITE_PROTECT;
    return sra;
  }

  private readSrb(): number {
    let srb = Srb.RESERVED;
    if ((this.dor & Dor.MOTOR0) !== 0) srb |= Srb.MOTOR0;
    if ((this.dor & (Dor.MOTOR0 << 1)) !== 0) srb |= Srb.MOTOR1;
    if ((this.dor & 1) !== 0) srb |= Srb.DRIVE_SELECT0;
    return srb;
  }

  private readDir(): number {
    const drive = this.drive(this.dor & Dor.DRIVE_SELECT);
    return drive === undefined || drive.diskChanged ? Dir.DISK_CHANGE : 0;
  }

  private writeDor(value: number): void {
    const wasReset = (this.dor & Dor.NOT_RESET) === 0;
    const reset = (value & Dor.NOT_RESET) === 0;
    this.dor = value;
    if (!wasReset && reset) this.softwareReset();
    else if (wasReset && !reset) this.leaveReset();
  }

  private writeTdr(value: number): void {
    if (this.refusedInReset()) return;
    this.tdr = value & 0x03;
  }

  private writeDsr(value: number): void {
    if (this.refusedInReset()) return;
    this.dataRate = value & Dsr.DATA_RATE;
    this.precompensation = (value & Dsr.PRECOMPENSATION) >> 2;
    if ((value & Dsr.SOFTWARE_RESET) !== 0) {
      this.softwareReset();
      this.leaveReset();
    }
  }

  private writeCcr(value: number): void {
    if (this.refusedInReset()) return;
    this.dataRate = value & Dsr.DATA_RATE;
  }

  private refusedInReset(): boolean {
    if (!this.inReset) return false;
    this.odd.writesDuringReset++;
    return true;
  }

  /**
   * DOR reset (entered) or DSR reset: the command in progress is abandoned and the registers a reset clears are
   * cleared. CONFIGURE returns to no implied seek with polling on, and — unless LOCKed — FIFO off, threshold 1
   * and no precompensation track; PERPENDICULAR MODE's GAP and WGATE clear. SPECIFY and the data rate stay.
   * Heads are taken back to track 0 as QEMU does (a reset sends no step pulse, so the disk-change line stays).
   */
  private softwareReset(): void {
    this.execution = null;
    this.readIdDeadline = null;
    this.readIdTimer.cancel();
    this.phase = 'command';
    this.command = [];
    this.result = [];
    this.resultIndex = 0;
    this.interruptPending = false;
    this.pendingSense = [];
    this.configure = this.locked ? this.configure & (Configure.FIFO_DISABLE | Configure.FIFO_THRESHOLD) : CONFIGURE_DEFAULT;
    if (!this.locked) this.precompensationTrack = 0;
    this.perpendicular &= Perpendicular.DRIVES;
    for (const drive of this.drives) {
      if (drive === undefined) continue;
      drive.cylinder = 0;
      drive.head = 0;
      drive.sector = 1;
    }
  }

  /**
   * Leaving reset, the controller polls the four drives and reports a ready change for each: an interrupt and four
   * SENSE INTERRUPT STATUS results, C0h–C3h ("Drive Polling": each drive is taken as not ready after a reset, and
   * the interrupt of the first polling loop wants a SENSE INTERRUPT STATUS for each of the four logical drives).
   */
  private leaveReset(): void {
    this.pendingSense = [0, 1, 2, 3].map((n) => St0.READY_CHANGED | n);
    this.interruptPending = true;
  }

  /**
   * A new interrupt condition: a seek or recalibrate ended, a result phase began, or a non-DMA transfer wants the
   * host. The ready changes a reset left and no SENSE INTERRUPT STATUS has taken yet are superseded — the next sense
   * reports the new condition, not a reset the driver did not sense — so they are dropped. The data sheet warns only
   * that interrupt status information not sensed is lost ("Control Commands"); which of it, QEMU decides: any
   * interrupt it raises ends its count of reset senses. Commands that raise no interrupt (SPECIFY, CONFIGURE,
   * VERSION, …) leave them pending.
   */
  private raiseInterrupt(): void {
    if (this.pendingSense.some(isReadyChange)) this.pendingSense = this.pendingSense.filter((st0) => !isReadyChange(st0));
    this.interruptPending = true;
  }

  private readFifo(): number {
    if (this.inReset) {
      this.odd.unexpectedDataReads++;
      return 0;
    }
    if (this.phase === 'result') {
      const value = this.result[this.resultIndex++] ?? 0;
      if (this.resultIndex >= this.result.length) {
        this.phase = 'command';
        this.result = [];
        this.resultIndex = 0;
        this.interruptPending = false;
      }
      return value;
    }
    const exec = this.execution;
    if (this.phase === 'execution' && exec !== null && !exec.dma && READS.has(exec.command)) return this.pioRead(exec);
    this.odd.unexpectedDataReads++;
    return 0;
  }

  private writeFifo(value: number): void {
    if (this.refusedInReset()) return;
    const exec = this.execution;
    if (this.phase === 'command') {
      this.command.push(value);
      const first = this.command[0] ?? value;
      const spec = decodeCommand(first);
      if (this.command.length > spec.parameters) {
        const bytes = this.command;
        this.command = [];
        this.execute(spec.name, bytes);
      }
    } else if (this.phase === 'execution' && exec !== null && !exec.dma && (WRITES.has(exec.command) || exec.command === 'format-track')) {
      this.pioWrite(exec, value);
    } else {
      this.odd.unexpectedDataWrites++;
    }
  }

  // --- commands -----------------------------------------------------------------------

  private execute(name: CommandName, bytes: readonly number[]): void {
    const b = (i: number) => bytes[i] ?? 0;
    switch (name) {
      case 'read-data':
      case 'read-deleted-data':
      case 'read-track':
      case 'verify':
      case 'write-data':
      case 'write-deleted-data':
      case 'format-track':
        this.startData(name, bytes);
        return;
      case 'read-id':
        this.startReadId(b(0), b(1));
        return;
      case 'recalibrate':
        this.seekDrive(b(1), 0, true);
        return;
      case 'seek':
        this.seekDrive(b(1), b(2), false);
        return;
      case 'relative-seek': {
        const drive = this.drive(b(1) & 3);
        const from = drive?.cylinder ?? 0;
        const to = (b(0) & 0x40) !== 0 ? Math.min(0xff, from + b(2)) : Math.max(0, from - b(2));
        this.seekDrive(b(1), to, false);
        return;
      }
      case 'sense-interrupt-status':
        this.senseInterruptStatus();
        return;
      case 'sense-drive-status':
        this.toResult([this.senseDriveStatus(b(1))]);
        return;
      case 'specify':
        this.specify = [b(1), b(2)];
        return;
      case 'configure':
        this.configure = b(2) & 0x7f;
        this.precompensationTrack = b(3);
        return;
      case 'version':
        this.toResult([VERSION_82077AA]);
        return;
      case 'dumpreg':
        this.toResult([
          ...[0, 1, 2, 3].map((n) => this.drive(n)?.cylinder ?? 0),
          this.specify[0] ?? 0, this.specify[1] ?? 0, this.lastEndOfTrack,
          (this.locked ? 0x80 : 0) | (this.perpendicular & 0x3f), this.configure, this.precompensationTrack,
        ]);
        return;
      case 'lock':
        this.locked = (b(0) & 0x80) !== 0;
        this.toResult([this.locked ? 0x10 : 0x00]);
        return;
      case 'perpendicular-mode': {
        const p = b(1);
        const drives = (p & Perpendicular.OVERWRITE) !== 0 ? p & Perpendicular.DRIVES : this.perpendicular & Perpendicular.DRIVES;
        this.perpendicular = drives | (p & (Perpendicular.GAP | Perpendicular.WGATE));
        return;
      }
      case 'invalid':
        this.odd.invalidCommands++;
        this.context.log.warn(`i82077aa: invalid command ${hex(b(0))}`);
        this.toResult([St0.INVALID]);
        return;
    }
  }

  private toResult(bytes: number[]): void {
    this.phase = 'result';
    this.result = bytes;
    this.resultIndex = 0;
  }

  /**
   * SEEK, RELATIVE SEEK and RECALIBRATE end at once with an interrupt whose status SENSE INTERRUPT STATUS reads
   * next: SE with IC 00 (20h + drive), or SE, EC with IC 01 for a recalibrate that never sees track 0 (Table 5-9).
   * It supersedes a reset's ready changes not yet sensed — the sense after a recalibrate answers 20h, not C0h — where
   * QEMU, which keeps the reset's IC bits in its ST0, answers E0h.
   */
  private seekDrive(select: number, cylinder: number, recalibrate: boolean): void {
    const n = select & 3;
    const drive = this.drive(n);
    let st0 = St0.SEEK_END | n;
    if (drive === undefined) {
      // No drive answers: a recalibrate never sees track 0 and ends with equipment check.
      if (recalibrate) st0 |= St0.ABNORMAL | St0.EQUIPMENT_CHECK;
    } else {
      drive.head = (select >> 2) & 1;
      this.step(drive, cylinder);
      if (recalibrate) {
        drive.head = 0;
        drive.sector = 1;
      }
    }
    this.raiseInterrupt();
    this.pendingSense = [...this.pendingSense.filter((s) => (s & St0.DRIVE) !== n), st0];
  }

  /** Moves the head; a step pulse with a diskette in clears the disk-change line. */
  private step(drive: Drive, cylinder: number): void {
    if (cylinder === drive.cylinder) return;
    drive.cylinder = cylinder & 0xff;
    if (drive.image !== undefined) drive.diskChanged = false;
  }

  private senseInterruptStatus(): void {
    const st0 = this.pendingSense.shift();
    if (st0 === undefined) {
      this.toResult([St0.INVALID]);
      return;
    }
    this.interruptPending = false;
    this.toResult([st0 & ~St0.HEAD, this.drive(st0 & St0.DRIVE)?.cylinder ?? 0]);
  }

  private senseDriveStatus(select: number): number {
    const n = select & 3;
    const head = (select >> 2) & 1;
    const drive = this.drive(n);
    let st3 = St3.ALWAYS_ONE | (head << 2) | n;
    if (drive !== undefined) {
      drive.head = head;
      if (drive.cylinder === 0) st3 |= St3.TRACK0;
      if (this.writeProtected(drive)) st3 |= St3.WRITE_PROTECTED;
    }
    return st3;
  }

  /** An empty drive reports write protect (no diskette, no tab to sense), as QEMU does. */
  private writeProtected(drive: Drive): boolean {
    return drive.image === undefined || drive.writeProtected;
  }

  // --- READ ID ------------------------------------------------------------------------

  private startReadId(first: number, select: number): void {
    const exec = this.newExecution('read-id', first, select);
    const drive = this.drive(exec.drive);
    if (drive !== undefined) drive.head = exec.head;
    this.execution = exec;
    this.phase = 'execution';
    this.readIdDeadline = this.context.now() + READ_ID_NS;
    this.readIdTimer.arm(this.readIdDeadline);
  }

  private completeReadId(): void {
    const exec = this.execution;
    this.readIdDeadline = null;
    if (this.phase !== 'execution' || exec?.command !== 'read-id') return;
    const drive = this.drive(exec.drive);
    const format = this.readableTrack(exec);
    if (drive === undefined || format === undefined) {
      this.finish(St0.ABNORMAL, St1.MISSING_ADDRESS_MARK, 0, [drive?.cylinder ?? 0, exec.head, drive?.sector ?? 1, SECTOR_SIZE_CODE]);
    } else {
      drive.sector = (drive.sector % format.sectorsPerTrack) + 1;
      this.finish(St0.NORMAL, 0, 0, [drive.cylinder, exec.head, drive.sector, SECTOR_SIZE_CODE]);
    }
    this.driveOutputs();
  }

  // --- data commands ------------------------------------------------------------------

  private newExecution(command: ExecutionCommand, first: number, select: number): Exec {
    return {
      command, drive: select & 3, head: (select >> 2) & 1, cylinder: 0, headAddress: 0, sector: 1, sizeCode: SECTOR_SIZE_CODE,
      endOfTrack: 0, multiTrack: (first & CommandFlag.MULTI_TRACK) !== 0, mfm: (first & CommandFlag.MFM) !== 0,
      skip: (first & CommandFlag.SKIP) !== 0, dma: ((this.specify[1] ?? 0) & 1) === 0, sectorsLeft: -1, filler: 0,
      impliedSeek: false, st1: 0, st2: 0, buffer: new Uint8Array(SECTOR_BYTES), position: 0,
    };
  }

  private startData(command: ExecutionCommand, bytes: readonly number[]): void {
    const b = (i: number) => bytes[i] ?? 0;
    const exec = this.newExecution(command, b(0), b(1));
    if (command === 'format-track') {
      exec.sizeCode = b(2);
      exec.endOfTrack = b(3);
      exec.sectorsLeft = b(3);
      exec.filler = b(5);
      exec.cylinder = this.drive(exec.drive)?.cylinder ?? 0;
      exec.headAddress = exec.head;
    } else {
      exec.cylinder = b(2);
      exec.headAddress = b(3);
      exec.sector = command === 'read-track' ? 1 : b(4);
      exec.sizeCode = b(5);
      exec.endOfTrack = b(6);
      if (command === 'read-track') exec.multiTrack = false;
      if (command === 'verify' && (b(1) & 0x80) !== 0) exec.sectorsLeft = b(8); // EC: byte 8 is the sector count
    }
    this.lastEndOfTrack = exec.endOfTrack;
    this.execution = exec;
    this.phase = 'execution';

    const drive = this.drive(exec.drive);
    if (drive !== undefined) {
      drive.head = exec.head;
      if (command !== 'format-track' && (this.configure & Configure.IMPLIED_SEEK) !== 0 && exec.cylinder !== drive.cylinder) {
        this.step(drive, exec.cylinder);
        exec.impliedSeek = true;
      }
    }
    if (command === 'format-track' || WRITES.has(command)) {
      if (drive?.image === undefined || this.readableTrack(exec) === undefined) {
        this.finishHere(exec, St0.ABNORMAL, St1.MISSING_ADDRESS_MARK, 0);
        return;
      }
      if (drive.writeProtected) {
        this.finishHere(exec, St0.ABNORMAL, St1.NOT_WRITABLE, 0);
        return;
      }
    }
    if (command === 'format-track') {
      exec.position = 0;
    } else if (!this.loadSector(exec)) {
      return;
    }
    if (!exec.dma && this.movesData(exec)) this.raiseInterrupt(); // non-DMA: INT asks for each byte
    this.runWithoutTransfer();
  }

  /** Whether the execution phase moves data (through DMA or the FIFO). */
  private movesData(exec: Exec): boolean {
    if (exec.command === 'read-id' || exec.command === 'verify') return false;
    return !(exec.command === 'read-deleted-data' && exec.skip);
  }

  /** The medium's format if the track under the head has ID fields this command can read, else undefined (no address mark). */
  private readableTrack(exec: Exec): MediaFormat | undefined {
    const drive = this.drive(exec.drive);
    const format = drive?.format;
    if (drive === undefined || format === undefined) return undefined;
    if (this.dataRate !== format.dataRate) return undefined;
    if (!exec.mfm && exec.command !== 'format-track') return undefined;
    if (drive.cylinder >= format.cylinders || exec.head >= format.heads) return undefined;
    return format;
  }

  /**
   * Finds the sector the execution names on the track under the head and, for a read or verify, reads it into the
   * buffer. False (and the command finished with its error) when it is not there or cannot be read.
   */
  private loadSector(exec: Exec): boolean {
    const drive = this.drive(exec.drive);
    const format = this.readableTrack(exec);
    if (drive === undefined || format === undefined) {
      this.finishHere(exec, St0.ABNORMAL, exec.st1 | St1.MISSING_ADDRESS_MARK, exec.st2);
      return false;
    }
    if (exec.cylinder !== drive.cylinder) {
      this.finishHere(exec, St0.ABNORMAL, exec.st1 | St1.NO_DATA, exec.st2 | St2.WRONG_CYLINDER);
      return false;
    }
    if (exec.headAddress !== exec.head || exec.sizeCode !== SECTOR_SIZE_CODE || exec.sector < 1 || exec.sector > format.sectorsPerTrack) {
      this.finishHere(exec, St0.ABNORMAL, exec.st1 | St1.NO_DATA, exec.st2);
      return false;
    }
    drive.sector = exec.sector;
    exec.position = 0;
    if (READS.has(exec.command) || exec.command === 'verify') {
      if (drive.image?.read(this.lba(drive, format, exec), 1, exec.buffer) !== true) {
        this.odd.imageReadErrors++;
        this.context.log.warn(`i82077aa: drive ${exec.drive} could not read C${exec.cylinder} H${exec.head} S${exec.sector} from its image`);
        this.finishHere(exec, St0.ABNORMAL, exec.st1 | St1.DATA_ERROR, exec.st2 | St2.DATA_ERROR_IN_DATA);
        return false;
      }
    }
    return true;
  }

  private lba(drive: Drive, format: MediaFormat, exec: Exec): number {
    return (drive.cylinder * format.heads + exec.head) * format.sectorsPerTrack + exec.sector - 1;
  }

  /** Writes the buffer to the sector found by loadSector. False (and the command finished) when the image refuses. */
  private commitSector(exec: Exec): boolean {
    const drive = this.drive(exec.drive);
    const format = drive?.format;
    if (drive?.image === undefined || format === undefined || !drive.image.write(this.lba(drive, format, exec), exec.buffer)) {
      this.odd.imageWriteErrors++;
      this.context.log.warn(`i82077aa: drive ${exec.drive} could not write C${exec.cylinder} H${exec.head} S${exec.sector} to its image`);
      this.finishHere(exec, St0.ABNORMAL | St0.EQUIPMENT_CHECK, exec.st1, exec.st2);
      return false;
    }
    return true;
  }

  /** After a sector: end the command, or go on to the next sector (MT: from head 0 to head 1 at EOT). */
  private sectorDone(exec: Exec, terminalCount: boolean): void {
    if (exec.command === 'read-deleted-data') exec.st2 |= St2.CONTROL_MARK; // every data mark here is a normal one
    const next = this.nextId(exec);
    if (terminalCount || (exec.command === 'read-deleted-data' && !exec.skip)) {
      this.finish(St0.NORMAL, exec.st1, exec.st2, next);
      return;
    }
    if (exec.command === 'verify' && exec.sectorsLeft > 0 && --exec.sectorsLeft === 0) {
      this.finish(St0.NORMAL, exec.st1, exec.st2, next);
      return;
    }
    if (exec.sector === exec.endOfTrack) {
      if (exec.multiTrack && exec.head === 0) {
        exec.head = 1;
        exec.headAddress = 1;
        exec.sector = 1;
        this.loadSector(exec);
        return;
      }
      // No terminal count at the end of the track: EN, except VERIFY, which needs none.
      if (exec.command === 'verify') this.finish(St0.NORMAL, exec.st1, exec.st2, next);
      else this.finish(St0.ABNORMAL, exec.st1 | St1.END_OF_CYLINDER, exec.st2, next);
      return;
    }
    exec.sector = (exec.sector + 1) & 0xff;
    this.loadSector(exec);
  }

  /** The ID after the execution's current sector, as the result phase reports it. */
  private nextId(exec: Exec): Chrn {
    const n = exec.sizeCode;
    if (exec.sector !== exec.endOfTrack) return [exec.cylinder, exec.headAddress, (exec.sector + 1) & 0xff, n];
    if (exec.multiTrack && exec.headAddress === 0) return [exec.cylinder, 1, 1, n];
    return [(exec.cylinder + 1) & 0xff, exec.multiTrack ? 0 : exec.headAddress, 1, n];
  }

  /** VERIFY and a skipping READ DELETED DATA run through their sectors at once, without moving data. */
  private runWithoutTransfer(): void {
    for (let exec = this.execution; exec !== null && this.phase === 'execution' && !this.movesData(exec) && exec.command !== 'read-id'; exec = this.execution) {
      this.sectorDone(exec, false);
    }
  }

  /** Ends the command where it stands (an error, or FORMAT TRACK's end): the result names the ID sought, ST0 the head selected. */
  private finishHere(exec: Exec, ic: number, st1: number, st2: number): void {
    this.finish(ic, st1, st2, [exec.cylinder, exec.headAddress, exec.sector, exec.sizeCode], exec.head);
  }

  /**
   * Ends the command with a result phase and an interrupt. ST0's head bit is the head the controller ends on: after
   * a transferred sector, the head of the next ID (so a multi-track read stopped at head 0's EOT shows head 1, as in
   * QEMU's answer to SeaBIOS's boot-sector read); after an error, the selected head.
   */
  private finish(ic: number, st1: number, st2: number, [c, h, r, n]: Chrn, head = h): void {
    const exec = this.execution;
    const drive = exec?.drive ?? 0;
    const st0 = ic | (exec?.impliedSeek === true ? St0.SEEK_END : 0) | ((head & 1) << 2) | drive;
    this.execution = null;
    this.toResult([st0, st1 & 0xff, st2 & 0xff, c & 0xff, h & 0xff, r & 0xff, n & 0xff]);
    this.raiseInterrupt();
  }

  // --- data movement ------------------------------------------------------------------

  /** The DMA channel grants the controller's DRQ: move as much as the channel and the command allow. */
  private dmaService(): void {
    for (let guard = 0; guard < 0x1_0000; guard++) {
      const exec = this.execution;
      if (this.phase !== 'execution' || exec === null || !exec.dma || !this.dreqLevel()) break;
      if (!this.dmaStep(exec)) break;
    }
    this.driveOutputs();
  }

  /** One DMA transfer for the current sector (or FORMAT TRACK's current ID); false when nothing moved. */
  private dmaStep(exec: Exec): boolean {
    if (READS.has(exec.command)) {
      const moved = this.dma.writeMemory(exec.buffer.subarray(exec.position));
      exec.position += moved.bytes;
      if (moved.terminalCount || exec.position >= SECTOR_BYTES) this.sectorDone(exec, moved.terminalCount);
      return moved.bytes > 0 || moved.terminalCount;
    }
    if (exec.command === 'format-track') {
      const moved = this.dma.readMemory(exec.buffer.subarray(exec.position, 4));
      exec.position += moved.bytes;
      if (exec.position >= 4) this.formatSector(exec, moved.terminalCount);
      else if (moved.terminalCount) this.finishHere(exec, St0.NORMAL, exec.st1, exec.st2);
      return moved.bytes > 0 || moved.terminalCount;
    }
    const moved = this.dma.readMemory(exec.buffer.subarray(exec.position));
    exec.position += moved.bytes;
    if (moved.terminalCount || exec.position >= SECTOR_BYTES) {
      // Terminal count inside a sector: the rest of it is written with zeros.
      exec.buffer.fill(0, exec.position);
      if (this.commitSector(exec)) this.sectorDone(exec, moved.terminalCount);
    }
    return moved.bytes > 0 || moved.terminalCount;
  }

  private pioRead(exec: Exec): number {
    const value = exec.buffer[exec.position++] ?? 0;
    if (exec.position >= SECTOR_BYTES) this.sectorDone(exec, false);
    return value;
  }

  private pioWrite(exec: Exec, value: number): void {
    exec.buffer[exec.position++] = value;
    if (exec.command === 'format-track') {
      if (exec.position >= 4) this.formatSector(exec, false);
    } else if (exec.position >= SECTOR_BYTES && this.commitSector(exec)) {
      this.sectorDone(exec, false);
    }
  }

  /** FORMAT TRACK received one ID (C, H, R, N): fill that sector of the track under the head with the filler byte. */
  private formatSector(exec: Exec, terminalCount: boolean): void {
    const [c = 0, h = 0, r = 0, n = 0] = exec.buffer.subarray(0, 4);
    const drive = this.drive(exec.drive);
    const format = drive?.format;
    exec.cylinder = c;
    exec.headAddress = h;
    exec.sector = r;
    exec.sizeCode = n;
    if (drive?.image !== undefined && format !== undefined && r >= 1 && r <= format.sectorsPerTrack) {
      const lba = (drive.cylinder * format.heads + exec.head) * format.sectorsPerTrack + r - 1;
      if (!drive.image.write(lba, new Uint8Array(SECTOR_BYTES).fill(exec.filler))) {
        this.odd.imageWriteErrors++;
        this.finishHere(exec, St0.ABNORMAL | St0.EQUIPMENT_CHECK, exec.st1, exec.st2);
        return;
      }
    }
    exec.position = 0;
    exec.sectorsLeft--;
    if (terminalCount || exec.sectorsLeft <= 0) this.finishHere(exec, St0.NORMAL, exec.st1, exec.st2);
  }

  // --- outputs ------------------------------------------------------------------------

  private dreqLevel(): boolean {
    const exec = this.execution;
    return this.phase === 'execution' && exec !== null && exec.dma && this.movesData(exec)
      && (this.dor & Dor.DMA_GATE) !== 0 && !this.inReset;
  }

  /** INT as the irq line sees it: pending, and let through by DOR's DMA gate. */
  private irqLevel(): boolean {
    return this.interruptPending && (this.dor & Dor.DMA_GATE) !== 0 && !this.inReset;
  }

  /**
   * Drives DRQ, then INT (every change, or both whatever they were with `force`: at construction and restore).
   * Raising DRQ on a granted channel runs the transfer (and perhaps the whole command) before it returns, which
   * calls this again; INT is read after, so it reflects the outcome.
   */
  private driveOutputs(force = false): void {
    const dreq = this.dreqLevel();
    if (force || dreq !== this.dreqDriven) {
      this.dreqDriven = dreq;
      this.dma.setRequest(dreq);
    }
    const irq = this.irqLevel();
    if (force || irq !== this.irqDriven) {
      this.irqDriven = irq;
      this.context.setIrq(0, irq);
    }
  }

  // --- state --------------------------------------------------------------------------

  getState(): I82077aaState {
    const exec = this.execution;
    return {
      model: MODEL, version: VERSION, dor: this.dor, tdr: this.tdr, dataRate: this.dataRate, precompensation: this.precompensation,
      phase: this.phase, command: [...this.command], result: [...this.result], resultIndex: this.resultIndex,
      execution: exec === null ? null : { ...exec, buffer: exec.buffer.slice() },
      interruptPending: this.interruptPending, pendingSense: [...this.pendingSense], specify: [...this.specify],
      configure: this.configure, precompensationTrack: this.precompensationTrack, locked: this.locked,
      perpendicular: this.perpendicular, lastEndOfTrack: this.lastEndOfTrack, readIdDeadline: this.readIdDeadline,
      drives: this.drives.map((d) => (d === undefined ? null : {
        cylinder: d.cylinder, head: d.head, sector: d.sector, diskChanged: d.diskChanged,
        medium: d.format === undefined ? null : { format: d.format.name, writeProtected: d.writeProtected },
      })),
    };
  }

  /**
   * Restores a state into this controller. Its drives and the diskettes in them are the host's (the images are
   * not state): they must be the ones the state describes, or this throws DeviceStateError.
   */
  setState(state: I82077aaState): void {
    expectState(state, MODEL, VERSION);
    for (let n = 0; n < DRIVES; n++) {
      const saved = state.drives[n] ?? null;
      const drive = this.drives[n];
      if ((saved === null) !== (drive === undefined)) throw new DeviceStateError(`i82077aa state ${saved === null ? 'without' : 'with'} drive ${n} given to a controller ${drive === undefined ? 'without' : 'with'} one`);
      if (saved === null || drive === undefined) continue;
      const medium = saved.medium;
      if ((medium === null) !== (drive.format === undefined) || (medium !== null && medium.format !== drive.format?.name)) {
        throw new DeviceStateError(`i82077aa state has ${medium === null ? 'no diskette' : `a ${medium.format} diskette`} in drive ${n}; the host gave ${drive.format === undefined ? 'none' : `a ${drive.format.name} one`}`);
      }
      drive.cylinder = saved.cylinder & 0xff;
      drive.head = saved.head & 1;
      drive.sector = saved.sector & 0xff;
      drive.diskChanged = saved.diskChanged;
      drive.writeProtected = medium?.writeProtected ?? false;
    }
    this.dor = state.dor & 0xff;
    this.tdr = state.tdr & 0x03;
    this.dataRate = state.dataRate & Dsr.DATA_RATE;
    this.precompensation = state.precompensation & 0x07;
    this.phase = state.phase;
    this.command = state.command.map((b) => b & 0xff);
    this.result = state.result.map((b) => b & 0xff);
    this.resultIndex = state.resultIndex;
    const exec = state.execution;
    this.execution = exec === null ? null : { ...exec, buffer: Uint8Array.from({ length: SECTOR_BYTES }, (_, i) => exec.buffer[i] ?? 0) };
    this.interruptPending = state.interruptPending;
    // A record saved before the reset's ready changes were superseded (0.1.5 and earlier) may hold them behind a later
    // interrupt's status; they are dropped as that interrupt drops them now, so its status is the next one sensed.
    const pending = state.pendingSense.map((st0) => st0 & 0xff);
    this.pendingSense = pending.every(isReadyChange) ? pending : pending.filter((st0) => !isReadyChange(st0));
    this.specify = [state.specify[0] ?? 0, state.specify[1] ?? 0];
    this.configure = state.configure & 0x7f;
    this.precompensationTrack = state.precompensationTrack & 0xff;
    this.locked = state.locked;
    this.perpendicular = state.perpendicular & 0x3f;
    this.lastEndOfTrack = state.lastEndOfTrack & 0xff;
    this.readIdDeadline = state.readIdDeadline;
    if (this.readIdDeadline === null) this.readIdTimer.cancel();
    else this.readIdTimer.arm(this.readIdDeadline);
    this.driveOutputs(true);
  }

  anomalies(): Readonly<Record<string, number>> {
    return { ...this.odd };
  }

  private drive(n: number): Drive | undefined {
    return this.drives[n & 3];
  }
}


/** A drive-polling status: IC = 11b, the ready change a reset reports for each drive (Table 5-9, "Polling"). */
function isReadyChange(st0: number): boolean {
  return (st0 & St0.READY_CHANGED) === St0.READY_CHANGED;
}

function hex(byte: number): string {
  return `${byte.toString(16).padStart(2, '0')}h`;
}
