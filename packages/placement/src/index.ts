export type { DeviceName, DomainName, LostTickPolicies, PlacementRule, TimerDevice } from './devices.ts';
export { DEVICES, DOMAINS, KERNEL_PIT_NEEDS_KERNEL_IRQCHIP, ACK_PACED, LOST_TICK_POLICIES, RULES, TIMER_DEVICES } from './devices.ts';
export type { FastPathDevices, Placement, PlacementResult, Where } from './schema.ts';
export { EventDelivery, PlacementFile, TimePolicy, validatePlacement } from './schema.ts';
export { fastPathFor } from './fast-paths.ts';
export { irqchipMode } from './irqchip-mode.ts';
export { PROFILES, profile } from './profiles/index.ts';
