/**
 * The board's windows that follow the chipset's configuration, in one
 * process: what the PCI host (`@splitvisor/pci`) reports through its decode
 * changes, acted on for the devices placed in this process's domains — the
 * kernel's, the monitor's and the device host's in the VM's thread, or the
 * device host's own in its worker or process. Three windows are followed:
 *
 * - `pm`: the PIIX4's PM I/O space, and with it the ACPI PM timer (82371AB
 *   datasheet, PMBA and PMREGMISC; QEMU hw/acpi/piix4.c
 *   pm_io_space_update): at the PM space's base B (PM1 event block, region
 *   `pm1-event`) and B + 8 (PM_TMR, region `pm-timer`) while PMREGMISC's
 *   PMIOSE decodes it; nowhere while it does not. The board's power-on
 *   choice: QEMU decodes nothing there until firmware sets PMIOSE, but a
 *   guest that never programs PCI (every workload but the firmware's)
 *   reads PM_TMR at 608h, where firmware puts it on QEMU's pc — so the
 *   timer answers at the board's 600h/608h (`PM_BASE`) while PMBA is at its
 *   power-on base 0 and PMIOSE is clear (at power-on, and after a reset
 *   puts both back), as if firmware had put it there.
 * - `vgaRom`: the std VGA's expansion ROM BAR (PCI Local Bus Specification
 *   3.0 §6.2.5.2), and behind it the VGA's option ROM (region `rom`, when
 *   the board gave it one): at the BAR's base while the command register's
 *   memory space enable and the BAR's own enable bit are both set, nowhere
 *   otherwise — firmware enables it, copies the ROM to C0000h and disables
 *   it again. A VGA without an option ROM has nothing to put there: the
 *   BAR sizes as ever, and its window reads as an empty bus.
 * - `vgaFramebuffer`: the std VGA's BAR0, and behind it video memory as a
 *   linear framebuffer (region `lfb`), while memory space is enabled.
 *
 * The VGA's option ROM is memory as well as a region: in the process that
 * holds the PCI host, the board maps it as a read-only slot of the CPU's
 * (`vgaRomSlot`, `GuestCpu.mapReadOnly`) wherever the guest enables the ROM
 * BAR and the device's regions could go — so the firmware's copy of it reads
 * memory, not a device, as on QEMU and KVM, whose ROMs are memory regions
 * the guest reads without an exit; its writes still reach the device's
 * `rom` region (ignored and counted there).
 *
 * The board acts on the changes the PCI host reports (a BAR or PMBA rewrite
 * while its window is off is none: it takes effect when the window is next
 * turned on). A PCI host made anew reports its state as changes from
 * power-on; where this process heard none of its past (a restore, a move
 * from another process), a window the guest turned off elsewhere is no
 * change, and the PM timer is found at 600h: the one corner where the
 * board's view is not the configuration's.
 *
 * A new place that would cover another device's regions on the board (its
 * ports for the PM timer, its MMIO — the VGA window, the I/O APIC, the
 * HPET, the local APIC — for a BAR), or that another party holds on the
 * bus (a BAR over the VGA's other BAR), is refused — the guest's write goes
 * on, the regions stay where they were — and counted (`BusConflictError`
 * never reaches the guest). A new place the board cannot reach is counted
 * too, not faked: the device in another process than the PCI host (one of
 * them in a live device host, the other in this thread), or the PM timer in
 * the device host with its counter served by the kernel at the board's
 * address (`io.kernelCounters`: the registration does not follow). The
 * counts are the state `CHIPSET_WINDOWS`, kept beside the PCI host wherever
 * it is placed (`vm.deviceState('chipset-windows', 'pci')`, across the
 * channel too).
 */
import type { Device, DeviceDomain, DeviceState, StatefulDevice } from '@splitvisor/abi';
import { BusConflictError, DeviceStateError, expectState } from '@splitvisor/abi';
import type { DecodeChange, I440fxPciHost, PciFunctionName } from '@splitvisor/pci';
import type { DeviceName, Placement } from '@splitvisor/placement';
import { DEVICES, fastPathFor } from '@splitvisor/placement';
import { PC_BOARD, PM_BASE } from './board.ts';

/** The name of the counts beside the PCI host, among its domain's states. */
export const CHIPSET_WINDOWS = 'chipset-windows';

/** The windows the board follows. */
type WindowKey = 'pm' | 'vgaRom' | 'vgaFramebuffer';

/**
 * What became of the guest's moves of the windows, in the process that holds the PCI host: for each window, its
 * device's regions put where the guest put it or taken off the bus (`…Followed`), a place over another device's
 * regions refused (`…Overlapping`), a place the board could not reach (`…Unfollowed`: the device in another process,
 * or the PM timer's counter served by the kernel).
 */
export type ChipsetWindowsState = {
  readonly model: 'chipset-windows';
  readonly version: 2;
  readonly pmFollowed: number;
  readonly pmOverlapping: number;
  readonly pmUnfollowed: number;
  readonly vgaRomFollowed: number;
  readonly vgaRomOverlapping: number;
  readonly vgaRomUnfollowed: number;
  readonly vgaFramebufferFollowed: number;
  readonly vgaFramebufferOverlapping: number;
  readonly vgaFramebufferUnfollowed: number;
};

type Counts = Record<Exclude<keyof ChipsetWindowsState, 'model' | 'version'>, number>;

/** Where a window's regions start, or null: nowhere. */
type Place = number | null;

type WindowChange = Extract<DecodeChange, { kind: 'window' }>;

/** The VGA's option ROM as memory: the ROM BAR's window bytes (the image, then zeros), and where to map them or take them off (null). */
export interface RomSlot {
  readonly bytes: Uint8Array;
  readonly map: (base: Place) => void;
}

export interface ChipsetWindowsOptions {
  /** Given in the VM's own process, where its CPUs are: the VGA's ROM mapped as memory where its BAR is enabled. */
  readonly vgaRomSlot?: RomSlot;
}

/** A device's regions that sit where one window of the PCI configuration is decoded. */
interface Follower {
  readonly key: WindowKey;
  readonly device: DeviceName;
  readonly pciFunction: PciFunctionName;
  readonly window: string;
  readonly space: 'port' | 'mmio';
  /** The device's regions, each at the window's base plus its offset. */
  readonly regions: readonly { readonly region: string; readonly offset: number }[];
  /** Where they are when the device is placed, and while the window is as at power-on. */
  readonly powerOn: Place;
  /** Where a change of the window puts them. */
  placeOf(change: WindowChange): Place;
  /** Whether the board cannot move them in `domain` (the PM timer's counter served by the kernel). */
  unreachable?(domain: DeviceDomain, placement: Placement): boolean;
}

/** The PM timer's regions as offsets from the start of its block (PM1 event +0, PM_TMR +8). */
const PM_REGIONS = (PC_BOARD['pm-timer']?.regions ?? []).map((r) => ({ region: r.region, offset: r.base - PM_BASE }));

/** A BAR's window: where the configuration decodes it, nowhere while it does not. */
const barPlaceOf = (change: WindowChange): Place => (change.enabled ? change.base : null);

const FOLLOWERS: readonly Follower[] = [
  {
    key: 'pm', device: 'pm-timer', pciFunction: 'piix4-pm', window: 'pm', space: 'port', regions: PM_REGIONS, powerOn: PM_BASE,
    // Off at PMBA's power-on base 0: at the board's 600h (see the header).
    placeOf: (change) => (change.enabled ? change.base : change.base === 0 ? PM_BASE : null),
    unreachable: (domain, placement) => domain.place === 'user' && fastPathFor(placement.io.kernelCounters, 'pm-timer'),
  },
  { key: 'vgaRom', device: 'vga', pciFunction: 'std-vga', window: 'rom', space: 'mmio', regions: [{ region: 'rom', offset: 0 }], powerOn: null, placeOf: barPlaceOf },
  { key: 'vgaFramebuffer', device: 'vga', pciFunction: 'std-vga', window: 'framebuffer', space: 'mmio', regions: [{ region: 'lfb', offset: 0 }], powerOn: null, placeOf: barPlaceOf },
];

/** A followed device in one of this process's domains, and where each of its followed windows sits on that domain's bus. */
interface Held {
  readonly domain: DeviceDomain;
  readonly device: Device;
  readonly at: Map<WindowKey, Place>;
}

type PciHost = Device & Pick<I440fxPciHost, 'onDecodeChange'>;

function isPciHost(device: Device): device is PciHost {
  return typeof (device as Partial<PciHost>).onDecodeChange === 'function';
}

/** Whether `device` has every region `follower` moves (a VGA given no option ROM has no `rom`). */
function hasRegions(device: Device, follower: Follower): boolean {
  return follower.regions.every(({ region }) => device.regions.some((r) => r.name === region));
}

export class ChipsetWindows {
  private readonly placement: Placement;
  /** Other devices' regions on the board, by space (the placement's, wherever they are): a window over them is refused. */
  private readonly taken: Readonly<Record<'port' | 'mmio', readonly { readonly base: number; readonly length: number }[]>>;
  /** Where the configuration puts each window, as the board last heard it. */
  private readonly places = new Map<WindowKey, Place>(FOLLOWERS.map((f) => [f.key, f.powerOn]));
  /** The followed devices in this process's domains. */
  private readonly held = new Map<DeviceName, Held>();
  /** Takes the listener off the PCI host last placed here (one moved away hears no guest again). */
  private stopListening: (() => void) | undefined;
  private readonly counts: Counts = {
    pmFollowed: 0, pmOverlapping: 0, pmUnfollowed: 0,
    vgaRomFollowed: 0, vgaRomOverlapping: 0, vgaRomUnfollowed: 0,
    vgaFramebufferFollowed: 0, vgaFramebufferOverlapping: 0, vgaFramebufferUnfollowed: 0,
  };

  private readonly vgaRomSlot: RomSlot | undefined;

  /** `placement`: the VM's, as it was made (which devices it has, and its I/O fast paths). */
  constructor(placement: Placement, options: ChipsetWindowsOptions = {}) {
    this.placement = placement;
    this.vgaRomSlot = placement.devices.vga === 'absent' ? undefined : options.vgaRomSlot;
    const followed = (name: DeviceName, region: string) => FOLLOWERS.some((f) => f.device === name && f.regions.some((r) => r.region === region));
    const regions = DEVICES.filter((name) => placement.devices[name] !== 'absent')
      .flatMap((name) => (PC_BOARD[name]?.regions ?? []).filter((r) => !followed(name, r.region)));
    const of = (space: 'port' | 'mmio') => regions.filter((r) => r.space === space).map((r) => ({ base: r.base, length: r.length }));
    this.taken = { port: of('port'), mmio: of('mmio') };
  }

  /**
   * `device`, placed as `name` on `domain` (at power-on or by a move): the
   * PCI host is listened to, and its counts kept beside it; the PM timer and
   * the VGA's ROM and framebuffer are put where the configuration has them.
   */
  placed(domain: DeviceDomain, name: DeviceName, device: Device): void {
    const followers = FOLLOWERS.filter((f) => f.device === name);
    if (followers.length > 0) {
      // As the board placed it: the PM timer at 600h, the VGA's BAR windows nowhere.
      this.held.set(name, { domain, device, at: new Map(followers.map((f) => [f.key, f.powerOn])) });
      for (const follower of followers) this.follow(follower);
    } else if (name === 'pci' && isPciHost(device)) {
      this.stopListening?.();
      this.stopListening = device.onDecodeChange((change) => { this.decodeChanged(change); });
      domain.register(this.countsState(), name);
    }
  }

  private decodeChanged(change: DecodeChange): void {
    if (change.kind !== 'window') return;
    const follower = FOLLOWERS.find((f) => f.pciFunction === change.pciFunction && f.window === change.window);
    if (follower === undefined) return;
    const place = follower.placeOf(change);
    if (place === this.places.get(follower.key)) return;
    this.places.set(follower.key, place);
    this.follow(follower);
    if (follower.key === 'vgaRom' && this.vgaRomSlot !== undefined) {
      const { bytes, map } = this.vgaRomSlot;
      // Not over another device's MMIO, where its regions would be refused too.
      map(place !== null && !this.taken.mmio.some((t) => place < t.base + t.length && t.base < place + bytes.length) ? place : null);
    }
  }

  /** Puts `follower`'s regions where the configuration has them, if the board can. */
  private follow(follower: Follower): void {
    const held = this.local(follower.device);
    if (held === undefined) {
      if (this.placement.devices[follower.device] !== 'absent') this.counts[`${follower.key}Unfollowed`]++;
      return;
    }
    if (!hasRegions(held.device, follower)) return;
    const to = this.places.get(follower.key) ?? null;
    const from = held.at.get(follower.key) ?? null;
    if (from === to) return;
    if (follower.unreachable?.(held.domain, this.placement) === true) {
      this.counts[`${follower.key}Unfollowed`]++;
      return;
    }
    if (to !== null && this.overlapping(follower, held.device, to)) {
      this.counts[`${follower.key}Overlapping`]++;
      return;
    }
    unmapRegions(held, follower);
    try {
      mapRegions(held, follower, to);
    } catch (error) {
      // What another party mapped on that bus alone (the board's table is checked above): the regions go back.
      if (!(error instanceof BusConflictError)) throw error;
      unmapRegions(held, follower);
      mapRegions(held, follower, from);
      this.counts[`${follower.key}Overlapping`]++;
      return;
    }
    held.at.set(follower.key, to);
    this.counts[`${follower.key}Followed`]++;
  }

  /** `name` if it is still in the domain it was placed in here (a move takes it out; one made here again is placed anew). */
  private local(name: DeviceName): Held | undefined {
    const held = this.held.get(name);
    if (held !== undefined && !held.domain.holds(name)) this.held.delete(name);
    return this.held.get(name);
  }

  /** Whether `follower`'s regions of `device` at `base` would cover another device's regions on the board. */
  private overlapping(follower: Follower, device: Device, base: number): boolean {
    return follower.regions.some(({ region, offset }) => {
      const start = base + offset;
      const length = device.regions.find((r) => r.name === region)?.length ?? 0;
      return this.taken[follower.space].some((t) => start < t.base + t.length && t.base < start + length);
    });
  }

  private countsState(): StatefulDevice {
    return {
      name: CHIPSET_WINDOWS,
      getState: (): ChipsetWindowsState => ({ model: 'chipset-windows', version: 2, ...this.counts }),
      setState: (state: DeviceState) => {
        expectState(state, 'chipset-windows', 2);
        const given = state as Partial<Record<keyof Counts, unknown>>;
        const keys = Object.keys(this.counts) as (keyof Counts)[];
        for (const key of keys) {
          const value = given[key];
          if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new DeviceStateError(`chipset-windows state's ${key} is not a count`);
        }
        for (const key of keys) this.counts[key] = given[key] as number;
      },
    };
  }
}

function unmapRegions({ domain }: Held, follower: Follower): void {
  for (const { region } of follower.regions) domain.bus.unmap(follower.device, region);
}

function mapRegions({ domain, device }: Held, follower: Follower, base: Place): void {
  if (base === null) return;
  for (const { region, offset } of follower.regions) domain.bus.map(follower.device, device, region, base + offset);
}
