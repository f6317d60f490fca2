export type { DeviceHostOptions, HostedInterrupts } from './device-host.ts';
export { DeviceHost } from './device-host.ts';
export type { FileBlockBackendOptions, ImageSize } from './file-block-backend.ts';
export { FileBlockBackend, FileBlockBackendError, IMAGE_SECTOR_SIZE } from './file-block-backend.ts';
