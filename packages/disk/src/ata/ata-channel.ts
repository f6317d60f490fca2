/**
 * An ATA (IDE) channel: the cable's Command Block (1F0h–1F7h on the PC's
 * primary channel, 170h–177h on the secondary), its Control Block register
 * (3F6h / 376h: Alternate Status, Device Control), up to two devices — disks
 * (`drive.ts`) or ATAPI CD/DVD-ROM drives (`../atapi/atapi-drive.ts`), both
 * behind `channel-device.ts` — and the channel's bus-master IDE registers.
 * ATA/ATAPI-6 (T13 1410D): registers, commands, protocols;
 * SFF-8038i for the bus master; Intel PIIX3/PIIX4 IDE for how the PC wires it.
 *
 * Regions: `command` (8 ports: data, error/features, sector count, LBA
 * low/mid/high, device, status/command), `control` (1 port), `bus-master`
 * (8 ports; the board puts them at the PIIX's BMIBA + 0h or + 8h). Irq output
 * 0: the channel's INTRQ (the PC wires the primary to irq 14, the secondary
 * to irq 15).
 *
 * Access widths, as QEMU's PIIX decodes them: the data port takes 16- and
 * 32-bit transfers (a byte access reads FFh and writes nothing); a 16-bit
 * access to another register is two byte accesses; a 32-bit one reads all
 * ones and writes nothing.
 *
 * INTRQ is driven by the selected drive while it has an interrupt pending and
 * nIEN is clear (ATA/ATAPI-6, the INTRQ signal and Device Control): setting nIEN releases it, clearing nIEN with an
 * interrupt still pending asserts it. The bus master's interrupt bit records
 * each rise of INTRQ, as the PIIX's IDEINTS does.
 */
import type { AccessSize, Device, DeviceContext, FastPathHints, IoRegion } from '@splitvisor/abi';
import { DeviceStateError, expectState } from '@splitvisor/abi';
import type { AtapiAnomalies, AtapiDriveConfig } from '../atapi/atapi-drive.ts';
import { AtapiDrive } from '../atapi/atapi-drive.ts';
import type { BlockBackend } from '../block/block-backend.ts';
import type { BusMasterState } from './bus-master.ts';
import { BusMaster } from './bus-master.ts';
import type { ChannelDevice, ChannelDeviceState } from './channel-device.ts';
import type { AtaDriveConfig, DriveAnomalies } from './drive.ts';
import { AtaConfigError, AtaDrive } from './drive.ts';
import { BusMasterStatus, Command, DeviceControl, DeviceHead, TaskFileOffset } from './registers.ts';
import { latchRegister, readRegister } from './task-file.ts';

export interface AtaChannelConfig {
  /** Device 0: a disk, or (`kind: 'cdrom'`) an ATAPI CD/DVD-ROM drive. Absent when not given. */
  readonly master?: AtaDriveConfig | AtapiDriveConfig;
  /** Device 1. Absent when not given: reads of its Status and Error answer 0 and commands to it are ignored (as QEMU). */
  readonly slave?: AtaDriveConfig | AtapiDriveConfig;
}

/**
 * Version 3: each device's state says what it is (`kind`: `ata` for a disk
 * or an absent device, `cdrom` for an ATAPI drive, whose state has its own
 * shape). Version 2 added the FUA flag of a disk's transfer; versions 1 and
 * 2 are refused.
 */
export type AtaChannelState = {
  readonly model: 'ata-channel';
  readonly version: 3;
  /** The Device Control register as last written (HOB, SRST, nIEN). */
  readonly deviceControl: number;
  /** The drive the DEV bit last selected. */
  readonly selected: 0 | 1;
  readonly busMaster: BusMasterState;
  readonly drives: readonly [ChannelDeviceState, ChannelDeviceState];
};

const MODEL = 'ata-channel' as const;
const VERSION = 3;

const REGIONS: readonly IoRegion[] = [
  { name: 'command', space: 'port', length: 8, sizes: [1, 2, 4] },
  { name: 'control', space: 'port', length: 1, sizes: [1] },
  { name: 'bus-master', space: 'port', length: 8, sizes: [1, 2, 4] },
];

/** The most bytes moved between memory and the drive in one step: a PRD region's largest. */
const DMA_CHUNK = 0x1_0000;

type ChannelAnomalies = DriveAnomalies & AtapiAnomalies & {
  byteDataPortAccesses: number;
  wideRegisterAccesses: number;
  registerWritesWhileBusy: number;
  commandsWhileBusy: number;
  commandsToAbsentDevice: number;
  commandsWhileAsleep: number;
  dmaDirectionMismatches: number;
  dmaMemoryErrors: number;
  dmaTablesExhausted: number;
  unknownRegionAccesses: number;
};

export class AtaChannel implements Device<AtaChannelState> {
  readonly model: 'ata-channel' = MODEL;
  readonly regions: readonly IoRegion[] = REGIONS;
  /**
   * Alternate Status (3F6h) may be answered from a value: unlike Status it
   * acknowledges nothing, and only a register write (a command, a drive
   * select, SRST) or the drive's own timers change it.
   */
  readonly hints: FastPathHints = {
    cachedReads: [{ region: 'control', offset: 0, length: 1, invalidatedBy: [{ region: 'command', offset: 0, length: 8 }, { region: 'control', offset: 0, length: 1 }] }],
  };
  private readonly context: DeviceContext;
  private readonly drives: readonly [ChannelDevice, ChannelDevice];
  private readonly busMaster = new BusMaster();
  private deviceControl = 0;
  private selected: 0 | 1 = 0;
  /** The level last driven on irq output 0: a live handle, re-derived on restore. */
  private intrq = false;
  private readonly dmaScratch = new Uint8Array(DMA_CHUNK);
  private readonly odd: ChannelAnomalies = {
    byteDataPortAccesses: 0, wideRegisterAccesses: 0, registerWritesWhileBusy: 0, commandsWhileBusy: 0,
    commandsToAbsentDevice: 0, commandsWhileAsleep: 0, dataReadsWithoutDrq: 0, dataWritesWithoutDrq: 0,
    straddlingDataAccesses: 0, unsupportedCommands: 0, addressesNotFound: 0, backendReadErrors: 0,
    backendWriteErrors: 0, backendFlushErrors: 0, writesWhileWriteProtected: 0, dmaDirectionMismatches: 0, dmaMemoryErrors: 0,
    dmaTablesExhausted: 0, unknownRegionAccesses: 0, invalidOperationCodes: 0, invalidCdbFields: 0, blocksOutOfRange: 0,
    zeroByteCountLimits: 0,
  };

  /** Throws `AtaConfigError` for a drive configuration that cannot be (a host error). */
  constructor(context: DeviceContext, config: AtaChannelConfig = {}) {
    this.context = context;
    this.drives = [this.device(0, config.master), this.device(1, config.slave)];
    this.driveIrq(true);
  }

  private device(unit: 0 | 1, config: AtaDriveConfig | AtapiDriveConfig | undefined): ChannelDevice {
    if (config !== undefined && 'kind' in config) return new AtapiDrive(unit, config, this.odd, this.context.log);
    return new AtaDrive(unit, config, this.odd, this.context.log);
  }

  private get drive(): ChannelDevice {
    return this.drives[this.selected];
  }

  private get anyPresent(): boolean {
    return this.drives[0].present || this.drives[1].present;
  }

  // --- guest accesses ----------------------------------------------------------------

  cachedRead(region: string): number | undefined {
    return region === 'control' ? this.alternateStatus() : undefined;
  }

  read(region: string, offset: number, size: AccessSize): number {
    let value: number;
    switch (region) {
      case 'command': value = this.readCommandBlock(offset, size); break;
      case 'control': value = this.alternateStatus(); break;
      case 'bus-master': value = this.busMaster.read(offset, size); break;
      default:
        this.odd.unknownRegionAccesses++;
        return size === 4 ? 0xffff_ffff : (1 << (8 * size)) - 1;
    }
    this.updateIrq();
    return value;
  }

  write(region: string, offset: number, size: AccessSize, value: number): void {
    switch (region) {
      case 'command': this.writeCommandBlock(offset, size, value); break;
      case 'control': this.writeDeviceControl(value & 0xff); break;
      case 'bus-master': this.writeBusMaster(offset, size, value); break;
      default:
        this.odd.unknownRegionAccesses++;
        return;
    }
    this.updateIrq();
  }

  private readCommandBlock(offset: number, size: AccessSize): number {
    if (offset === TaskFileOffset.DATA) {
      if (size === 1) {
        this.odd.byteDataPortAccesses++;
        return 0xff;
      }
      return this.drive.present ? this.drive.readData(size) : 0;
    }
    if (size === 4) {
      this.odd.wideRegisterAccesses++;
      return 0xffff_ffff;
    }
    if (size === 2) {
      const high = offset + 1 <= TaskFileOffset.STATUS_COMMAND ? this.readRegisterByte(offset + 1) : 0xff;
      return this.readRegisterByte(offset) | (high << 8);
    }
    return this.readRegisterByte(offset);
  }

  /** A byte read of registers 1–7, from the selected drive's copy; all zero on a channel with no drive (as QEMU). */
  private readRegisterByte(offset: number): number {
    if (!this.anyPresent) return 0;
    const drive = this.drive;
    const hob = (this.deviceControl & DeviceControl.HOB) !== 0;
    switch (offset) {
      case TaskFileOffset.ERROR_FEATURES:
        if (!drive.present) return 0;
        return hob ? readRegister(drive.taskFile, offset, true) : drive.error;
      case TaskFileOffset.STATUS_COMMAND:
        if (!drive.present) return 0;
        // Reading Status acknowledges the interrupt (ATA/ATAPI-6, Status register).
        drive.interruptPending = false;
        return drive.status;
      default:
        return readRegister(drive.taskFile, offset, hob);
    }
  }

  /** Alternate Status: Status without acknowledging the interrupt. An absent drive's reads 0 (ATA/ATAPI-6: device 0 answers 00h for an absent device 1). */
  private alternateStatus(): number {
    return this.drive.present ? this.drive.status : 0;
  }

  private writeCommandBlock(offset: number, size: AccessSize, value: number): void {
    if (offset === TaskFileOffset.DATA) {
      if (size === 1) {
        this.odd.byteDataPortAccesses++;
        return;
      }
      if (!this.drive.present) {
        this.odd.dataWritesWithoutDrq++;
        return;
      }
      this.drive.writeData(size, value);
      // The last byte of a command packet may start a PACKET command's DMA.
      if (this.drive.dmaDirection() !== undefined) this.runDma();
      return;
    }
    if (size === 4) {
      this.odd.wideRegisterAccesses++;
      return;
    }
    this.writeRegisterByte(offset, value & 0xff);
    if (size === 2 && offset + 1 <= TaskFileOffset.STATUS_COMMAND) this.writeRegisterByte(offset + 1, (value >> 8) & 0xff);
  }

  private writeRegisterByte(offset: number, byte: number): void {
    const drive = this.drive;
    const overriding = offset === TaskFileOffset.STATUS_COMMAND && drive.present && drive.takesWhileBusy(byte)
      && (this.deviceControl & DeviceControl.SRST) === 0;
    if (drive.busy && !overriding) {
      // The Command Block belongs to the device while BSY or DRQ (ATA/ATAPI-6): writes are ignored, as QEMU.
      if (offset === TaskFileOffset.STATUS_COMMAND) this.odd.commandsWhileBusy++;
      else this.odd.registerWritesWhileBusy++;
      return;
    }
    // Any Command Block write clears HOB (ATA/ATAPI-6, Device Control register).
    this.deviceControl &= ~DeviceControl.HOB;
    if (offset !== TaskFileOffset.STATUS_COMMAND) {
      // Both devices on the cable latch every register write.
      latchRegister(this.drives[0].taskFile, offset, byte);
      latchRegister(this.drives[1].taskFile, offset, byte);
      if (offset === TaskFileOffset.DEVICE) this.selected = (byte & DeviceHead.DEV) !== 0 ? 1 : 0;
      return;
    }
    this.command(byte);
  }

  private command(code: number): void {
    if (code === Command.EXECUTE_DEVICE_DIAGNOSTIC && this.anyPresent) {
      // EXECUTE DEVICE DIAGNOSTIC: both devices run it, whichever is selected; device 0 reports.
      this.executeDeviceDiagnostic();
      return;
    }
    const drive = this.drive;
    if (!drive.present) {
      this.odd.commandsToAbsentDevice++;
      return;
    }
    if (drive.asleep && !drive.takesWhileBusy(code)) {
      // SLEEP: a sleeping device answers only a reset (and a PACKET device DEVICE RESET).
      this.odd.commandsWhileAsleep++;
      return;
    }
    drive.execute(code);
    if (drive.dmaDirection() !== undefined) this.runDma();
  }

  private executeDeviceDiagnostic(): void {
    for (const drive of this.drives) drive.completeReset('diagnostic');
    this.selected = 0;
    if (this.drives[0].present) this.drives[0].interruptPending = true;
  }

  private writeDeviceControl(value: number): void {
    const wasResetting = (this.deviceControl & DeviceControl.SRST) !== 0;
    const resetting = (value & DeviceControl.SRST) !== 0;
    this.deviceControl = value;
    if (resetting && !wasResetting) {
      for (const drive of this.drives) drive.holdInReset();
    } else if (!resetting && wasResetting) {
      // The reset completes as SRST is released (its up-to-31 s are not modelled); device 0 is selected after it (DEV = 0 in the signature).
      for (const drive of this.drives) drive.completeReset('reset');
      this.selected = 0;
    }
  }

  // --- bus-master DMA ----------------------------------------------------------------

  private writeBusMaster(offset: number, size: AccessSize, value: number): void {
    if (this.busMaster.write(offset, size, value) === 'start') this.runDma();
  }

  /**
   * Moves the selected drive's DMA data through the PRD table while the bus
   * master is active: the whole transfer at once, as soon as both the
   * command and the start bit are there (QEMU moves it asynchronously, with
   * the same register outcome). Outcomes (SFF-8038i Table 3): the table
   * covers the transfer exactly — not active, interrupt; the table is larger
   * — still active, interrupt; the table is smaller — not active, no
   * interrupt, the drive still waiting with DRQ; guest memory not reachable —
   * error, not active, and the command ends in ABRT.
   */
  private runDma(): void {
    const bm = this.busMaster;
    const drive = this.drive;
    const direction = drive.dmaDirection();
    if (direction === undefined || !bm.active) return;
    // QEMU moves the data the command's way whatever the direction bit says; so does this model, and counts it.
    if (bm.toMemory !== (direction === 'in')) this.odd.dmaDirectionMismatches++;
    const memory = this.context.memory;
    while (drive.dmaRemaining() > 0) {
      const fetched = bm.fetchRegion(memory);
      if (fetched === 'end-of-table') {
        this.odd.dmaTablesExhausted++;
        bm.status &= ~BusMasterStatus.ACTIVE;
        return;
      }
      if (fetched === 'memory-error') {
        this.dmaMemoryError(drive);
        return;
      }
      const chunk = Math.min(bm.regionBytes, drive.dmaRemaining(), DMA_CHUNK);
      const bytes = this.dmaScratch.subarray(0, chunk);
      if (direction === 'in') {
        if (!drive.dmaIn(bytes)) {
          bm.status &= ~BusMasterStatus.ACTIVE;
          return;
        }
        if (!memory.write(bm.regionAddress, bytes)) {
          this.dmaMemoryError(drive);
          return;
        }
      } else {
        if (!memory.read(bm.regionAddress, bytes)) {
          this.dmaMemoryError(drive);
          return;
        }
        if (!drive.dmaOut(bytes)) {
          bm.status &= ~BusMasterStatus.ACTIVE;
          return;
        }
      }
      bm.consume(chunk);
    }
    drive.finishDma();
    if (bm.exhausted) bm.status &= ~BusMasterStatus.ACTIVE;
  }

  private dmaMemoryError(drive: ChannelDevice): void {
    this.odd.dmaMemoryErrors++;
    this.context.log.warn('ATA bus master: a PRD entry or region lies outside guest memory');
    this.busMaster.status = (this.busMaster.status | BusMasterStatus.ERROR) & ~BusMasterStatus.ACTIVE;
    drive.abortDma();
  }

  // --- INTRQ ------------------------------------------------------------------------

  private updateIrq(): void {
    this.driveIrq(false);
  }

  /** Drives irq output 0 from the selected drive's pending interrupt and nIEN, only when the level changes (or forced, at construction and restore). */
  private driveIrq(force: boolean): void {
    const drive = this.drive;
    const level = drive.present && drive.interruptPending && (this.deviceControl & DeviceControl.NIEN) === 0;
    if (!force && level === this.intrq) return;
    if (level && !this.intrq) this.busMaster.status |= BusMasterStatus.INTERRUPT;
    this.intrq = level;
    this.context.setIrq(0, level);
  }

  /** The level of INTRQ (irq output 0) as last driven. */
  get interruptLine(): boolean {
    return this.intrq;
  }

  // --- host side ----------------------------------------------------------------------

  /**
   * The host changes the disc in ATAPI drive `unit`: `medium` is put in and
   * the tray closed on it (the drive then reports UNIT ATTENTION and a NEW
   * MEDIA event), or undefined takes the disc out (the tray opens; a MEDIA
   * REMOVAL event). Forced: a guest's lock does not stop the host. Throws
   * `AtaConfigError` when `unit` is no ATAPI drive or `medium` is not whole
   * 2048-byte blocks.
   */
  changeMedium(unit: 0 | 1, medium: BlockBackend | undefined): void {
    const drive = this.drives[unit];
    if (!(drive instanceof AtapiDrive)) throw new AtaConfigError(`device ${unit} of this channel is no ATAPI drive: it has no disc to change`);
    drive.changeMedium(medium);
  }

  /** Writes every drive's cached data to stable storage (the host calls this at VM shutdown). False if a backend failed. */
  flushWriteCaches(): boolean {
    let ok = true;
    for (const drive of this.drives) if (drive.present && !drive.flushWriteCache()) ok = false;
    return ok;
  }

  getState(): AtaChannelState {
    return {
      model: MODEL,
      version: VERSION,
      deviceControl: this.deviceControl,
      selected: this.selected,
      busMaster: this.busMaster.getState(),
      drives: [this.drives[0].getState(), this.drives[1].getState()],
    };
  }

  setState(state: AtaChannelState): void {
    expectState(state, MODEL, VERSION);
    state.drives.forEach((drive, unit) => {
      const ours = this.drives[unit];
      if (drive.present !== (ours?.present ?? false)) {
        throw new DeviceStateError(`ata-channel state has device ${unit} ${drive.present ? 'present' : 'absent'}, this channel has it ${drive.present ? 'absent' : 'present'}`);
      }
      if (drive.kind !== ours?.kind) throw new DeviceStateError(`ata-channel state has device ${unit} of kind ${drive.kind}, this channel one of kind ${ours?.kind ?? 'none'}`);
    });
    this.deviceControl = state.deviceControl;
    this.selected = state.selected;
    this.busMaster.setState(state.busMaster);
    this.drives[0].setState(state.drives[0]);
    this.drives[1].setState(state.drives[1]);
    const drive = this.drive;
    this.intrq = drive.present && drive.interruptPending && (this.deviceControl & DeviceControl.NIEN) === 0;
    this.context.setIrq(0, this.intrq);
  }

  anomalies(): Readonly<Record<string, number>> {
    return { ...this.odd };
  }
}

