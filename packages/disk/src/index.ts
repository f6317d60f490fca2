export type { BlockBackend } from './block/block-backend.ts';
export { BlockBackendError, MemoryBlockBackend, SECTOR_SIZE } from './block/block-backend.ts';
export type { WriteBackResult, WriteCacheState } from './block/write-back-cache.ts';
export { WriteBackCache } from './block/write-back-cache.ts';
export type { AtaChannelConfig, AtaChannelState } from './ata/ata-channel.ts';
export { AtaChannel } from './ata/ata-channel.ts';
export type { AtaDeviceState } from './ata/ata-device.ts';
export type { ChannelDeviceState } from './ata/channel-device.ts';
export type { BusMasterState } from './ata/bus-master.ts';
export type { AtaDriveConfig, AtaDriveState, AtaTransferState } from './ata/drive.ts';
export type { PowerMode } from './ata/power-management.ts';
export { AtaConfigError } from './ata/drive.ts';
export type { Geometry } from './ata/identify.ts';
export { defaultGeometry, identifyDevice } from './ata/identify.ts';
export {
  AtaError, BusMasterCommand, BusMasterOffset, BusMasterStatus, Command, DIAGNOSTIC_PASSED, DeviceControl, DeviceHead, Feature,
  MAX_MULTIPLE_SECTORS, PowerModeCode, Smart, Status, TaskFileOffset,
} from './ata/registers.ts';
export type { AtapiDriveConfig, AtapiDriveState, AtapiTransferState } from './atapi/atapi-drive.ts';
export type { MmcLogicalUnitState } from './atapi/mmc-logical-unit.ts';
export type { SenseData } from './atapi/sense.ts';
export { Asc, SenseKey } from './atapi/sense.ts';
export { OperationCode } from './atapi/operation-codes.ts';
export { InterruptReason, PacketFeature } from './atapi/registers.ts';
export { GENERAL_CONFIGURATION_CDROM, identifyPacketDevice } from './atapi/identify-packet-device.ts';
export { LOGICAL_BLOCK_BYTES, Profile } from './atapi/disc.ts';
export { MediaEvent } from './atapi/event-status.ts';
