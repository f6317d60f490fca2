// The kernel of the full PC build: any device, and the in-kernel or split irqchip's local APICs.
import { PC_DEVICES } from './device-factories.ts';
import type { KernelBuild } from './domain-build.ts';
import { makeKernel } from './domain-build.ts';
import { splitApics } from './irqchip-split.ts';
import { wholeIrqchip } from './irqchip-whole.ts';

export const KERNEL_BUILD: KernelBuild = {
  create: makeKernel,
  devices: PC_DEVICES,
  irqchip: { whole: wholeIrqchip, apics: splitApics },
};
