/**
 * The board's windows that follow the chipset's configuration, in one
 * process: what the PCI host (`@splitvisor/pci`) reports through its decode
 * changes, acted on for the devices placed in this process's domains — the
 * kernel's, the monitor's and the device host's in the VM's thread, or the
 * device host's own in its worker or process. One window is followed: the
 * PIIX4's PM I/O space, and with it the ACPI PM timer.
 *
 * Where the PM timer answers (82371AB datasheet, PMBA and PMREGMISC; QEMU
 * hw/acpi/piix4.c pm_io_space_update): at the PM space's base B (PM1 event
 * block, region `pm1-event`) and B + 8 (PM_TMR, region `pm-timer`) while
 * PMREGMISC's PMIOSE decodes it; nowhere while it does not. The board's
 * power-on choice: QEMU decodes nothing there until firmware sets PMIOSE,
 * but a guest that never programs PCI (every workload but the firmware's)
 * reads PM_TMR at 608h, where firmware puts it on QEMU's pc — so the timer
 * answers at the board's 600h/608h (`PM_BASE`) while PMBA is at its
 * power-on base 0 and PMIOSE is clear (at power-on, and after a reset puts
 * both back), as if firmware had put it there.
 *
 * The board acts on the changes the PCI host reports (a PMBA rewrite while
 * the space is off is none: it takes effect when PMIOSE is next written, as
 * SeaBIOS does at once). A PCI host made anew reports its state as changes
 * from power-on; where this process heard none of its past (a restore, a
 * move from another process), a PM space the guest turned off with PMBA
 * elsewhere is no change, and the timer is found at 600h: the one corner
 * where the board's view is not the configuration's.
 *
 * A new place that would cover another device's ports on the board is
 * refused — the guest's write goes on, the timer stays where it was — and
 * counted (`BusConflictError` never reaches the guest). A new place the
 * board cannot reach is counted too, not faked: the PM timer in another
 * process than the PCI host (one of them in a live device host, the other
 * in this thread), or in the device host with its counter served by the
 * kernel at the board's address (`io.kernelCounters`: the registration does
 * not follow). The counts are the state `CHIPSET_WINDOWS`, kept beside the
 * PCI host wherever it is placed (`vm.deviceState('chipset-windows',
 * 'pci')`, across the channel too).
 */
import type { Device, DeviceDomain, DeviceState, StatefulDevice } from '@splitvisor/abi';
import { BusConflictError, DeviceStateError, expectState } from '@splitvisor/abi';
import type { DecodeChange, I440fxPciHost } from '@splitvisor/pci';
import type { DeviceName, Placement } from '@splitvisor/placement';
import { DEVICES, fastPathFor } from '@splitvisor/placement';
import { PC_BOARD, PM_BASE } from './board.ts';

/** The name of the counts beside the PCI host, among its domain's states. */
export const CHIPSET_WINDOWS = 'chipset-windows';

/** What became of the guest's moves of the PM space, in the process that holds the PCI host. */
export type ChipsetWindowsState = {
  readonly model: 'chipset-windows';
  readonly version: 1;
  /** The PM timer put where the guest put the PM space (or taken off the bus while it is off). */
  readonly pmFollowed: number;
  /** A place over another device's ports: refused, the PM timer left where it was. */
  readonly pmOverlapping: number;
  /** A place the board could not reach: the PM timer in another process, or its counter served by the kernel. */
  readonly pmUnfollowed: number;
};

type Counts = Record<Exclude<keyof ChipsetWindowsState, 'model' | 'version'>, number>;

/** Where the PM timer's block starts, or null: nowhere. */
type PmPlace = number | null;

/** The PM timer's regions as offsets from the start of its block (PM1 event +0, PM_TMR +8). */
const PM_REGIONS = (PC_BOARD['pm-timer']?.regions ?? []).map((r) => ({ region: r.region, offset: r.base - PM_BASE, length: r.length }));

type PciHost = Device & Pick<I440fxPciHost, 'onDecodeChange'>;

function isPciHost(device: Device): device is PciHost {
  return typeof (device as Partial<PciHost>).onDecodeChange === 'function';
}

/** Where the PCI configuration puts the PM timer, after a change of the PM space's decode (see the header). */
function pmPlaceOf(change: Extract<DecodeChange, { kind: 'window' }>): PmPlace {
  if (change.enabled) return change.base;
  return change.base === 0 ? PM_BASE : null;
}

export class ChipsetWindows {
  private readonly placement: Placement;
  /** Other devices' ports on the board (the placement's, wherever they are): a PM space over them is refused. */
  private readonly taken: readonly { readonly base: number; readonly length: number }[];
  /** Where the configuration puts the PM timer, as the board last heard it. */
  private pmPlace: PmPlace = PM_BASE;
  /** The PM timer in one of this process's domains, and where its regions sit on that domain's bus. */
  private pmTimer: { readonly domain: DeviceDomain; readonly device: Device; at: PmPlace } | undefined;
  /** Takes the listener off the PCI host last placed here (one moved away hears no guest again). */
  private stopListening: (() => void) | undefined;
  private readonly counts: Counts = { pmFollowed: 0, pmOverlapping: 0, pmUnfollowed: 0 };

  /** `placement`: the VM's, as it was made (which devices it has, and its I/O fast paths). */
  constructor(placement: Placement) {
    this.placement = placement;
    this.taken = DEVICES.filter((name) => name !== 'pm-timer' && placement.devices[name] !== 'absent')
      .flatMap((name) => (PC_BOARD[name]?.regions ?? []).filter((r) => r.space === 'port').map((r) => ({ base: r.base, length: r.length })));
  }

  /**
   * `device`, placed as `name` on `domain` (at power-on or by a move): the
   * PCI host is listened to, and its counts kept beside it; the PM timer is
   * put where the configuration has it.
   */
  placed(domain: DeviceDomain, name: DeviceName, device: Device): void {
    if (name === 'pm-timer') {
      this.pmTimer = { domain, device, at: PM_BASE };
      this.followPm();
    } else if (name === 'pci' && isPciHost(device)) {
      this.stopListening?.();
      this.stopListening = device.onDecodeChange((change) => { this.decodeChanged(change); });
      domain.register(this.countsState(), name);
    }
  }

  private decodeChanged(change: DecodeChange): void {
    if (change.kind !== 'window' || change.pciFunction !== 'piix4-pm' || change.window !== 'pm') return;
    const place = pmPlaceOf(change);
    if (place === this.pmPlace) return;
    this.pmPlace = place;
    this.followPm();
  }

  /** Puts the PM timer where the configuration has it, if the board can. */
  private followPm(): void {
    const timer = this.localPmTimer();
    if (timer === undefined) {
      if (this.placement.devices['pm-timer'] !== 'absent') this.counts.pmUnfollowed++;
      return;
    }
    const to = this.pmPlace;
    if (timer.at === to) return;
    if (timer.domain.place === 'user' && fastPathFor(this.placement.io.kernelCounters, 'pm-timer')) {
      this.counts.pmUnfollowed++;
      return;
    }
    if (to !== null && this.overlapping(to)) {
      this.counts.pmOverlapping++;
      return;
    }
    const { domain, device } = timer;
    domain.bus.unmap('pm-timer');
    try {
      mapPmTimer(domain, device, to);
    } catch (error) {
      // What another party mapped on that bus alone (the board's table is checked above): the timer goes back.
      if (!(error instanceof BusConflictError)) throw error;
      domain.bus.unmap('pm-timer');
      mapPmTimer(domain, device, timer.at);
      this.counts.pmOverlapping++;
      return;
    }
    timer.at = to;
    this.counts.pmFollowed++;
  }

  /** The PM timer if it is still in the domain it was placed in here (a move takes it out; one made here again is placed anew). */
  private localPmTimer(): { readonly domain: DeviceDomain; readonly device: Device; at: PmPlace } | undefined {
    if (this.pmTimer?.domain.getDeviceState('pm-timer').kind !== 'device-state') this.pmTimer = undefined;
    return this.pmTimer;
  }

  /** Whether the PM timer's regions at `base` would cover another device's ports on the board. */
  private overlapping(base: number): boolean {
    return PM_REGIONS.some(({ offset, length }) => this.taken.some((t) => base + offset < t.base + t.length && t.base < base + offset + length));
  }

  private countsState(): StatefulDevice {
    return {
      name: CHIPSET_WINDOWS,
      getState: (): ChipsetWindowsState => ({ model: 'chipset-windows', version: 1, ...this.counts }),
      setState: (state: DeviceState) => {
        expectState(state, 'chipset-windows', 1);
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

function mapPmTimer(domain: DeviceDomain, device: Device, base: PmPlace): void {
  if (base === null) return;
  for (const { region, offset } of PM_REGIONS) domain.bus.map('pm-timer', device, region, base + offset);
}
