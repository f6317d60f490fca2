export type {
  ExecutionCommand, FloppyDriveConfig, FloppyDriveState, FloppyExecutionState, FloppyPhase, I82077aaConfig, I82077aaState,
} from './i82077aa/i82077aa.ts';
export { I82077aa } from './i82077aa/i82077aa.ts';
export type { CommandName, CommandSpec } from './i82077aa/commands.ts';
export { Opcode, decodeCommand } from './i82077aa/commands.ts';
export {
  CONFIGURE_DEFAULT, CommandFlag, Configure, DataRate, Dir, Dor, Dsr, Msr, Perpendicular, Register, SECTOR_BYTES,
  SECTOR_SIZE_CODE, Sra, Srb, St0, St1, St2, St3, VERSION_82077AA,
} from './i82077aa/registers.ts';
export type { DriveType, MediaFormat } from './media/formats.ts';
export { MEDIA_FORMATS, driveAccepts, formatOfImage } from './media/formats.ts';
export type { FloppyImage } from './media/floppy-image.ts';
export { FloppyConfigError, MemoryFloppyImage } from './media/floppy-image.ts';
