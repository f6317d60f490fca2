/**
 * The SCSI logical unit inside an ATAPI CD/DVD-ROM drive: it takes a
 * command descriptor block and answers with data, a request for data, or
 * CHECK CONDITION with sense data (SAM-3's device server; the commands of
 * SPC-3 and MMC-5, listed in `operation-codes.ts`). It knows nothing of the
 * ATA registers: the packet drive (`atapi-drive.ts`) carries its CDBs in and
 * its data out.
 *
 * Its state: the sense of the last command, a pending UNIT ATTENTION, the
 * media event GET EVENT STATUS NOTIFICATION will report, the tray (open or
 * closed, locked by PREVENT ALLOW MEDIUM REMOVAL), the read speed SET CD
 * SPEED chose, and the disc — the host's image, which the logical unit only
 * reads.
 *
 * Behaviour the specifications require and QEMU's drive does not show:
 * a UNIT ATTENTION (29h, power on) is pending after power-on (SAM-3, unit
 * attention conditions); INQUIRY answers the Device Identification page it
 * lists (QEMU fails it). Behaviour they leave open follows QEMU's: REQUEST
 * SENSE returns the sense of the last command, and MODE SELECT's pages are
 * taken and ignored.
 */
import type { DeviceLogger } from '@splitvisor/abi';
import { DeviceStateError } from '@splitvisor/abi';
import type { BlockBackend } from '../block/block-backend.ts';
import { Disc, LOGICAL_BLOCK_BYTES, Profile } from './disc.ts';
import { discInformation } from './disc-information.ts';
import { MediaEvent, NotificationClass, eventStatusData } from './event-status.ts';
import { configurationData } from './get-configuration.ts';
import type { InquiryIdentity } from './inquiry.ts';
import { standardInquiryData, vitalProductData } from './inquiry.ts';
import { mechanismStatusData } from './mechanism-status.ts';
import { MAX_READ_SPEED, MIN_READ_SPEED, modeSenseData } from './mode-pages.ts';
import { OperationCode } from './operation-codes.ts';
import type { AdditionalSense, SenseData } from './sense.ts';
import { Asc, NO_SENSE, SenseKey, fixedSenseData, sense } from './sense.ts';
import { tocData } from './toc.ts';

/** What a command asks of the packet drive once its CDB is in. */
export type PacketOutcome =
  /** GOOD status, no data. */
  | { readonly kind: 'complete' }
  /** These bytes to the host, then GOOD. */
  | { readonly kind: 'data-in'; readonly data: Uint8Array }
  /** `blocks` logical blocks of the disc from `lba` to the host (read as they go: `readMedium`), then GOOD. */
  | { readonly kind: 'medium-in'; readonly lba: number; readonly blocks: number }
  /** A parameter list of `length` bytes from the host, then `receiveParameters`. */
  | { readonly kind: 'data-out'; readonly length: number }
  | { readonly kind: 'check-condition'; readonly sense: SenseData };

export type MmcLogicalUnitState = {
  /** The sense of the last command (REQUEST SENSE's answer). */
  readonly sense: SenseData;
  readonly unitAttention: AdditionalSense | null;
  /** The media event the next poll reports (`MediaEvent`). */
  readonly mediaEvent: number;
  /** The disc in the drive, by its size (the image is the host's: the host restoring the drive opens it again). */
  readonly disc: { readonly blocks: number } | null;
  readonly trayOpen: boolean;
  readonly preventRemoval: boolean;
  /** kB/s, as SET CD SPEED chose it. */
  readonly readSpeed: number;
};

/** Counts of command packets the logical unit refused (shared with the drive and its channel). */
export type LogicalUnitAnomalies = {
  /** Operation codes it does not implement: ILLEGAL REQUEST, INVALID COMMAND OPERATION CODE. */
  invalidOperationCodes: number;
  /** CDB fields it cannot honour: ILLEGAL REQUEST, INVALID FIELD IN CDB. */
  invalidCdbFields: number;
  /** Reads past the disc's last block: ILLEGAL REQUEST, LOGICAL BLOCK ADDRESS OUT OF RANGE. */
  blocksOutOfRange: number;
  backendReadErrors: number;
};

type Command = {
  readonly run: (cdb: DataView) => PacketOutcome;
  /** Fails NOT READY without a disc ready to read. */
  readonly needsMedium: boolean;
  /** Reports a pending UNIT ATTENTION instead of running (all but INQUIRY, REQUEST SENSE, GET CONFIGURATION and GET EVENT STATUS NOTIFICATION). */
  readonly reportsUnitAttention: boolean;
};

const COMPLETE: PacketOutcome = { kind: 'complete' };

/** READ CD byte 9 with only the user data selected (MMC-5 Table 245); 00h selects nothing. */
const READ_CD_USER_DATA = 0x10;
/** READ CD expected sector types (byte 1, bits 4:2): any, and Mode 1 — what an ISO image's blocks are. */
const SECTOR_TYPE_ANY = 0;
const SECTOR_TYPE_MODE_1 = 2;
const SECTOR_TYPE_LAST = 5;

export class MmcLogicalUnit {
  private disc: Disc | undefined;
  private sense: SenseData = NO_SENSE;
  private unitAttention: AdditionalSense | undefined = Asc.POWER_ON_RESET_OR_BUS_DEVICE_RESET_OCCURRED;
  private mediaEvent: number = MediaEvent.NO_CHANGE;
  private trayOpen = false;
  private preventRemoval = false;
  private readSpeed = MAX_READ_SPEED;
  private readonly identity: InquiryIdentity;
  private readonly odd: LogicalUnitAnomalies;
  private readonly log: DeviceLogger;
  private readonly commands: ReadonlyMap<number, Command>;

  /** `medium` must pass `discImageProblem`. */
  constructor(identity: InquiryIdentity, medium: BlockBackend | undefined, odd: LogicalUnitAnomalies, log: DeviceLogger) {
    this.identity = identity;
    this.disc = medium === undefined ? undefined : new Disc(medium);
    this.odd = odd;
    this.log = log;
    const command = (run: (cdb: DataView) => PacketOutcome, needsMedium: boolean, reportsUnitAttention = true): Command => ({ run, needsMedium, reportsUnitAttention });
    this.commands = new Map<number, Command>([
      [OperationCode.TEST_UNIT_READY, command(() => COMPLETE, true)],
      [OperationCode.REQUEST_SENSE, command((cdb) => this.requestSense(cdb), false, false)],
      [OperationCode.INQUIRY, command((cdb) => this.inquiry(cdb), false, false)],
      [OperationCode.MODE_SELECT_6, command((cdb) => this.modeSelect(cdb, cdb.getUint8(4)), false)],
      [OperationCode.MODE_SELECT_10, command((cdb) => this.modeSelect(cdb, cdb.getUint16(7)), false)],
      [OperationCode.MODE_SENSE_6, command((cdb) => this.modeSense(cdb, false, cdb.getUint8(4)), false)],
      [OperationCode.MODE_SENSE_10, command((cdb) => this.modeSense(cdb, true, cdb.getUint16(7)), false)],
      [OperationCode.START_STOP_UNIT, command((cdb) => this.startStopUnit(cdb), false)],
      [OperationCode.PREVENT_ALLOW_MEDIUM_REMOVAL, command((cdb) => this.preventAllowMediumRemoval(cdb), false)],
      [OperationCode.READ_CAPACITY_10, command(() => this.readCapacity(), true)],
      [OperationCode.READ_10, command((cdb) => this.readBlocks(cdb.getUint32(2), cdb.getUint16(7)), true)],
      [OperationCode.READ_12, command((cdb) => this.readBlocks(cdb.getUint32(2), cdb.getUint32(6)), true)],
      [OperationCode.READ_CD, command((cdb) => this.readCd(cdb), true)],
      [OperationCode.READ_TOC_PMA_ATIP, command((cdb) => this.readToc(cdb), true)],
      [OperationCode.READ_DISC_INFORMATION, command((cdb) => this.readDiscInformation(cdb), true)],
      [OperationCode.GET_CONFIGURATION, command((cdb) => this.getConfiguration(cdb), false, false)],
      [OperationCode.GET_EVENT_STATUS_NOTIFICATION, command((cdb) => this.getEventStatusNotification(cdb), false, false)],
      [OperationCode.MECHANISM_STATUS, command((cdb) => dataIn(mechanismStatusData(this.trayOpen), cdb.getUint16(8)), false)],
      [OperationCode.SET_CD_SPEED, command((cdb) => this.setCdSpeed(cdb), false)],
    ]);
  }

  /** A disc is in and the tray closed: the medium can be read. */
  get ready(): boolean {
    return this.disc !== undefined && !this.trayOpen;
  }

  /** The current profile (MMC-5): the disc's when ready, else none. */
  private get profile(): number {
    return this.disc !== undefined && !this.trayOpen ? this.disc.profile : Profile.NONE;
  }

  // --- commands ---------------------------------------------------------------------------

  /** Runs the 12-byte command packet `packet`. */
  execute(packet: Uint8Array): PacketOutcome {
    const cdb = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
    const command = this.commands.get(cdb.getUint8(0));
    if (command === undefined) {
      this.odd.invalidOperationCodes++;
      return this.checkCondition(sense(SenseKey.ILLEGAL_REQUEST, Asc.INVALID_COMMAND_OPERATION_CODE));
    }
    if (command.reportsUnitAttention && this.unitAttention !== undefined) {
      const attention = this.unitAttention;
      this.unitAttention = undefined;
      return this.checkCondition(sense(SenseKey.UNIT_ATTENTION, attention));
    }
    if (command.needsMedium && !this.ready) return this.notReady();
    const outcome = command.run(cdb);
    if (outcome.kind !== 'check-condition') this.sense = NO_SENSE;
    return outcome;
  }

  /** Ends the command in CHECK CONDITION with `data` as its sense (also for the drive's own failures, a DMA abort). */
  checkCondition(data: SenseData): PacketOutcome & { readonly kind: 'check-condition' } {
    this.sense = data;
    return { kind: 'check-condition', sense: data };
  }

  private notReady(): PacketOutcome & { readonly kind: 'check-condition' } {
    return this.checkCondition(sense(SenseKey.NOT_READY, this.trayOpen ? Asc.MEDIUM_NOT_PRESENT_TRAY_OPEN : Asc.MEDIUM_NOT_PRESENT));
  }

  private invalidField(): PacketOutcome {
    this.odd.invalidCdbFields++;
    return this.checkCondition(sense(SenseKey.ILLEGAL_REQUEST, Asc.INVALID_FIELD_IN_CDB));
  }

  /** REQUEST SENSE (SPC-3 6.27): a pending UNIT ATTENTION first (and it is then cleared), else the last command's sense. Fixed format only (DESC 0). */
  private requestSense(cdb: DataView): PacketOutcome {
    if ((cdb.getUint8(1) & 0x01) !== 0) return this.invalidField();
    const attention = this.unitAttention;
    this.unitAttention = undefined;
    const data = attention === undefined ? this.sense : sense(SenseKey.UNIT_ATTENTION, attention);
    return dataIn(fixedSenseData(data), cdb.getUint8(4));
  }

  /** INQUIRY (SPC-3 6.4): the standard data, or a VPD page with EVPD. CmdDt (obsolete) is refused. */
  private inquiry(cdb: DataView): PacketOutcome {
    const flags = cdb.getUint8(1);
    const evpd = (flags & 0x01) !== 0;
    const page = cdb.getUint8(2);
    if ((flags & 0x02) !== 0 || (!evpd && page !== 0)) return this.invalidField();
    const data = evpd ? vitalProductData(page, this.identity) : standardInquiryData(this.identity);
    return data === undefined ? this.invalidField() : dataIn(data, cdb.getUint16(3));
  }

  /** MODE SENSE(6)/(10) (SPC-3 6.9, 6.10); DBD and LLBAA change nothing, as there are no block descriptors. */
  private modeSense(cdb: DataView, tenByte: boolean, allocation: number): PacketOutcome {
    const control = cdb.getUint8(2);
    const result = modeSenseData(
      { tenByte, pageControl: control >> 6, pageCode: control & 0x3f, subpageCode: cdb.getUint8(3) },
      { locked: this.preventRemoval, readSpeed: this.readSpeed },
    );
    if ('error' in result) {
      this.odd.invalidCdbFields++;
      return this.checkCondition(sense(SenseKey.ILLEGAL_REQUEST, result.error));
    }
    return dataIn(result.data, allocation);
  }

  /** MODE SELECT(6)/(10) (SPC-3 6.7, 6.8): the parameter list is taken (and ignored); saving pages (SP) is refused. */
  private modeSelect(cdb: DataView, length: number): PacketOutcome {
    if ((cdb.getUint8(1) & 0x01) !== 0) return this.invalidField();
    return length === 0 ? COMPLETE : { kind: 'data-out', length };
  }

  /**
   * A data-out command's parameter list has arrived. MODE SELECT is the only
   * data-out command, and its pages change nothing (MODE SENSE reports no
   * field changeable): the command ends GOOD.
   */
  parameterListReceived(): void {
    this.sense = NO_SENSE;
  }

  /**
   * START STOP UNIT (MMC-5 6.40): with LoEj, Start 0 opens the tray (refused
   * while PREVENT ALLOW MEDIUM REMOVAL locks it) and Start 1 closes it; without,
   * spinning the disc up or down changes nothing here. The power conditions
   * active, idle and standby are taken; others are refused.
   */
  private startStopUnit(cdb: DataView): PacketOutcome {
    const byte4 = cdb.getUint8(4);
    const powerCondition = byte4 >> 4;
    if (powerCondition !== 0) return powerCondition <= 3 ? COMPLETE : this.invalidField();
    if ((byte4 & 0x02) === 0) return COMPLETE;
    if ((byte4 & 0x01) === 0) {
      if (this.preventRemoval) return this.checkCondition(sense(SenseKey.ILLEGAL_REQUEST, Asc.MEDIUM_REMOVAL_PREVENTED));
      if (!this.trayOpen && this.disc !== undefined) this.mediaEvent = MediaEvent.MEDIA_REMOVAL;
      this.trayOpen = true;
      return COMPLETE;
    }
    if (this.trayOpen && this.disc !== undefined) this.mediumArrived();
    this.trayOpen = false;
    return COMPLETE;
  }

  /** PREVENT ALLOW MEDIUM REMOVAL (MMC-5 6.13): bit 0 of the Prevent field locks the tray (a persistent prevention is taken as a plain one). */
  private preventAllowMediumRemoval(cdb: DataView): PacketOutcome {
    this.preventRemoval = (cdb.getUint8(4) & 0x01) !== 0;
    return COMPLETE;
  }

  /** READ CAPACITY(10) (MMC-5 6.23): the last logical block address and the block length. */
  private readCapacity(): PacketOutcome {
    const data = new Uint8Array(8);
    const view = new DataView(data.buffer);
    view.setUint32(0, (this.disc?.blocks ?? 1) - 1);
    view.setUint32(4, LOGICAL_BLOCK_BYTES);
    return dataIn(data, data.length);
  }

  /** READ(10), READ(12): `count` blocks from `lba`, all on the disc; none is no data and GOOD. */
  private readBlocks(lba: number, count: number): PacketOutcome {
    if (lba + count > (this.disc?.blocks ?? 0)) {
      this.odd.blocksOutOfRange++;
      return this.checkCondition(sense(SenseKey.ILLEGAL_REQUEST, Asc.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE));
    }
    return count === 0 ? COMPLETE : { kind: 'medium-in', lba, blocks: count };
  }

  /**
   * READ CD (MMC-5 6.19) as far as user data goes: of byte 9's fields, the
   * user data alone (2048 bytes a Mode 1 block) or nothing; no sub-channel.
   * A sector type other than any or Mode 1 is the wrong mode for the data
   * track; a DVD has no CD sectors.
   */
  private readCd(cdb: DataView): PacketOutcome {
    const sectorType = (cdb.getUint8(1) >> 2) & 0x07;
    const count = (cdb.getUint8(6) << 16) | cdb.getUint16(7);
    const fields = cdb.getUint8(9);
    if (sectorType > SECTOR_TYPE_LAST || (fields !== 0 && fields !== READ_CD_USER_DATA) || (cdb.getUint8(10) & 0x07) !== 0) return this.invalidField();
    if (this.disc?.isCd !== true) return this.checkCondition(sense(SenseKey.ILLEGAL_REQUEST, Asc.CANNOT_READ_MEDIUM_INCOMPATIBLE_FORMAT));
    if (sectorType !== SECTOR_TYPE_ANY && sectorType !== SECTOR_TYPE_MODE_1) return this.checkCondition(sense(SenseKey.ILLEGAL_REQUEST, Asc.ILLEGAL_MODE_FOR_THIS_TRACK));
    const outcome = this.readBlocks(cdb.getUint32(2), count);
    return fields === 0 && outcome.kind === 'medium-in' ? COMPLETE : outcome;
  }

  /** READ TOC/PMA/ATIP: the format from byte 2, or from byte 9 bits 7:6 (SFF-8020i) when byte 2 names none. */
  private readToc(cdb: DataView): PacketOutcome {
    const format = (cdb.getUint8(2) & 0x0f) || cdb.getUint8(9) >> 6;
    const data = tocData({ format, msf: (cdb.getUint8(1) & 0x02) !== 0, track: cdb.getUint8(6) }, this.disc?.blocks ?? 0, this.disc?.isCd === true);
    return data === undefined ? this.invalidField() : dataIn(data, cdb.getUint16(7));
  }

  /** READ DISC INFORMATION: the standard disc information only (data type 000b). */
  private readDiscInformation(cdb: DataView): PacketOutcome {
    if ((cdb.getUint8(1) & 0x07) !== 0) return this.invalidField();
    return dataIn(discInformation(), cdb.getUint16(7));
  }

  /** GET CONFIGURATION (MMC-5 6.6). */
  private getConfiguration(cdb: DataView): PacketOutcome {
    const data = configurationData(cdb.getUint8(1) & 0x03, cdb.getUint16(2), this.profile);
    return data === undefined ? this.invalidField() : dataIn(data, cdb.getUint16(7));
  }

  /** GET EVENT STATUS NOTIFICATION (MMC-5 6.8), polled only (Morphing reports no asynchronous events); a reported media event is cleared. */
  private getEventStatusNotification(cdb: DataView): PacketOutcome {
    if ((cdb.getUint8(1) & 0x01) === 0) return this.invalidField();
    const requested = cdb.getUint8(4);
    const data = eventStatusData(requested, { event: this.mediaEvent, mediumPresent: this.ready, trayOpen: this.trayOpen });
    if ((requested & (1 << NotificationClass.MEDIA)) !== 0) this.mediaEvent = MediaEvent.NO_CHANGE;
    return dataIn(data, cdb.getUint16(7));
  }

  /** SET CD SPEED (MMC-5 6.37): the read speed, bounded to what the drive does (FFFFh: the fastest); the write speed is moot. */
  private setCdSpeed(cdb: DataView): PacketOutcome {
    const requested = cdb.getUint16(2);
    this.readSpeed = Math.max(MIN_READ_SPEED, Math.min(MAX_READ_SPEED, requested));
    return COMPLETE;
  }

  // --- the disc ---------------------------------------------------------------------------

  /**
   * Copies the disc's bytes from byte `offset` into `into` for a read's data
   * phase. Undefined when done, else the sense of the CHECK CONDITION that
   * ends the command: MEDIUM ERROR at the block the backend could not read,
   * or NOT READY if the disc went away since the command started.
   */
  readMedium(offset: number, into: Uint8Array): SenseData | undefined {
    if (this.disc === undefined || this.trayOpen) return this.notReady().sense;
    const failed = this.disc.read(offset, into);
    if (failed === undefined) return undefined;
    this.odd.backendReadErrors++;
    this.log.warn(`ATAPI drive: the backend failed to read logical block ${failed}`);
    return this.checkCondition(sense(SenseKey.MEDIUM_ERROR, Asc.UNRECOVERED_READ_ERROR, failed)).sense;
  }

  /**
   * The host puts a disc in (the tray closes on it: UNIT ATTENTION, a NEW
   * MEDIA event) or takes it out (undefined: the tray opens, a MEDIA REMOVAL
   * event). A lock does not stop the host, as a forced eject does not.
   * `medium` must pass `discImageProblem`.
   */
  changeMedium(medium: BlockBackend | undefined): void {
    if (medium === undefined) {
      if (this.disc === undefined) return;
      this.disc = undefined;
      this.trayOpen = true;
      this.mediaEvent = MediaEvent.MEDIA_REMOVAL;
      return;
    }
    this.disc = new Disc(medium);
    this.trayOpen = false;
    this.mediumArrived();
  }

  private mediumArrived(): void {
    this.mediaEvent = MediaEvent.NEW_MEDIA;
    // A power-on attention still pending says more (SAM-3: the highest-precedence condition is kept).
    if (this.unitAttention?.asc !== Asc.POWER_ON_RESET_OR_BUS_DEVICE_RESET_OCCURRED.asc) this.unitAttention = Asc.NOT_READY_TO_READY_CHANGE_MEDIUM_MAY_HAVE_CHANGED;
  }

  // --- state ----------------------------------------------------------------------------------

  getState(): MmcLogicalUnitState {
    return {
      sense: { ...this.sense },
      unitAttention: this.unitAttention === undefined ? null : { ...this.unitAttention },
      mediaEvent: this.mediaEvent,
      disc: this.disc === undefined ? null : { blocks: this.disc.blocks },
      trayOpen: this.trayOpen,
      preventRemoval: this.preventRemoval,
      readSpeed: this.readSpeed,
    };
  }

  /** Throws `DeviceStateError` when the state's disc is not the one this drive was given. */
  setState(state: MmcLogicalUnitState): void {
    const blocks = this.disc?.blocks ?? null;
    if ((state.disc?.blocks ?? null) !== blocks) {
      throw new DeviceStateError(`the ATAPI state has ${state.disc === null ? 'no disc' : `a disc of ${state.disc.blocks} blocks`}, this drive ${blocks === null ? 'none' : `one of ${blocks}`}`);
    }
    this.sense = { ...state.sense };
    this.unitAttention = state.unitAttention === null ? undefined : { ...state.unitAttention };
    this.mediaEvent = state.mediaEvent;
    this.trayOpen = state.trayOpen;
    this.preventRemoval = state.preventRemoval;
    this.readSpeed = state.readSpeed;
  }
}

/** A data-in answer cut to the command's allocation length (SPC-3 4.3.4.6). */
function dataIn(data: Uint8Array, allocation: number): PacketOutcome {
  return { kind: 'data-in', data: data.subarray(0, Math.min(data.length, allocation)) };
}
