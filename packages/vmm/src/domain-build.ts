/**
 * What each domain of a VMM is built with: how its domain is made, the
 * devices it can make (its registry) and the irqchip parts it can hold.
 * The full PC build (`kernel-build.ts`, `monitor-build.ts`,
 * `devhost-build.ts`) can place anything anywhere; a VMM built for one
 * placement (`splitvisor build`) replaces each of those three modules with
 * its own bundle, generated from the placement, holding only what is placed
 * in that domain — so the other devices are not in its code at all.
 */
import type { GuestMemory, Nanoseconds } from '@splitvisor/abi';
import type { ChannelEnd } from '@splitvisor/channel';
import { TimerQueue } from '@splitvisor/clock';
import type { DeviceHostOptions } from '@splitvisor/devhost';
import { DeviceHost } from '@splitvisor/devhost';
import type { KernelDomainOptions } from '@splitvisor/kernel';
import { KernelDomain } from '@splitvisor/kernel';
import { MonitorDomain } from '@splitvisor/monitor';
import type { DeviceRegistry } from './device-factories.ts';
import type { HostIrqchipParts, VmIrqchipParts } from './irqchip-topology.ts';

export interface KernelBuild {
  readonly create: (now: () => Nanoseconds, options: KernelDomainOptions) => KernelDomain;
  readonly devices: DeviceRegistry;
  readonly irqchip: VmIrqchipParts;
}

export interface MonitorBuild {
  readonly create: (now: () => Nanoseconds, memory: GuestMemory) => MonitorDomain;
  readonly devices: DeviceRegistry;
  readonly irqchip: VmIrqchipParts;
}

export interface DevhostBuild {
  /** The device host on its end of the channel, its devices' DMA into `memory`; `moves` make a device moving in and release one moving out. */
  readonly create: (end: ChannelEnd, memory: GuestMemory, moves?: Pick<DeviceHostOptions, 'place' | 'removed'>) => DeviceHost;
  readonly devices: DeviceRegistry;
  readonly irqchip: HostIrqchipParts;
}

/** A VMM's three domains as built. */
export interface VmBuild {
  readonly kernel: KernelBuild;
  readonly monitor: MonitorBuild;
  readonly devhost: DevhostBuild;
}

/** How each domain is made: the full build's and every build generated for a placement. */
export const makeKernel: KernelBuild['create'] = (now, options) => new KernelDomain(now, options);
export const makeMonitor: MonitorBuild['create'] = (now, memory) => new MonitorDomain(now, memory);
export const makeDeviceHost: DevhostBuild['create'] = (end, memory, moves = {}) => new DeviceHost(end, { timers: new TimerQueue(), memory, ...moves });
