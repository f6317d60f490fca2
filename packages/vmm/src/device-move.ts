/**
 * A device moving between domains while the VM runs (`Vm.move`): what the
 * placement becomes, and the record the run keeps of it. The move itself —
 * pause, state out, device out, device in, state in, resume — is the VM's.
 */
import type { Nanoseconds, Place } from '@splitvisor/abi';
import type { DeviceName, LostTickPolicies, Placement, TimerDevice } from '@splitvisor/placement';
import { ACK_PACED, LOST_TICK_POLICIES, TIMER_DEVICES, validatePlacement } from '@splitvisor/placement';
import { VmError } from './vm-error.ts';

/** A move made: which device, from where to where, at what guest time, and the lost-tick policy it took there if its own could not follow. */
export interface DeviceMove {
  readonly device: DeviceName;
  readonly from: Place;
  readonly to: Place;
  readonly atNs: Nanoseconds;
  /** `delay → discard`: its policy paced by the irqchip's ack notifier, which does not reach it in its new domain. */
  readonly lostTicks?: string;
}

/** Devices that do not move yet: each holds a medium (whose image would go with it) or is the DMA the floppy shares. */
export const UNMOVABLE: readonly DeviceName[] = ['disk', 'floppy', 'dma'];

const isTimer = (name: DeviceName): name is TimerDevice & DeviceName => (TIMER_DEVICES as readonly string[]).includes(name);

/**
 * The placement with `name` in `to`, checked as any placement is; a
 * lost-tick policy the irqchip's ack notifier paces becomes the device's
 * default when the device leaves the irqchip's domain (KVM's PIT
 * reinjection does not survive a move to userspace: QEMU's PIT has none).
 */
export function movedPlacement(placement: Placement, name: DeviceName, to: Place): { readonly placement: Placement; readonly policy?: string } {
  const devices = { ...placement.devices, [name]: to };
  const irqchipThere = devices.pic === to && devices.ioapic === to && devices.lapic === to;
  let lostTicks: LostTickPolicies = placement.lostTicks;
  let policy: string | undefined;
  if (isTimer(name) && name !== 'lapic' && ACK_PACED.includes(lostTicks[name]) && !irqchipThere) {
    const fallback = LOST_TICK_POLICIES[name][0];
    policy = `${lostTicks[name]} → ${fallback}`;
    lostTicks = { ...lostTicks, [name]: fallback };
  }
  const result = validatePlacement({ ...placement, devices, lostTicks });
  if (!result.ok) throw new VmError(`${name} cannot move to ${to}: ${result.problems.join('; ')}`);
  return { placement: result.placement, ...(policy === undefined ? {} : { policy }) };
}
