/**
 * The board's devices created in a domain: each modelled device placed there,
 * on that domain's bus at the board's addresses, its irq outputs on the
 * board's lines. The kernel, the monitor and the device host (in-thread or
 * in its worker) all assemble their devices with this one function.
 */
import type { Device, DeviceContext, DeviceDomain } from '@splitvisor/abi';
import type { I8237Pair } from '@splitvisor/dma';
import type { OptionRomFile } from '@splitvisor/fw-cfg';
import type { DeviceName, Placement, Where } from '@splitvisor/placement';
import type { BoardSlot } from './board.ts';
import { IRQCHIP_PARTS, PC_BOARD } from './board.ts';
import type { ChipsetWindows } from './chipset-windows.ts';
import type { DeviceRegistry } from './device-factories.ts';
import type { VmBuild } from './domain-build.ts';
import type { Typing } from './typist.ts';

/** What the board is given beyond the placement: media. Plain data, so the device host's worker gets it too. */
export interface BoardOptions {
  /** A raw disk image for the primary master (a multiple of 512 bytes); none: the channel has no drives. */
  readonly diskImage?: string;
  /** Open `diskImage` read-only (O_RDONLY): the drive aborts every write command (ABRT), FLUSH CACHE succeeds, nothing is written to the file. */
  readonly diskReadOnly?: boolean;
  /** A raw diskette image (720 KB, 1.44 MB or 2.88 MB) in floppy drive A; none: the controller has no drives. */
  readonly floppyImage?: string;
  /** An ISO 9660 image (whole 2048-byte blocks) in the CD-ROM drive, opened read-only; none: the drive is empty. */
  readonly cdromImage?: string;
  /** Without `diskImage`: a blank (zeroed) disk of this many bytes in memory on the primary master, nothing written to the host. */
  readonly diskBlankBytes?: number;
  /** Without `floppyImage`: a blank diskette of this many bytes (737280, 1474560 or 2949120) in memory in drive A. */
  readonly floppyBlankBytes?: number;
  /** Keys the host types at the keyboard, on the guest's clock (a workload's typist). */
  readonly typing?: Typing;
  /** The guest's TSC rate, Hz, which TSC-deadline mode compares against (a VM sets its own clock's). */
  readonly tscHz?: number;
  /** How many vCPUs, each with a local APIC wherever the irqchip is (a VM sets its own count). */
  readonly cpus?: number;
  /** Guest RAM in bytes, for the devices' DMA (default 32 MiB). */
  readonly memoryBytes?: number;
  /**
   * The std VGA's option ROM (QEMU's vgabios-stdvga.bin, SeaVGABIOS; `checkOptionRom`): behind its PCI expansion ROM
   * BAR, sized for it, where firmware finds it, copies it to C0000h and runs it. None: the BAR sizes 64 KiB with
   * nothing behind it.
   */
  readonly vgaBios?: Uint8Array;
  /**
   * Option ROMs for the firmware to run after the PCI devices' (each `checkOptionRom`ed): fw_cfg's `genroms/NAME`
   * files, as QEMU's `-option-rom FILE` gives them.
   */
  readonly optionRoms?: readonly OptionRomFile[];
}

export const DEFAULT_MEMORY_BYTES = 32 * 1024 * 1024;

/**
 * What a domain must release when the VM stops: write caches flushed, image
 * files closed — tagged with the device whose it is, which releases it
 * early when it moves away (`releaseDevice`).
 */
export type Release = (() => void) & { readonly device?: DeviceName };

/** Runs and drops `device`'s releases: it leaves its domain, its caches flushed and its files closed before another opens them. */
export function releaseDevice(releases: Release[], device: DeviceName): void {
  for (let i = releases.length - 1; i >= 0; i--) {
    const release = releases[i];
    if (release?.device !== device) continue;
    releases.splice(i, 1);
    release();
  }
}

/** Chips one domain's devices share: the 8237 pair the floppy controller moves its data through. */
export interface Shared {
  dma?: I8237Pair;
}

/**
 * Where the board's outputs go in this thread: the bytes COM1 transmits (the guest's console), and the PCI
 * host's decode changes — the windows they move (the PM timer at PMBA), for every domain of this process.
 */
export interface Sinks {
  readonly console?: (byte: number) => void;
  readonly chipsetWindows?: ChipsetWindows;
}

export interface Created {
  readonly name: DeviceName;
  readonly device: Device;
  /** Where each of the device's regions sits on the board. */
  readonly bases: ReadonlyMap<string, number>;
}

/** The devices the placement puts in `where` (the interrupt controllers apart) that `registry` can make, created on `domain`. */
export function createDevices(placement: Placement, where: Where, domain: DeviceDomain, registry: DeviceRegistry, board: BoardOptions = {}, releases: Release[] = [], sinks: Sinks = {}): Created[] {
  const created: Created[] = [];
  const shared: Shared = {};
  const contexts = new Map<DeviceName, DeviceContext>();
  /** One context per device, its irq output n on the board's line for it (the HPET's legacy routes apart). */
  const contextOf = (name: DeviceName): DeviceContext => {
    let context = contexts.get(name);
    if (context === undefined) {
      const gsis = PC_BOARD[name]?.gsis ?? [];
      context = domain.context(name, (output) => gsis[output] ?? output);
      contexts.set(name, context);
    }
    return context;
  };
  for (const [name, at] of Object.entries(placement.devices) as [DeviceName, Where][]) {
    if (at !== where || IRQCHIP_PARTS.includes(name)) continue;
    const slot = PC_BOARD[name];
    if (slot === undefined) continue;
    const factory = registry[name];
    if (factory === undefined) continue;
    const own: Release[] = [];
    const device = factory({ context: contextOf(name), placement, board, releases: own, shared, contextOf, sinks, register: (state) => { domain.register(state, name); } });
    for (const release of own) releases.push(Object.assign(() => { release(); }, { device: name }));
    placeOnBoard(domain, name, device);
    sinks.chipsetWindows?.placed(domain, name, device);
    created.push({ name, device, bases: new Map(slot.regions.map((r) => [r.region, r.base])) });
  }
  return created;
}

/**
 * Places `device` on `domain` at the board's addresses for `name`, its state
 * reachable by name. A region that is not the size of its window on the
 * board is a board mistake, refused before anything is mapped.
 */
export function placeOnBoard(domain: DeviceDomain, name: DeviceName, device: Device): void {
  const slot: BoardSlot | undefined = PC_BOARD[name];
  if (slot === undefined) throw new RangeError(`the board has no place for ${name}`);
  for (const window of slot.regions) {
    const region = device.regions.find((r) => r.name === window.region);
    if (region !== undefined && region.length !== window.length) {
      throw new RangeError(`the board gives ${name} ${window.region} ${window.length} bytes, the device's region has ${region.length}`);
    }
  }
  domain.attach(name, device, slot.regions);
}

/**
 * Devices the placement names that the build of their domain cannot make:
 * they are not created, and their ports answer as an empty bus (the
 * interrupt controllers are the topology's, which refuses a build without
 * them).
 */
export function unmodelledDevices(placement: Placement, build: VmBuild): DeviceName[] {
  const registries = { kernel: build.kernel.devices, monitor: build.monitor.devices, user: build.devhost.devices };
  return (Object.entries(placement.devices) as [DeviceName, Where][])
    .filter(([name, at]) => at !== 'absent' && !IRQCHIP_PARTS.includes(name) && registries[at][name] === undefined)
    .map(([name]) => name);
}

/** `registry` narrowed to `names` (the device host's worker is sent the names the VM's build has: functions do not cross threads). */
export function registryOf(names: readonly DeviceName[], registry: DeviceRegistry): DeviceRegistry {
  return Object.fromEntries(names.flatMap((name) => {
    const factory = registry[name];
    return factory === undefined ? [] : [[name, factory]];
  }));
}
