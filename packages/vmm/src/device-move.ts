/**
 * A device moving between domains while the VM runs (`Vm.move`): what moves
 * with it, what the placement becomes, and the record the run keeps of it. The move itself —
 * pause, state out, device out, device in, state in, resume — is the VM's.
 */
import type { Nanoseconds, Place } from '@splitvisor/abi';
import type { DeviceName, LostTickPolicies, Placement, TimerDevice } from '@splitvisor/placement';
import { ACK_PACED, LOST_TICK_POLICIES, RULES, TIMER_DEVICES, validatePlacement } from '@splitvisor/placement';
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

/**
 * `name` and the devices that must share its domain (the floppy controller
 * and the 8237 it moves its data through): what moves when it does.
 */
export function moveGroup(name: DeviceName): readonly DeviceName[] {
  const partners = RULES.filter((rule) => rule.required !== true && rule.together.includes(name)).flatMap((rule) => rule.together);
  return [name, ...new Set(partners.filter((partner) => partner !== name))];
}

const isTimer = (name: DeviceName): name is TimerDevice & DeviceName => (TIMER_DEVICES as readonly string[]).includes(name);

/**
 * The placement with the devices `names` (one device and those that share
 * its domain) in `to`, checked as any placement is; a lost-tick policy the
 * irqchip's ack notifier paces becomes the device's default when the device
 * leaves the irqchip's domain (KVM's PIT reinjection does not survive a move
 * to userspace: QEMU's PIT has none).
 */
export function movedPlacement(placement: Placement, names: readonly DeviceName[], to: Place): { readonly placement: Placement; readonly policy?: string } {
  const devices = { ...placement.devices, ...Object.fromEntries(names.map((name) => [name, to])) };
  const irqchipThere = devices.pic === to && devices.ioapic === to && devices.lapic === to;
  let lostTicks: LostTickPolicies = placement.lostTicks;
  let policy: string | undefined;
  for (const name of names) {
    if (!isTimer(name) || name === 'lapic' || !ACK_PACED.includes(lostTicks[name]) || irqchipThere) continue;
    const fallback = LOST_TICK_POLICIES[name][0];
    policy = `${lostTicks[name]} → ${fallback}`;
    lostTicks = { ...lostTicks, [name]: fallback };
  }
  const result = validatePlacement({ ...placement, devices, lostTicks });
  if (!result.ok) throw new VmError(`${names.join(' and ')} cannot move to ${to}: ${result.problems.join('; ')}`);
  return { placement: result.placement, ...(policy === undefined ? {} : { policy }) };
}
