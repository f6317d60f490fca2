export type { DeviceName, DomainName, PlacementRule } from './devices.ts';
export { DEVICES, DOMAINS, KERNEL_PIT_NEEDS_KERNEL_IRQCHIP, RULES } from './devices.ts';
export type { Placement, PlacementResult, Where } from './schema.ts';
export { EventDelivery, PlacementFile, TimePolicy, irqchipMode, validatePlacement } from './schema.ts';
export { PROFILES, profile } from './profiles/index.ts';
