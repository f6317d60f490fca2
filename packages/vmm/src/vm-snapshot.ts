/**
 * A VM snapshot as data: what `Vm.snapshot` takes and `Vm.restore` gives
 * back. Everything in it is plain (the abi's `DeviceState` rules), so it
 * travels through the same MessagePack codec device states cross the
 * channel in; the file format around it is `snapshot-file.ts`.
 */
import type { DeviceState, DomainState, ImagePages, Nanoseconds, Place } from '@splitvisor/abi';
import type { RunLoopState } from '@splitvisor/monitor';
import type { IrqchipTopology } from './irqchip-topology.ts';

export const SNAPSHOT_FORMAT = 'splitvisor-vm';
export const SNAPSHOT_VERSION = 1;

/** The console's last bytes a snapshot keeps (what `Vm.console` shows). */
export const CONSOLE_KEPT = 65_536;

/** The states of the irqchip, restored after every other device's. */
export const IRQCHIP_STATES = /^(pic|ioapic|lapic#\d+)$/;

export type VcpuSnapshot = {
  /** The CPU's own record (`GuestCpu.saveState`). */
  readonly cpu: DeviceState;
  /** Its clock: the cycles it ran (guest time). */
  readonly tsc: number;
  readonly loop: RunLoopState;
  /** A vector queued for its next entry (KVM_INTERRUPT, or carried from another irqchip); -1: none. */
  readonly queued: number;
};

export type DeviceSnapshot = {
  /** The state's name in its domain: the board's device name, `lapic#n` for each CPU's local APIC, `keyboard-typist`. */
  readonly name: string;
  /** Where it was when the snapshot was taken. */
  readonly at: Place;
  readonly state: DeviceState;
};

export type VmSnapshot = {
  /** A record like a device's (`model`, `version`), so the state codec carries it whole. */
  readonly model: typeof SNAPSHOT_FORMAT;
  readonly version: typeof SNAPSHOT_VERSION;
  /** The placement it was taken under, and its irqchip topology. */
  readonly placement: string;
  readonly topology: IrqchipTopology;
  readonly tscHz: number;
  readonly memoryBytes: number;
  /** The guest time it was taken at, and the devices' time then. */
  readonly timeNs: Nanoseconds;
  readonly deviceTime: Nanoseconds;
  readonly vcpus: readonly VcpuSnapshot[];
  readonly devices: readonly DeviceSnapshot[];
  /** Each line with the device and output that raised it last, from every domain (where an acknowledgement goes). */
  readonly lines: DomainState['raisedBy'];
  readonly console: Uint8Array;
  /** Guest RAM as its written pages. */
  readonly ram: ImagePages;
};
