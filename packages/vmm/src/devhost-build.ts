// The device host of the full PC build: any device, and a userspace irqchip or a split one's legacy half.
import { PC_DEVICES } from './device-factories.ts';
import type { DevhostBuild } from './domain-build.ts';
import { makeDeviceHost } from './domain-build.ts';
import { splitLegacy } from './irqchip-split.ts';
import { hostWholeIrqchip } from './irqchip-whole.ts';

export const DEVHOST_BUILD: DevhostBuild = {
  create: makeDeviceHost,
  devices: PC_DEVICES,
  irqchip: { whole: hostWholeIrqchip, legacy: splitLegacy },
};
