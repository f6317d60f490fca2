// The monitor of the full PC build: any device, and plex86's irqchip.
import { MonitorDomain } from '@splitvisor/monitor';
import { PC_DEVICES } from './device-factories.ts';
import type { MonitorBuild } from './domain-build.ts';
import { wholeIrqchip } from './irqchip-whole.ts';

export const MONITOR_BUILD: MonitorBuild = {
  create: (now, memory) => new MonitorDomain(now, memory),
  devices: PC_DEVICES,
  irqchip: { whole: wholeIrqchip },
};
