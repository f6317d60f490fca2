export type { HostedDevice } from './device-host.ts';
export { DeviceHost } from './device-host.ts';
