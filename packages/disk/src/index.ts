export type { BlockBackend } from './block/block-backend.ts';
export { BlockBackendError, MemoryBlockBackend, SECTOR_SIZE } from './block/block-backend.ts';
export type { WriteBackResult, WriteCacheState } from './block/write-back-cache.ts';
export { WriteBackCache } from './block/write-back-cache.ts';
export type { AtaChannelConfig, AtaChannelState } from './ata/ata-channel.ts';
export { AtaChannel } from './ata/ata-channel.ts';
export type { BusMasterState } from './ata/bus-master.ts';
export type { AtaDriveConfig, AtaDriveState, AtaTransferState, PowerMode } from './ata/drive.ts';
export { AtaConfigError } from './ata/drive.ts';
export type { Geometry } from './ata/identify.ts';
export { defaultGeometry, identifyDevice } from './ata/identify.ts';
export {
  AtaError, BusMasterCommand, BusMasterOffset, BusMasterStatus, Command, DIAGNOSTIC_PASSED, DeviceControl, DeviceHead, Feature,
  MAX_MULTIPLE_SECTORS, PowerModeCode, Smart, Status, TaskFileOffset,
} from './ata/registers.ts';
