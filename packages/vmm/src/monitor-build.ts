// The monitor of the full PC build: any device, and plex86's irqchip.
import { PC_DEVICES } from './device-factories.ts';
import type { MonitorBuild } from './domain-build.ts';
import { makeMonitor } from './domain-build.ts';
import { wholeIrqchip } from './irqchip-whole.ts';

export const MONITOR_BUILD: MonitorBuild = {
  create: makeMonitor,
  devices: PC_DEVICES,
  irqchip: { whole: wholeIrqchip },
};
