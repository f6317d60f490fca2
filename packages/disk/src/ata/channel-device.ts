/**
 * What an ATA channel asks of the device behind each value of DEV
 * (ATA/ATAPI-6: the Command Block registers, the protocols, the resets): an
 * ATA disk (`drive.ts`), a PACKET device such as a CD-ROM drive
 * (`../atapi/atapi-drive.ts`), or the empty place of one; what they do alike
 * is `ata-device.ts`. The channel decides which device a register access
 * reaches, latches register writes into both task files, drives INTRQ from
 * `interruptPending`, holds both devices in SRST, and moves DMA data between
 * guest memory and the device.
 */
import type { AtapiDriveState } from '../atapi/atapi-drive.ts';
import type { AtaDriveState } from './drive.ts';
import type { TaskFile } from './task-file.ts';

/** A device's state inside the channel's: which kind of device it is says which shape it has. */
export type ChannelDeviceState = AtaDriveState | AtapiDriveState;

export interface ChannelDevice {
  /** `ata` for a disk (or an absent device), `cdrom` for a PACKET device. */
  readonly kind: ChannelDeviceState['kind'];
  readonly unit: 0 | 1;
  readonly present: boolean;
  /** The device's copy of the Command Block registers: the channel latches host writes into it. */
  readonly taskFile: TaskFile;
  readonly status: number;
  readonly error: number;
  /** INTRQ pending: the channel clears it when the host reads Status. */
  interruptPending: boolean;
  /** BSY or DRQ: the Command Block belongs to the device, register writes and commands are ignored. */
  readonly busy: boolean;
  /** After SLEEP: commands are ignored until a reset (or, by a PACKET device, DEVICE RESET). */
  readonly asleep: boolean;
  /** Whether the device takes `command` even while BSY, DRQ or asleep (a PACKET device's DEVICE RESET). */
  takesWhileBusy(command: number): boolean;
  /** Runs `command` from the task file; the channel checked that the device is present and may take it. */
  execute(command: number): void;
  /** A 16- or 32-bit read of the data port. */
  readData(size: 2 | 4): number;
  /** A 16- or 32-bit write of the data port. */
  writeData(size: 2 | 4, value: number): void;
  /** The direction of a DMA transfer waiting for (or under) the bus master, if any. */
  dmaDirection(): 'in' | 'out' | undefined;
  dmaRemaining(): number;
  /** Gives the bus master the next `into.length` bytes; false after ending the command in error. */
  dmaIn(into: Uint8Array): boolean;
  /** Takes the next `data.length` bytes from the bus master; false after ending the command in error. */
  dmaOut(data: Uint8Array): boolean;
  /** Every byte moved: the command ends. */
  finishDma(): void;
  /** The bus master could not reach guest memory: the command ends in error. */
  abortDma(): void;
  /** SRST asserted. */
  holdInReset(): void;
  /** SRST released, or EXECUTE DEVICE DIAGNOSTIC: the signature and the diagnostic code. */
  completeReset(kind: 'reset' | 'diagnostic'): void;
  /** The host's request at VM shutdown: cached writes to stable storage. */
  flushWriteCache(): boolean;
  getState(): ChannelDeviceState;
  /** Adopts `state`, whose `kind` the channel has checked is this device's. */
  setState(state: ChannelDeviceState): void;
}
