/**
 * The local APIC page as each CPU sees it. Every CPU's APIC answers at the
 * same physical address (FEE0_0000h, SDM vol. 3A §11.4.1) and at the same
 * MSRs: an access reaches the APIC of the CPU that made it. A domain maps
 * this window once, and the VMM selects the running vCPU before it runs —
 * as KVM resolves an APIC-access exit against the vCPU that took it.
 *
 * The window's state and odd inputs are the selected CPU's; each APIC's own
 * are on the APIC (PcInterrupts.lapics).
 */
import type { AccessSize, Device, IoRegion } from '@splitvisor/abi';
import type { LocalApic, LocalApicState } from './local-apic.ts';

export class LocalApicWindow implements Device<LocalApicState> {
  readonly model = 'local-apic' as const;
  readonly regions: readonly IoRegion[];
  private readonly lapics: readonly LocalApic[];
  private selected: LocalApic;
  private cpu = 0;

  constructor(lapics: readonly LocalApic[]) {
    const first = lapics[0];
    if (first === undefined) throw new RangeError('a local APIC window needs at least one local APIC');
    this.lapics = lapics;
    this.selected = first;
    this.regions = first.regions;
  }

  /** The CPU whose APIC the next accesses reach. */
  get current(): number {
    return this.cpu;
  }

  select(cpu: number): void {
    const lapic = this.lapics[cpu];
    if (lapic === undefined) throw new RangeError(`no local APIC for CPU ${cpu} (the machine has ${this.lapics.length})`);
    this.cpu = cpu;
    this.selected = lapic;
  }

  read(region: string, offset: number, size: AccessSize): number {
    return this.selected.read(region, offset, size);
  }

  write(region: string, offset: number, size: AccessSize, value: number): void {
    this.selected.write(region, offset, size, value);
  }

  getState(): LocalApicState {
    return this.selected.getState();
  }

  setState(state: LocalApicState): void {
    this.selected.setState(state);
  }

  anomalies(): Readonly<Record<string, number>> {
    return this.selected.anomalies();
  }
}
