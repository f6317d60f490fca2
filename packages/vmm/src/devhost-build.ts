// The device host of the full PC build: any device, and a userspace irqchip or a split one's legacy half.
import { TimerQueue } from '@splitvisor/clock';
import { DeviceHost } from '@splitvisor/devhost';
import { PC_DEVICES } from './device-factories.ts';
import type { DevhostBuild } from './domain-build.ts';
import { splitLegacy } from './irqchip-split.ts';
import { hostWholeIrqchip } from './irqchip-whole.ts';

export const DEVHOST_BUILD: DevhostBuild = {
  create: (end, memory) => new DeviceHost(end, { timers: new TimerQueue(), memory }),
  devices: PC_DEVICES,
  irqchip: { whole: hostWholeIrqchip, legacy: splitLegacy },
};
