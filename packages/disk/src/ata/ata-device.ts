/**
 * What every device on an ATA channel does alike, the disk (`drive.ts`, or
 * the empty place of one) and the PACKET device (`../atapi/atapi-drive.ts`):
 * ATA/ATAPI-6's device side of the Command Block — the Status and Error it
 * answers with, INTRQ pending, how a command ends (well, or in error), the
 * signature and diagnostic code a reset leaves and the software reset
 * protocol, and the commands both take the same way: the Power Management
 * feature set (`power-management.ts`) and SET FEATURES' transfer mode.
 *
 * The data phase of the command in progress (`transfer`) has each device's
 * own shape: here it is only abandoned, and asked whether it waits for the
 * bus master.
 */
import { POWER_ON_TRANSFER_MODE, isSupportedTransferMode } from './identify.ts';
import type { PowerMode } from './power-management.ts';
import { powerManagementRequest, powerModeAfterReset, powerModeCode } from './power-management.ts';
import { AtaError, DIAGNOSTIC_PASSED, Status } from './registers.ts';
import type { SignatureKind, TaskFile } from './task-file.ts';
import { signatureTaskFile } from './task-file.ts';

/** A data phase: `idle` between commands, `dma-in` / `dma-out` while a DMA transfer waits for (or is under) the bus master. */
export type DataPhase = { readonly phase: string };

/**
 * What the state of every device holds: the registers, INTRQ, the transfer
 * mode and the power mode (`drive.ts` and `../atapi/atapi-drive.ts` add their
 * `kind` and their own).
 */
export type AtaDeviceState = {
  readonly present: boolean;
  readonly taskFile: Readonly<TaskFile>;
  readonly status: number;
  readonly error: number;
  readonly interruptPending: boolean;
  readonly transferMode: number;
  readonly power: PowerMode;
};

/** The registers and INTRQ, which both devices' states list after `kind` and `present`, in this order. */
export type RegisterState = Pick<AtaDeviceState, 'taskFile' | 'status' | 'error' | 'interruptPending'>;

/**
 * Status after power-on or a reset (ATA/ATAPI-6, signature and persistence):
 * DRDY and DSC for a device without the PACKET command feature set; 00h for
 * one with it, whose DRDY stays clear until a command completes; 00h from
 * the empty place of a device (as QEMU).
 */
function statusAfterReset(signature: SignatureKind): number {
  return signature === 'ata' ? Status.DRDY | Status.DSC : 0;
}

/** Error after power-on or a reset: the diagnostic code (01h, passed); 00h from the empty place of a device. */
function errorAfterReset(signature: SignatureKind): number {
  return signature === 'absent' ? 0 : DIAGNOSTIC_PASSED;
}

export abstract class AtaDevice<Transfer extends DataPhase> {
  readonly unit: 0 | 1;
  readonly present: boolean;
  /** The device's copy of the Command Block registers: the channel latches host writes into it. */
  taskFile: TaskFile;
  status: number;
  error: number;
  /** INTRQ pending (ATA/ATAPI-6, INTRQ): set when a command or data block wants the host, cleared by reading Status, a new command, or a reset. */
  interruptPending = false;
  power: PowerMode = 'active';
  /** The last SET FEATURES transfer mode value (Sector Count of subcommand 03h): IDENTIFY words 62, 63 and 88 report it. */
  protected transferMode: number = POWER_ON_TRANSFER_MODE;
  /** The data phase of the command in progress. */
  protected transfer: Transfer;
  private readonly idleTransfer: Transfer;
  private readonly signature: SignatureKind;
  private readonly unsupported: { unsupportedCommands: number };

  /** Power-on: the registers as after a reset, active, the power-on transfer mode, no data phase. */
  protected constructor(unit: 0 | 1, signature: SignatureKind, idleTransfer: Transfer, unsupported: { unsupportedCommands: number }) {
    this.unit = unit;
    this.present = signature !== 'absent';
    this.signature = signature;
    this.idleTransfer = idleTransfer;
    this.transfer = { ...idleTransfer };
    this.unsupported = unsupported;
    this.taskFile = signatureTaskFile(signature);
    this.status = statusAfterReset(signature);
    this.error = errorAfterReset(signature);
  }

  /** BSY or DRQ: the Command Block belongs to the device. */
  get busy(): boolean {
    return (this.status & (Status.BSY | Status.DRQ)) !== 0;
  }

  /** After SLEEP: only a reset reaches the device (or, a PACKET device, DEVICE RESET). */
  get asleep(): boolean {
    return this.power === 'sleep';
  }

  // --- the end of a command ---------------------------------------------------------------

  /** The data phase is over, or abandoned. */
  protected endTransfer(): void {
    this.transfer = { ...this.idleTransfer };
  }

  /** Ends a command well: ready, and an interrupt for the host. */
  protected complete(): void {
    this.status = Status.DRDY | Status.DSC;
    this.interruptPending = true;
  }

  /** Ends a command in error (ABRT unless said otherwise), its data phase abandoned. DSC is clear, as on QEMU's aborts. */
  protected abort(error: number = AtaError.ABRT, deviceFault = false): void {
    this.endTransfer();
    this.error = error;
    this.status = Status.DRDY | Status.ERR | (deviceFault ? Status.DF : 0);
    this.interruptPending = true;
  }

  /** A command, or a subcommand, the device does not implement: ABRT, and counted. */
  protected abortUnsupported(): void {
    this.unsupported.unsupportedCommands++;
    this.abort();
  }

  // --- the commands every device takes alike -----------------------------------------------

  /**
   * Runs `command` if it is one of the Power Management feature set; false
   * for any other. Completion leaves DSC set, as real drives do; QEMU clears
   * it after STANDBY/IDLE (IMMEDIATE) and SLEEP (status 40h), which hangs
   * guests that wait for DSC (the classic Mac OS ATA driver).
   */
  protected executePowerManagement(command: number): boolean {
    const request = powerManagementRequest(command);
    if (request === undefined) return false;
    if (request === 'check') this.taskFile.sectorCount = powerModeCode(this.power);
    else this.power = request;
    this.complete();
    return true;
  }

  /** SET FEATURES 03h: the transfer mode in Sector Count; a mode the device does not offer (IDENTIFY words 62–64, 88) is aborted. */
  protected setTransferMode(): void {
    const mode = this.taskFile.sectorCount;
    if (!isSupportedTransferMode(mode)) {
      this.abort();
      return;
    }
    this.transferMode = mode;
    this.complete();
  }

  // --- DMA ------------------------------------------------------------------------------------

  /** The direction of a DMA transfer waiting for (or under) the bus master, if any. */
  dmaDirection(): 'in' | 'out' | undefined {
    if ((this.status & Status.DRQ) === 0) return undefined;
    if (this.transfer.phase === 'dma-in') return 'in';
    if (this.transfer.phase === 'dma-out') return 'out';
    return undefined;
  }

  // --- resets -----------------------------------------------------------------------------------

  /** SRST asserted: BSY, the command in progress abandoned, INTRQ released (software reset protocol). */
  holdInReset(): void {
    this.endTransfer();
    this.interruptPending = false;
    this.status = Status.BSY;
  }

  /**
   * The end of a software reset or an EXECUTE DEVICE DIAGNOSTIC: the command
   * in progress abandoned, INTRQ released, the signature in the task file,
   * the diagnostic code in Error, Status as after a reset; a sleeping device
   * wakes to standby. (A disk's settings may revert on a software reset: `drive.ts`.)
   */
  completeReset(_kind: 'reset' | 'diagnostic'): void {
    this.endTransfer();
    this.interruptPending = false;
    this.taskFile = signatureTaskFile(this.signature);
    this.status = statusAfterReset(this.signature);
    this.error = errorAfterReset(this.signature);
    this.power = powerModeAfterReset(this.power);
  }

  // --- state ------------------------------------------------------------------------------------

  /** The registers and INTRQ, as a state holds them. */
  protected registerState(): RegisterState {
    return { taskFile: { ...this.taskFile }, status: this.status, error: this.error, interruptPending: this.interruptPending };
  }

  /** Adopts what every device's state holds: the registers, INTRQ, the transfer mode and the power mode. */
  protected adoptCommonState(state: AtaDeviceState): void {
    this.taskFile = { ...state.taskFile };
    this.status = state.status;
    this.error = state.error;
    this.interruptPending = state.interruptPending;
    this.transferMode = state.transferMode;
    this.power = state.power;
  }
}
