/**
 * The workloads splitvisor knows, by name, with their parameters and the
 * real driver each follows: what `splitvisor workloads` lists and `run` and
 * `compare` take.
 */
import { lapicTick } from './lapic-tick.ts';
import { pitTick } from './pit-tick.ts';
import { ATA_FLUSH } from './ata-flush.ts';
import { ATA_PIO_READ } from './ata-pio-read.ts';
import { ATA_PIO_WRITE } from './ata-pio-write.ts';
import { CLOCKSOURCE_READ } from './clocksource-read.ts';
import { FIRMWARE_PROBE } from './firmware-probe.ts';
import { FLOPPY_READ } from './floppy-read.ts';
import { KEYBOARD_TYPING } from './keyboard-typing.ts';
import { LAPIC_CALIBRATION } from './lapic-calibration.ts';
import { LINUX_IDLE_HPET } from './linux-idle-hpet.ts';
import { PIT_CALIBRATION } from './pit-calibration.ts';
import { RTC_PERIODIC } from './rtc-periodic.ts';
import { RTC_READ } from './rtc-read.ts';
import { SERIAL_CONSOLE } from './serial-console.ts';
import { TICK_COUNT } from './tick-count.ts';
import { VGA_MODE13H_FILL } from './vga-mode13h-fill.ts';
import { VGA_TEXT_CONSOLE } from './vga-text-console.ts';
import { WORKLOAD_MIXES } from './mixes.ts';
import { VMEXIT } from './vmexit.ts';
import type { ParameterValue, Workload, WorkloadDefinition } from './workload.ts';
import { WorkloadError, numberParameter, resolveParameters, stringParameter } from './workload.ts';

/** Linux's CONFIG_HZ choices (kernel/Kconfig.hz). */
const LINUX_HZ = [100, 250, 300, 1000] as const;

const hz = { name: 'hz', description: "the kernel's tick rate (CONFIG_HZ)", default: 1000, choices: LINUX_HZ } as const;

export const WORKLOAD_DEFINITIONS: readonly WorkloadDefinition[] = [
  {
    name: 'linux-idle-pit',
    description: "an idle Linux on the legacy timer path: the i8253 clockevent in periodic mode at HZ, 8259 EOIs, work then hlt",
    follows: 'arch/x86/kernel/i8259.c init_8259A; drivers/clocksource/i8253.c init_pit_timer (periodic); kernel/sched/idle.c',
    parameters: [hz],
    create: (p) => {
      const { guest, jiffies } = pitTick({ hz: numberParameter(p, 'hz') });
      return { guest, progress: () => ({ jiffies: jiffies() }) };
    },
  },
  {
    name: 'linux-idle-lapic',
    description: "an idle tickless Linux on the local APIC timer: one re-arm (a TMICT write, or RDTSC and a TSC_DEADLINE WRMSR) before each sti; hlt, LAPIC EOIs",
    follows: 'arch/x86/kernel/apic/apic.c setup_local_APIC, lapic_timer_set_oneshot, lapic_next_event, lapic_next_deadline; kernel/time/tick-sched.c',
    parameters: [hz, { name: 'timer', description: 'the LAPIC timer mode the clockevent uses', default: 'oneshot', choices: ['oneshot', 'tsc-deadline'] }],
    create: (p) => {
      const { guest, jiffies } = lapicTick({ hz: numberParameter(p, 'hz'), timer: stringParameter(p, 'timer') === 'tsc-deadline' ? 'tsc-deadline' : 'oneshot' });
      return { guest, progress: () => ({ jiffies: jiffies() }) };
    },
  },
  LINUX_IDLE_HPET,
  CLOCKSOURCE_READ,
  LAPIC_CALIBRATION,
  PIT_CALIBRATION,
  RTC_READ,
  RTC_PERIODIC,
  TICK_COUNT,
  ATA_PIO_READ,
  ATA_PIO_WRITE,
  ATA_FLUSH,
  FLOPPY_READ,
  VGA_TEXT_CONSOLE,
  VGA_MODE13H_FILL,
  KEYBOARD_TYPING,
  SERIAL_CONSOLE,
  FIRMWARE_PROBE,
  VMEXIT,
];

/** Earlier names, kept so that scripts written against them still run. */
export const WORKLOAD_ALIASES: Readonly<Record<string, string>> = {
  'pit-tick': 'linux-idle-pit',
  'lapic-tick': 'linux-idle-lapic',
  'pm-timer-read': 'clocksource-read',
};

export function workloadDefinition(name: string): WorkloadDefinition | undefined {
  const canonical = WORKLOAD_ALIASES[name] ?? name;
  return WORKLOAD_DEFINITIONS.find((w) => w.name === canonical);
}

/** The workload `name` with the parameters given by name (strings from flags, or numbers); one `WorkloadError` line when either is wrong. */
export function createWorkload(name: string, given: Readonly<Record<string, ParameterValue | undefined>> = {}): Workload {
  const definition = workloadDefinition(name);
  if (definition === undefined) {
    throw new WorkloadError(`unknown workload "${name}" (this build has: ${WORKLOAD_DEFINITIONS.map((w) => w.name).join(', ')}; mixes: ${WORKLOAD_MIXES.map((m) => m.name).join(', ')})`);
  }
  return definition.create(resolveParameters(definition, given));
}
