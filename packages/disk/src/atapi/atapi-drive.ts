/**
 * An ATAPI CD/DVD-ROM drive on an ATA channel: a device of the PACKET
 * command feature set (ATA/ATAPI-6: the PACKET and IDENTIFY PACKET DEVICE
 * commands, the PIO data-in, PIO data-out and DMA protocols of PACKET;
 * SFF-8020i for the ATAPI task file). The SCSI commands its packets carry go
 * to its logical unit (`mmc-logical-unit.ts`); this file is the ATA side.
 *
 * A PACKET command: the host loads Features (DMA) and the byte count limit
 * (LBA Mid/High), writes A0h; the drive asks for the 12-byte packet with DRQ
 * and Interrupt Reason C/D, without an interrupt (word 0: DRQ within 50 µs).
 * Then, by PIO, each DRQ data block of at most the limit comes with an
 * interrupt, its size in LBA Mid/High and I/O set for data to the host; by
 * DMA the bus master moves it all. The end is an interrupt with C/D and I/O
 * (status), Status 50h, or 41h with the sense key in Error bits 7:4 for
 * CHECK CONDITION. Everything completes at once, as on QEMU's empty drive.
 *
 * After power-on and every reset the drive shows the PACKET signature
 * (14h/EBh in LBA Mid/High) with Status 00h: DRDY is clear until a command
 * completes (ATA/ATAPI-6, the signature; QEMU shows 50h at power-on but 00h
 * after SRST). IDENTIFY DEVICE and READ SECTOR(S) are aborted with the
 * signature loaded, so a driver that tries them learns what answered.
 */
import type { DeviceLogger } from '@splitvisor/abi';
import { DeviceStateError } from '@splitvisor/abi';
import type { AtaDeviceState } from '../ata/ata-device.ts';
import { AtaDevice } from '../ata/ata-device.ts';
import type { ChannelDevice, ChannelDeviceState } from '../ata/channel-device.ts';
import { readDataWord, writeDataWord } from '../ata/data-port.ts';
import { AtaConfigError } from '../ata/drive.ts';
import { isIdentifyString } from '../ata/identify.ts';
import { powerModeAfterReset } from '../ata/power-management.ts';
import { Command, DIAGNOSTIC_PASSED, DeviceHead, Feature, Status } from '../ata/registers.ts';
import { signatureTaskFile } from '../ata/task-file.ts';
import type { BlockBackend } from '../block/block-backend.ts';
import { LOGICAL_BLOCK_BYTES, discImageProblem } from './disc.ts';
import { identifyPacketDevice } from './identify-packet-device.ts';
import type { LogicalUnitAnomalies, MmcLogicalUnitState } from './mmc-logical-unit.ts';
import { MmcLogicalUnit } from './mmc-logical-unit.ts';
import {
  COMMAND_PACKET_BYTES, PacketFeature, REASON_DATA_IN, REASON_DATA_OUT, REASON_PACKET, REASON_STATUS, byteCountLimit, dataBlockBytes,
} from './registers.ts';
import type { SenseData } from './sense.ts';
import { Asc, SenseKey, sense } from './sense.ts';

export interface AtapiDriveConfig {
  readonly kind: 'cdrom';
  /** The disc: a BlockBackend (512-byte sectors) whose size is a whole number of 2048-byte blocks; absent = no disc (MEDIUM NOT PRESENT). */
  readonly medium?: BlockBackend;
  /** IDENTIFY PACKET DEVICE words 27–46 (up to 40 printable ASCII characters) and INQUIRY's product identification (its first 16). Default `SPLITVISOR DVD-ROM`. */
  readonly model?: string;
  /** IDENTIFY PACKET DEVICE words 10–19, up to 20 characters. Default `SVCD0001` (device 0) / `SVCD0002` (device 1). */
  readonly serial?: string;
  /** IDENTIFY PACKET DEVICE words 23–26 (up to 8 characters) and INQUIRY's product revision level (its first 4). Default `1.0`. */
  readonly firmware?: string;
  /** INQUIRY's T10 vendor identification, up to 8 characters. Default `SPLITVSR` (QEMU's drive says `QEMU`). */
  readonly vendor?: string;
}

/**
 * The PACKET command in progress:
 * - `packet`: receiving the command packet, `position` of its 12 bytes in;
 * - `identify`: IDENTIFY PACKET DEVICE's block going out by PIO (ATA's data-in protocol);
 * - `pio-in` / `pio-out`: a PIO data phase, `block` bytes in the current DRQ
 *   block (of at most `limit`), `position` of them moved, `done` bytes of
 *   the `length` before it;
 * - `dma-in` / `dma-out`: waiting for (or under) the bus master, `done` of `length` moved.
 * Data-in comes from `data` (`source` buffer: a reply the logical unit made)
 * or from the disc from byte `mediumOffset` (`source` medium); data-out
 * collects in `data`. `blockData` holds the current PIO DRQ block.
 */
export type AtapiTransferState = {
  readonly phase: 'idle' | 'packet' | 'identify' | 'pio-in' | 'pio-out' | 'dma-in' | 'dma-out';
  /** The command packet: its bytes so far, then the CDB whose data phase this is. */
  readonly packet: Uint8Array;
  /** Features bit 0 at PACKET: the data moves by DMA. */
  readonly dma: boolean;
  /** The byte count limit loaded with PACKET, as written (LBA High:Mid). */
  readonly limit: number;
  readonly source: 'buffer' | 'medium';
  readonly mediumOffset: number;
  readonly length: number;
  readonly done: number;
  readonly block: number;
  readonly position: number;
  readonly data: Uint8Array;
  readonly blockData: Uint8Array;
};

export type AtapiDriveState = AtaDeviceState & {
  readonly kind: 'cdrom';
  readonly transfer: AtapiTransferState;
  readonly logicalUnit: MmcLogicalUnitState;
};

/** Counts of guest input the packet drive answers oddly (shared with its channel). */
export type AtapiAnomalies = LogicalUnitAnomalies & {
  dataReadsWithoutDrq: number;
  dataWritesWithoutDrq: number;
  /** A 32-bit data access across the end of a DRQ block that is not the last. */
  straddlingDataAccesses: number;
  /** ATA commands a PACKET device does not take (ABRT). */
  unsupportedCommands: number;
  /** A PIO data phase under a byte count limit of 0 (taken as FFFEh). */
  zeroByteCountLimits: number;
};

type Transfer = { -readonly [K in keyof AtapiTransferState]: AtapiTransferState[K] };

const NOTHING = new Uint8Array(0);
const IDLE_TRANSFER: AtapiTransferState = {
  phase: 'idle', packet: NOTHING, dma: false, limit: 0, source: 'buffer', mediumOffset: 0, length: 0, done: 0, block: 0, position: 0,
  data: NOTHING, blockData: NOTHING,
};

const IDENTIFY_BYTES = 512;
/** The largest DRQ block: the largest byte count. */
const MAX_BLOCK_BYTES = 0xfffe;

type Identity = { readonly serial: string; readonly firmware: string; readonly model: string; readonly vendor: string };

function checkedIdentity(unit: 0 | 1, config: AtapiDriveConfig): Identity {
  const identity = {
    serial: config.serial ?? `SVCD000${unit + 1}`,
    firmware: config.firmware ?? '1.0',
    model: config.model ?? 'SPLITVISOR DVD-ROM',
    vendor: config.vendor ?? 'SPLITVSR',
  };
  for (const [name, length] of [['serial', 20], ['firmware', 8], ['model', 40], ['vendor', 8]] as const) {
    const text = identity[name];
    if (!isIdentifyString(text, length)) throw new AtaConfigError(`ATAPI drive ${unit} ${name} ${JSON.stringify(text)} is not up to ${length} printable ASCII characters`);
  }
  if (config.medium !== undefined) {
    const problem = discImageProblem(config.medium);
    if (problem !== undefined) throw new AtaConfigError(`ATAPI drive ${unit}: ${problem}`);
  }
  return identity;
}

export class AtapiDrive extends AtaDevice<Transfer> implements ChannelDevice {
  readonly kind = 'cdrom' as const;
  private readonly identity: Identity;
  private readonly logicalUnit: MmcLogicalUnit;
  private readonly odd: AtapiAnomalies;
  private readonly blockBuffer = new Uint8Array(MAX_BLOCK_BYTES);

  /** Power-on: the signature, DRDY clear, the diagnostic code in Error. Throws `AtaConfigError` for a configuration that cannot be (a host error). */
  constructor(unit: 0 | 1, config: AtapiDriveConfig, odd: AtapiAnomalies, log: DeviceLogger) {
    super(unit, 'packet', IDLE_TRANSFER, odd);
    this.identity = checkedIdentity(unit, config);
    this.odd = odd;
    const { vendor, model, firmware, serial } = this.identity;
    this.logicalUnit = new MmcLogicalUnit({ vendor, product: model.slice(0, 16), revision: firmware.slice(0, 4), serial }, config.medium, odd, log);
  }

  /** DEVICE RESET reaches a PACKET device whatever it is doing, asleep included (ATA/ATAPI-6, DEVICE RESET). */
  takesWhileBusy(command: number): boolean {
    return command === Command.DEVICE_RESET;
  }

  // --- ATA commands -------------------------------------------------------------------------

  execute(command: number): void {
    this.interruptPending = false;
    this.endTransfer();
    this.error = 0;
    if (this.executePowerManagement(command)) return;
    switch (command) {
      case Command.PACKET: this.receivePacket(); return;
      case Command.IDENTIFY_PACKET_DEVICE: this.sendIdentify(); return;
      case Command.DEVICE_RESET: this.deviceReset(); return;
      case Command.IDENTIFY_DEVICE:
      case Command.READ_SECTORS:
      case Command.READ_SECTORS_NO_RETRY:
        // Their outputs for a PACKET device: aborted, with the signature in the registers.
        this.loadSignature();
        this.abort();
        return;
      case Command.SET_FEATURES: this.setFeatures(); return;
      default:
        // NOP, the media commands of a disk, and any code a PACKET device does not implement.
        this.abortUnsupported();
    }
  }

  /** The PACKET signature in the registers, DEV as it is. */
  private loadSignature(): void {
    const dev = this.taskFile.device & DeviceHead.DEV;
    this.taskFile = signatureTaskFile('packet');
    this.taskFile.device |= dev;
  }

  private sendIdentify(): void {
    const block = identifyPacketDevice({ ...this.identity, transferMode: this.transferMode });
    this.transfer = { ...IDLE_TRANSFER, phase: 'identify', length: IDENTIFY_BYTES, block: IDENTIFY_BYTES, position: 0 };
    this.blockBuffer.set(block);
    // PIO data-in: DRQ and an interrupt for the block, none after it.
    this.status = Status.DRDY | Status.DSC | Status.DRQ;
    this.interruptPending = true;
  }

  /**
   * DEVICE RESET (ATA/ATAPI-6): the command in progress is abandoned, the
   * signature loaded, the diagnostic code in Error, Status 00h, and no
   * interrupt. Only the ATA side is reset: the logical unit keeps its sense,
   * its tray and its lock.
   */
  private deviceReset(): void {
    this.loadSignature();
    this.status = 0;
    this.error = DIAGNOSTIC_PASSED;
    this.power = powerModeAfterReset(this.power);
  }

  /** SET FEATURES: only the transfer mode (03h) means anything to this drive. */
  private setFeatures(): void {
    if (this.taskFile.features === Feature.SET_TRANSFER_MODE) this.setTransferMode();
    else this.abortUnsupported();
  }

  // --- PACKET -----------------------------------------------------------------------------------

  /** PACKET: DRQ for the command packet, Interrupt Reason C/D, no interrupt. */
  private receivePacket(): void {
    const tf = this.taskFile;
    this.transfer = {
      ...IDLE_TRANSFER, phase: 'packet', packet: new Uint8Array(COMMAND_PACKET_BYTES), dma: (tf.features & PacketFeature.DMA) !== 0,
      limit: (tf.lbaHigh << 8) | tf.lbaMid, block: COMMAND_PACKET_BYTES, position: 0,
    };
    tf.sectorCount = REASON_PACKET;
    this.status = Status.DRDY | Status.DSC | Status.DRQ;
  }

  /** The packet is in: the logical unit runs it, and its outcome decides the phase that follows. */
  private runPacket(): void {
    const t = this.transfer;
    this.status = Status.DRDY | Status.DSC;
    const outcome = this.logicalUnit.execute(t.packet);
    switch (outcome.kind) {
      case 'complete': this.completePacket(); return;
      case 'check-condition': this.checkCondition(outcome.sense); return;
      case 'data-in':
        if (outcome.data.length === 0) this.completePacket();
        else this.startDataIn('buffer', outcome.data, 0, outcome.data.length);
        return;
      case 'medium-in': this.startDataIn('medium', NOTHING, outcome.lba * LOGICAL_BLOCK_BYTES, outcome.blocks * LOGICAL_BLOCK_BYTES); return;
      case 'data-out': this.startDataOut(outcome.length); return;
    }
  }

  /** The status phase of a good command: Interrupt Reason C/D + I/O, Status 50h, an interrupt. */
  private completePacket(): void {
    this.endTransfer();
    this.error = 0;
    this.taskFile.sectorCount = REASON_STATUS;
    this.complete();
  }

  /** CHECK CONDITION: the command ends in error with the sense key in Error bits 7:4 (no ABRT), in the status phase, with an interrupt. */
  private checkCondition(data: SenseData): void {
    this.abort((data.key & 0x0f) << 4);
    this.taskFile.sectorCount = REASON_STATUS;
  }

  private startDataIn(source: 'buffer' | 'medium', data: Uint8Array, mediumOffset: number, length: number): void {
    const t = this.transfer;
    Object.assign(t, { source, data, mediumOffset, length, done: 0, position: 0, block: 0 });
    if (t.dma) {
      // DMA: waiting for the bus master (DRQ, as the ATA DMA commands; QEMU's 58h); one interrupt, at the end.
      t.phase = 'dma-in';
      this.taskFile.sectorCount = REASON_DATA_IN;
      this.status = Status.DRDY | Status.DSC | Status.DRQ;
      return;
    }
    t.phase = 'pio-in';
    this.nextDataInBlock();
  }

  /** The limit of this PIO data phase's DRQ blocks (a zero limit is counted, and taken as the largest). */
  private pioLimit(): number {
    if (this.transfer.limit === 0) this.odd.zeroByteCountLimits++;
    return byteCountLimit(this.transfer.limit & 0xff, this.transfer.limit >> 8);
  }

  /** The next DRQ block of data-in: its bytes ready (read from the disc now), its size in the Byte Count, I/O, DRQ and an interrupt. */
  private nextDataInBlock(): void {
    const t = this.transfer;
    const bytes = dataBlockBytes(t.length - t.done, this.pioLimit());
    const into = this.blockBuffer.subarray(0, bytes);
    if (t.source === 'buffer') {
      into.set(t.data.subarray(t.done, t.done + bytes));
    } else {
      const failure = this.logicalUnit.readMedium(t.mediumOffset + t.done, into);
      if (failure !== undefined) {
        this.checkCondition(failure);
        return;
      }
    }
    t.block = bytes;
    t.position = 0;
    this.dataBlockRequest(bytes, REASON_DATA_IN);
  }

  private startDataOut(length: number): void {
    const t = this.transfer;
    Object.assign(t, { source: 'buffer', data: new Uint8Array(length), mediumOffset: 0, length, done: 0, position: 0, block: 0 });
    if (t.dma) {
      t.phase = 'dma-out';
      this.taskFile.sectorCount = REASON_DATA_OUT;
      this.status = Status.DRDY | Status.DSC | Status.DRQ;
      return;
    }
    t.phase = 'pio-out';
    this.nextDataOutBlock();
  }

  private nextDataOutBlock(): void {
    const t = this.transfer;
    t.block = dataBlockBytes(t.length - t.done, this.pioLimit());
    t.position = 0;
    this.dataBlockRequest(t.block, REASON_DATA_OUT);
  }

  /** A PIO DRQ block: its byte count in LBA Mid/High, the direction in Interrupt Reason, DRQ, an interrupt (PACKET PIO protocols). */
  private dataBlockRequest(bytes: number, reason: number): void {
    this.taskFile.lbaMid = bytes & 0xff;
    this.taskFile.lbaHigh = (bytes >> 8) & 0xff;
    this.taskFile.sectorCount = reason;
    this.status = Status.DRDY | Status.DSC | Status.DRQ;
    this.interruptPending = true;
  }

  /** The whole parameter list is in. */
  private finishDataOut(): void {
    this.logicalUnit.parameterListReceived();
    this.completePacket();
  }

  // --- the data port ------------------------------------------------------------------------------

  /** A 16- or 32-bit read of the data port: the current DRQ block, zero past its end; without a data-in DRQ, 0 and nothing moves. */
  readData(size: 2 | 4): number {
    const t = this.transfer;
    if ((this.status & Status.DRQ) === 0 || (t.phase !== 'pio-in' && t.phase !== 'identify')) {
      this.odd.dataReadsWithoutDrq++;
      return 0;
    }
    const value = readDataWord(this.blockBuffer, t.block, t.position, size);
    t.position += size;
    if (t.position >= t.block) {
      if (t.position > t.block && t.done + t.block < t.length) this.odd.straddlingDataAccesses++;
      this.endDataInBlock();
    }
    return value;
  }

  private endDataInBlock(): void {
    const t = this.transfer;
    if (t.phase === 'identify') {
      this.endTransfer();
      this.status = Status.DRDY | Status.DSC;
      return;
    }
    t.done += t.block;
    if (t.done < t.length) this.nextDataInBlock();
    else this.completePacket();
  }

  /** A 16- or 32-bit write of the data port: the command packet, or a data-out block; ignored without DRQ for one. */
  writeData(size: 2 | 4, value: number): void {
    const t = this.transfer;
    if ((this.status & Status.DRQ) === 0 || (t.phase !== 'packet' && t.phase !== 'pio-out')) {
      this.odd.dataWritesWithoutDrq++;
      return;
    }
    writeDataWord(t.phase === 'packet' ? t.packet : t.data.subarray(t.done), t.block, t.position, size, value);
    t.position += size;
    if (t.position < t.block) return;
    if (t.position > t.block && t.phase === 'pio-out' && t.done + t.block < t.length) this.odd.straddlingDataAccesses++;
    if (t.phase === 'packet') {
      this.runPacket();
      return;
    }
    t.done += t.block;
    if (t.done < t.length) this.nextDataOutBlock();
    else this.finishDataOut();
  }

  // --- DMA (the bus master moves the bytes) ----------------------------------------------------------

  dmaRemaining(): number {
    return this.transfer.length - this.transfer.done;
  }

  dmaIn(into: Uint8Array): boolean {
    const t = this.transfer;
    if (t.source === 'buffer') {
      into.set(t.data.subarray(t.done, t.done + into.length));
    } else {
      const failure = this.logicalUnit.readMedium(t.mediumOffset + t.done, into);
      if (failure !== undefined) {
        this.checkCondition(failure);
        return false;
      }
    }
    t.done += into.length;
    return true;
  }

  dmaOut(data: Uint8Array): boolean {
    const t = this.transfer;
    t.data.set(data, t.done);
    t.done += data.length;
    return true;
  }

  finishDma(): void {
    if (this.transfer.phase === 'dma-out') this.finishDataOut();
    else this.completePacket();
  }

  /** The bus master could not reach guest memory: CHECK CONDITION, ABORTED COMMAND. */
  abortDma(): void {
    this.checkCondition(this.logicalUnit.checkCondition(sense(SenseKey.ABORTED_COMMAND, Asc.NO_ADDITIONAL_SENSE_INFORMATION)).sense);
  }

  // --- resets and the host --------------------------------------------------------------------------

  /** Nothing is ever written to a disc. */
  flushWriteCache(): boolean {
    return true;
  }

  /** The host changes the disc (see `MmcLogicalUnit.changeMedium`); throws `AtaConfigError` for an image that is no disc. */
  changeMedium(medium: BlockBackend | undefined): void {
    const problem = medium === undefined ? undefined : discImageProblem(medium);
    if (problem !== undefined) throw new AtaConfigError(`ATAPI drive ${this.unit}: ${problem}`);
    this.logicalUnit.changeMedium(medium);
  }

  // --- state ------------------------------------------------------------------------------------------

  getState(): AtapiDriveState {
    const t = this.transfer;
    return {
      kind: this.kind,
      present: this.present,
      ...this.registerState(),
      transferMode: this.transferMode,
      power: this.power,
      transfer: {
        ...t,
        packet: t.packet.slice(),
        data: t.data.slice(),
        blockData: t.phase === 'pio-in' || t.phase === 'identify' ? this.blockBuffer.slice(0, t.block) : NOTHING,
      },
      logicalUnit: this.logicalUnit.getState(),
    };
  }

  setState(state: ChannelDeviceState): void {
    if (state.kind !== this.kind) throw new DeviceStateError(`a ${state.kind} state given to ATAPI device ${this.unit}`);
    this.logicalUnit.setState(state.logicalUnit);
    this.adoptCommonState(state);
    const t = state.transfer;
    this.blockBuffer.fill(0);
    this.blockBuffer.set(t.blockData.subarray(0, MAX_BLOCK_BYTES));
    this.transfer = { ...t, packet: t.packet.slice(), data: t.data.slice(), blockData: NOTHING };
  }
}
