// Every field of the placement schema is acted on: the test walks the schema (every key, every literal of a
// discriminated union, every device of a record) and, for each, runs a VM with the field changed beside one
// without, and proves the run differs — in the exits, in what the guest counted, in its clock or in the host's.
// The fields that are words for a reader and one field still waiting for its issue are listed, with why.
import { PlacementFile, TIMER_DEVICES, DEVICES, validatePlacement, profile } from '@splitvisor/placement';
import type { Placement } from '@splitvisor/placement';
import { createWorkload } from '@splitvisor/workloads';
import { describe, expect, it } from 'vitest';
import { Vm } from '../src/index.ts';
import { boardFor } from './workload-board.ts';

/** The zod definition of a schema node, read structurally (this package does not depend on zod). */
interface Def {
  readonly type: string;
  readonly innerType?: { readonly _zod: { readonly def: Def } };
  readonly shape?: Readonly<Record<string, { readonly _zod: { readonly def: Def } }>>;
  readonly options?: readonly { readonly _zod: { readonly def: Def } }[];
  readonly values?: readonly unknown[];
}
const defOf = (schema: unknown): Def => (schema as { _zod: { def: Def } })._zod.def;

/** Every field path: `io.coalescedWrites`, `time.kind=wall`, `time.factor`, `devices.pit`, … */
function walk(def: Def, prefix: string): string[] {
  switch (def.type) {
    case 'default':
    case 'optional':
    case 'pipe':
      return def.innerType === undefined ? [prefix] : walk(def.innerType._zod.def, prefix);
    case 'object':
      return Object.entries(def.shape ?? {}).flatMap(([key, node]) => walk(node._zod.def, prefix === '' ? key : `${prefix}.${key}`));
    case 'union':
      return [...new Set((def.options ?? []).flatMap((option) => walk(option._zod.def, prefix)))];
    case 'literal':
      return [`${prefix}=${String(def.values?.[0])}`];
    case 'record':
      return prefix === 'devices' ? DEVICES.map((d) => `devices.${d}`) : prefix === 'lostTicks' ? TIMER_DEVICES.map((d) => `lostTicks.${d}`) : [`${prefix}.*`];
    default:
      return [prefix];
  }
}

function base(name: string, time: Placement['time'] = { kind: 'guest-cycles' }): Placement {
  const result = validatePlacement(profile(name));
  if (!result.ok) throw new Error(result.problems.join('; '));
  return { ...result.placement, time };
}

/** What a run shows: exits by device and domain, the guest's own counts, its clock and the host's. */
function runOf(where: Placement, workload: string, parameters: Record<string, string | number> = {}, durationNs = 50_000_000): string {
  const made = createWorkload(workload, parameters);
  const vm = new Vm(where, made.guest, { board: boardFor(made) });
  const summary = vm.run(durationNs);
  const seen = JSON.stringify({
    profile: where.name, exits: [...vm.counts.exitsByDevice()], progress: made.progress(), tsc: vm.clock.tsc(), host: summary.hostCycles,
    costModel: vm.costModel.name,
  });
  void vm.close();
  return seen;
}

interface Variant {
  /** The placement and workload the field is changed on. */
  readonly on: Placement;
  readonly workload: string;
  readonly parameters?: Record<string, string | number>;
  readonly change: (p: Placement) => Placement;
}

const masked = { 'mask-ms': 20, 'mask-every-ms': 10 };
const lostTicks = (device: string, policy: string) => (p: Placement): Placement => ({ ...p, lostTicks: { ...p.lostTicks, [device]: policy } });
const moved = (devices: Partial<Record<string, string>>) => (p: Placement): Placement => ({ ...p, devices: { ...p.devices, ...devices } });
const irqchipToMonitor = moved({ pic: 'monitor', ioapic: 'monitor', lapic: 'monitor' });
/** From every device in the kernel, one moved to the monitor: its exits stop there. */
const toMonitor = (device: string, workload: string, parameters?: Record<string, string | number>): Variant => ({ on: base('all-kernel'), workload, ...(parameters === undefined ? {} : { parameters }), change: moved({ [device]: 'monitor' }) });

const VARIANTS: Readonly<Record<string, Variant>> = {
  name: { on: base('kvm-irqchip'), workload: 'linux-idle-pit', change: (p) => ({ ...p, name: 'renamed' }) },
  'devices.pic': { on: base('all-kernel'), workload: 'linux-idle-pit', change: irqchipToMonitor },
  'devices.ioapic': { on: base('all-kernel'), workload: 'linux-idle-lapic', change: irqchipToMonitor }, // the three move together (KVM's rules)
  'devices.lapic': { on: base('all-kernel'), workload: 'linux-idle-lapic', change: irqchipToMonitor },
  'devices.pit': toMonitor('pit', 'linux-idle-pit'),
  'devices.pm-timer': toMonitor('pm-timer', 'clocksource-read'),
  'devices.hpet': toMonitor('hpet', 'linux-idle-hpet'),
  'devices.rtc': toMonitor('rtc', 'rtc-read'),
  'devices.keyboard': toMonitor('keyboard', 'keyboard-typing'),
  'devices.vga': toMonitor('vga', 'vga-text-console'),
  'devices.floppy': { on: base('all-kernel'), workload: 'floppy-read', change: moved({ floppy: 'monitor', dma: 'monitor' }) },
  'devices.dma': { on: base('all-kernel'), workload: 'floppy-read', change: moved({ floppy: 'monitor', dma: 'monitor' }) }, // with the floppy controller
  'devices.disk': toMonitor('disk', 'ata-pio-read'),
  'devices.serial': toMonitor('serial', 'serial-console'),
  'devices.debugcon': toMonitor('debugcon', 'firmware-probe'),
  'devices.port92': toMonitor('port92', 'firmware-probe'),
  'devices.fw-cfg': toMonitor('fw-cfg', 'firmware-probe'),
  'devices.pci': toMonitor('pci', 'firmware-probe'),
  'devices.parallel': toMonitor('parallel', 'firmware-probe'),
  'devices.cdrom': toMonitor('cdrom', 'firmware-probe'),
  'time.kind=guest-cycles': { on: base('kvm-userspace-pit', { kind: 'wall' }), workload: 'linux-idle-pit', change: (p) => ({ ...p, time: { kind: 'guest-cycles' } }) },
  'time.kind=guest-and-exits': { on: base('kvm-userspace-pit'), workload: 'linux-idle-pit', change: (p) => ({ ...p, time: { kind: 'guest-and-exits' } }) },
  'time.kind=wall': { on: base('kvm-userspace-pit', { kind: 'guest-and-exits' }), workload: 'linux-idle-pit', change: (p) => ({ ...p, time: { kind: 'wall' } }) },
  'time.kind=contracted': { on: base('kvm-userspace-pit', { kind: 'wall' }), workload: 'linux-idle-pit', change: (p) => ({ ...p, time: { kind: 'contracted', factor: 4, maxStepUs: 1000 } }) },
  'time.factor': { on: base('kvm-userspace-pit', { kind: 'contracted', factor: 1, maxStepUs: 1000 }), workload: 'linux-idle-pit', change: (p) => ({ ...p, time: { kind: 'contracted', factor: 8, maxStepUs: 1000 } }) },
  'time.maxStepUs': { on: base('kvm-userspace-irqchip', { kind: 'contracted', factor: 1, maxStepUs: 1000 }), workload: 'clocksource-read', change: (p) => ({ ...p, time: { kind: 'contracted', factor: 1, maxStepUs: 0.001 } }) },
  'delivery.kind=exact': { on: { ...base('kvm-irqchip'), delivery: { kind: 'host-tick', hz: 250 } }, workload: 'linux-idle-lapic', change: (p) => ({ ...p, delivery: { kind: 'exact' } }) },
  'delivery.kind=host-tick': { on: base('kvm-irqchip'), workload: 'linux-idle-lapic', change: (p) => ({ ...p, delivery: { kind: 'host-tick', hz: 250 } }) },
  'delivery.hz': { on: { ...base('kvm-irqchip'), delivery: { kind: 'host-tick', hz: 250 } }, workload: 'linux-idle-lapic', change: (p) => ({ ...p, delivery: { kind: 'host-tick', hz: 100 } }) },
  'lostTicks.pit': { on: base('kvm-irqchip'), workload: 'tick-count', parameters: { timer: 'pit', ...masked }, change: lostTicks('pit', 'discard') },
  'lostTicks.rtc': { on: base('kvm-irqchip'), workload: 'tick-count', parameters: { timer: 'rtc', ...masked }, change: lostTicks('rtc', 'slew') },
  'lostTicks.hpet': { on: base('all-kernel'), workload: 'tick-count', parameters: { timer: 'hpet', ...masked }, change: lostTicks('hpet', 'delay') },
  'lostTicks.lapic': { on: base('kvm-irqchip'), workload: 'tick-count', parameters: { timer: 'lapic', ...masked }, change: lostTicks('lapic', 'delay') },
  'io.coalescedWrites': { on: base('kvm-irqchip'), workload: 'rtc-read', change: (p) => ({ ...p, io: { ...p.io, coalescedWrites: false } }) },
  'io.cachedReads': { on: base('kvm-irqchip'), workload: 'ata-pio-read', change: (p) => ({ ...p, io: { ...p.io, cachedReads: true } }) },
  'io.programs': { on: base('kvm-userspace-pit'), workload: 'clocksource-read', parameters: { clocksource: 'pit', reads: 100 }, change: (p) => ({ ...p, io: { ...p.io, programs: true } }) },
  'io.kernelCounters': { on: base('kvm-irqchip'), workload: 'clocksource-read', change: (p) => ({ ...p, io: { ...p.io, kernelCounters: true } }) },
  'io.postedWrites': { on: base('kvm-irqchip'), workload: 'serial-console', change: (p) => ({ ...p, io: { ...p.io, postedWrites: true } }) },
  costModel: { on: base('kvm-irqchip', { kind: 'guest-and-exits' }), workload: 'clocksource-read', change: (p) => ({ ...p, costModel: 'tcg' }) },
};

/** Words for the reader, not configuration: shown by `splitvisor profiles`, and by nothing in a run. */
const FOR_THE_READER: Readonly<Record<string, string>> = {
  description: 'what the placement is, in a line',
  models: 'what it models and where that comes from',
};

/** Declared and not yet acted on: each with the issue that acts on it (the test fails once it is). */
const NOT_YET: Readonly<Record<string, Variant & { readonly issue: string }>> = {};

const FIELDS = walk(defOf(PlacementFile), '');

describe('every field of the placement schema', () => {
  it('is in one of the lists: changed in a run, words for the reader, or waiting for its issue', () => {
    expect(FIELDS.length).toBeGreaterThan(30);
    expect([...FIELDS].sort()).toEqual([...Object.keys(VARIANTS), ...Object.keys(FOR_THE_READER), ...Object.keys(NOT_YET)].sort());
  });

  it.each(Object.keys(VARIANTS))('%s changes the run', (field) => {
    const variant = VARIANTS[field];
    if (variant === undefined) throw new Error(field);
    const before = runOf(variant.on, variant.workload, variant.parameters);
    const after = runOf(variant.change(variant.on), variant.workload, variant.parameters);
    expect(after).not.toBe(before);
  });

  it.each(Object.keys(NOT_YET))('%s is not acted on yet, and says which issue acts on it', (field) => {
    const variant = NOT_YET[field];
    if (variant === undefined) throw new Error(field);
    expect(runOf(variant.change(variant.on), variant.workload, variant.parameters)).toBe(runOf(variant.on, variant.workload, variant.parameters));
  });
});
