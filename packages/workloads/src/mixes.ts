/**
 * Weighted mixes of the catalog's workloads: what a desktop or a server
 * guest spends its time doing, as shares of the run. A mix is measured by
 * running each component on a VM of its own for its share of the duration,
 * under the same placement, and adding up what each cost — the exits by
 * device and domain, the modelled cycles, the interrupts and their latency.
 * That gives the mix's cost profile; it does not model the components
 * competing for one vCPU (an interrupt of one arriving while another holds
 * interrupts off), which a single guest running them all would show.
 */
import type { ParameterValue } from './workload.ts';

export interface MixComponent {
  readonly workload: string;
  readonly parameters: Readonly<Record<string, ParameterValue>>;
  /** The share of the run, 0–1; a mix's shares add up to 1. */
  readonly share: number;
}

export interface WorkloadMix {
  readonly name: string;
  readonly description: string;
  readonly components: readonly MixComponent[];
}

export const WORKLOAD_MIXES: readonly WorkloadMix[] = [
  {
    name: 'mixed-desktop',
    description: 'an interactive desktop guest: mostly a tickless idle on TSC-deadline at HZ=250, with typing, a text console scrolling, a graphics fill, the RTC read and the PM timer as clocksource',
    components: [
      { workload: 'linux-idle-lapic', parameters: { hz: 250, timer: 'tsc-deadline' }, share: 0.5 },
      { workload: 'keyboard-typing', parameters: { cps: 8 }, share: 0.15 },
      { workload: 'vga-text-console', parameters: {}, share: 0.15 },
      { workload: 'vga-mode13h-fill', parameters: { fps: 30 }, share: 0.1 },
      { workload: 'rtc-read', parameters: {}, share: 0.05 },
      { workload: 'clocksource-read', parameters: { clocksource: 'acpi_pm' }, share: 0.05 },
    ],
  },
  {
    name: 'mixed-server',
    description: 'a headless server guest: a tickless idle on TSC-deadline at HZ=250, disk reads and writes with flushes through libata PIO, a serial console taking THRE interrupts, and the HPET as clocksource',
    components: [
      { workload: 'linux-idle-lapic', parameters: { hz: 250, timer: 'tsc-deadline' }, share: 0.35 },
      { workload: 'ata-pio-read', parameters: { sectors: 8 }, share: 0.25 },
      { workload: 'ata-pio-write', parameters: { sectors: 8 }, share: 0.15 },
      { workload: 'ata-flush', parameters: {}, share: 0.05 },
      { workload: 'serial-console', parameters: { mode: 'thre-irq', 'lines-per-second': 20 }, share: 0.15 },
      { workload: 'clocksource-read', parameters: { clocksource: 'hpet' }, share: 0.05 },
    ],
  },
];

export function workloadMix(name: string): WorkloadMix | undefined {
  return WORKLOAD_MIXES.find((m) => m.name === name);
}
