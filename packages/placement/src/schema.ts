/**
 * A placement file: which domain each device lives in, and the monitor's
 * policies. Validated with zod; every problem comes back as one sentence that
 * names the device, the field and the reason.
 */
import { z } from 'zod';
import type { DeviceName, DomainName, LostTickPolicies, TimerDevice } from './devices.ts';
import { ACK_PACED, DEVICES, DOMAINS, KERNEL_PIT_NEEDS_KERNEL_IRQCHIP, LOST_TICK_POLICIES, RULES, TIMER_DEVICES } from './devices.ts';

/** An I/O fast path's reach: every device that offers it (true), none (false), or the devices named. */
const FastPathDevices = z.union([z.boolean(), z.array(z.enum(DEVICES)).min(1, 'an empty list: name at least one device, or say false')], {
  error: () => `expected true (every device that offers it), false, or a non-empty list of the board's devices (known: ${DEVICES.join(', ')})`,
});
export type FastPathDevices = z.infer<typeof FastPathDevices>;

/** A device's domain, or `absent` for a machine that does not have it (Firecracker has no VGA, floppy or IDE). */
const Domain = z.enum([...DOMAINS, 'absent']);
export type Where = DomainName | 'absent';

export const TimePolicy = z.discriminatedUnion('kind', [
  /** Seed 000: guest time is the cycles the guest ran; time spent outside it does not exist for it. */
  z.strictObject({ kind: z.literal('guest-cycles') }),
  /**
   * Guest time is the cycles the guest ran and the round trip of every exit
   * it took, in the cost model: its TSC runs on while the vCPU is out, as
   * under KVM, so a loop around an exit turns as often as it would there.
   */
  z.strictObject({ kind: z.literal('guest-and-exits') }),
  /**
   * Guest time is host time: in a modelled run, the modelled host time — the
   * cycles the guest ran, every transition's modelled cost (those made while
   * it is halted too), its waits — so exit overhead is time stolen from it.
   */
  z.strictObject({ kind: z.literal('wall') }),
  /**
   * DOSEMU-style contraction (seed 000): guest time follows host time, but a
   * halt takes only 1/`factor` of its length in host time, and a guest behind
   * host time catches up by at most `maxStepUs` each time it resumes.
   */
  z.strictObject({ kind: z.literal('contracted'), factor: z.number().min(1).max(1000), maxStepUs: z.number().positive().max(1_000_000).default(1000) }),
]);

export const EventDelivery = z.discriminatedUnion('kind', [
  /** Events are delivered at their exact deadline (the guest is stopped there). */
  z.strictObject({ kind: z.literal('exact') }),
  /** Events are delivered only at the host's tick (seed 001: "only as good as the interrupt period of the host timer tick"). */
  z.strictObject({ kind: z.literal('host-tick'), hz: z.number().int().min(1).max(100_000) }),
]);

export const PlacementFile = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'a profile name is lower-case letters, digits and dashes'),
  description: z.string().min(1),
  /** What the profile models and where that comes from. */
  models: z.string().min(1),
  devices: z.record(z.string(), Domain),
  time: TimePolicy.default({ kind: 'guest-cycles' }),
  delivery: EventDelivery.default({ kind: 'exact' }),
  /** Each periodic timer's lost-tick policy, by device (`LOST_TICK_POLICIES`); a device left out keeps its hardware's. */
  lostTicks: z.record(z.string(), z.string()).default({}),
  // Each I/O fast path: on for every device that offers it (true), for the devices named, or off.
  io: z.strictObject({
    /** Queue port writes the devices allow in a coalesced ring (KVM_REGISTER_COALESCED_MMIO; seed 003). */
    coalescedWrites: FastPathDevices.default(false),
    /** Answer reads of status registers the devices publish from the kernel, while nothing could have changed them (seed 003). */
    cachedReads: FastPathDevices.default(false),
    /** Serve free-running counters from the kernel (seed 002). */
    kernelCounters: FastPathDevices.default(false),
    /** Load the devices' verified fast-path programs into the kernel (seed 002's bytecode). */
    programs: FastPathDevices.default(false),
    /** Send writes to devices in the device host one way, the guest not waiting for them (KVM's ioeventfd, crosvm's one-way proxied writes). */
    postedWrites: FastPathDevices.default(false),
  }).default({ coalescedWrites: false, cachedReads: false, kernelCounters: false, programs: false, postedWrites: false }),
  costModel: z.string().default('kvm-2020'),
});

export type PlacementFile = z.input<typeof PlacementFile>;

/** A validated placement: every device in exactly one domain, every periodic timer with its lost-tick policy. */
export type Placement = Omit<z.output<typeof PlacementFile>, 'devices' | 'lostTicks'> & {
  readonly devices: Readonly<Record<DeviceName, Where>>;
  readonly lostTicks: LostTickPolicies;
};

export type PlacementResult = { readonly ok: true; readonly placement: Placement } | { readonly ok: false; readonly problems: readonly string[] };

function describe(issue: z.core.$ZodIssue): string {
  const where = issue.path.length === 0 ? 'the placement' : issue.path.map(String).join('.');
  return `${where}: ${issue.message}`;
}

/** Checks a placement file, explaining every problem in a sentence. */
export function validatePlacement(input: unknown): PlacementResult {
  const parsed = PlacementFile.safeParse(input);
  if (!parsed.success) return { ok: false, problems: parsed.error.issues.map(describe) };
  const file = parsed.data;
  const problems: string[] = [];
  const known = new Set<string>(DEVICES);
  for (const device of Object.keys(file.devices)) {
    if (!known.has(device)) problems.push(`devices.${device}: unknown device "${device}" (known: ${DEVICES.join(', ')})`);
  }
  for (const device of DEVICES) {
    if (file.devices[device] === undefined) problems.push(`devices.${device}: not placed (every device needs a domain — ${DOMAINS.join(', ')} — or absent)`);
  }
  if (problems.length > 0) return { ok: false, problems };
  const devices = file.devices as Record<DeviceName, Where>;
  for (const rule of RULES) {
    const domains = new Set(rule.together.map((d) => devices[d]));
    const required = rule.required === true;
    if (domains.size > 1 && (required || !domains.has('absent'))) {
      problems.push(`devices: ${rule.together.map((d) => `${d} (${devices[d]})`).join(' and ')} must share a domain: ${rule.why}`);
    }
  }
  if (devices.lapic === 'absent' || devices.pic === 'absent') problems.push('devices: a PC has a local APIC and an 8259 pair; they cannot be absent');
  if (devices.pit === 'kernel' && (devices.pic !== 'kernel' || devices.ioapic !== 'kernel')) {
    problems.push(`devices.pit: ${KERNEL_PIT_NEEDS_KERNEL_IRQCHIP}`);
  }
  if (problems.length > 0) return { ok: false, problems };
  // Checked once the devices are where they may be: a policy's problem is then its own.
  const lostTicks = lostTickPolicies(file.lostTicks, devices, problems);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, placement: { ...file, devices, lostTicks } };
}

/**
 * Each timer device's policy, checked: a known device with a periodic timer,
 * a policy it has, and — for one paced by the ack notifier — placed where the
 * irqchip's acknowledgements reach it (with the 8259, I/O APIC and local APIC
 * in one domain, as KVM's in-kernel PIT; the local APIC's own timer always).
 */
function lostTickPolicies(given: Readonly<Record<string, string>>, devices: Readonly<Record<DeviceName, Where>>, problems: string[]): LostTickPolicies {
  const chosen: Record<string, string> = {};
  for (const [device, policy] of Object.entries(given)) {
    if (!(TIMER_DEVICES as readonly string[]).includes(device)) {
      const why = (DEVICES as readonly string[]).includes(device) ? `${device} has no periodic timer` : `unknown device "${device}"`;
      problems.push(`lostTicks.${device}: ${why} (lost-tick policies are for ${TIMER_DEVICES.join(', ')})`);
      continue;
    }
    const timer = device as TimerDevice;
    const known: readonly string[] = LOST_TICK_POLICIES[timer];
    if (!known.includes(policy)) {
      problems.push(`lostTicks.${device}: unknown policy "${policy}" (${device} takes ${known.join(', ')})`);
      continue;
    }
    const where = devices[timer];
    if (where === 'absent') {
      problems.push(`lostTicks.${device}: ${device} is absent from this placement`);
      continue;
    }
    const irqchipHere = devices.pic === where && devices.ioapic === where && devices.lapic === where;
    if (timer !== 'lapic' && ACK_PACED.includes(policy) && !irqchipHere) {
      problems.push(`lostTicks.${device}: ${policy} paces ticks by the irqchip's ack notifier, which reaches a ${device} only in the irqchip's domain (the 8259, I/O APIC and local APIC together, as KVM's in-kernel PIT); this ${device} is in ${where}`);
      continue;
    }
    chosen[device] = policy;
  }
  return Object.fromEntries(TIMER_DEVICES.map((d) => [d, chosen[d] ?? LOST_TICK_POLICIES[d][0]])) as unknown as LostTickPolicies;
}
