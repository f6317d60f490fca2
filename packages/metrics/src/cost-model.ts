/**
 * Turning crossings into cycles. Each number carries its source; a model is
 * plain data, so a user can bring their own (`splitvisor` takes it by name).
 * The defaults describe a KVM host of about 2020.
 */
import type { Boundary } from '@splitvisor/abi';

export interface Cost {
  /** Cycles for one round trip across this boundary (out and back in). */
  readonly cycles: number;
  /** Where the number comes from. */
  readonly source: string;
}

export interface CostModel {
  readonly name: string;
  readonly description: string;
  /** Round-trip cost of each boundary, outermost the dearest. */
  readonly boundaries: Readonly<Record<Boundary, Cost>>;
  /** One write queued in a coalesced ring instead of a heavyweight exit. */
  readonly coalescedWrite: Cost;
}

export const KVM_2020: CostModel = {
  name: 'kvm-2020',
  description: 'hardware-assisted virtualization on a 2020-era x86 host running KVM',
  boundaries: {
    exit: {
      cycles: 2_000,
      source: "a VM exit's direct cost of about 2,000 cycles, as measured in the SplitX paper (Landau, Ben-Yehuda, Gordon: SplitX, WIOV 2011)",
    },
    'lightweight-exit': {
      cycles: 0,
      source: 'with KVM the monitor is the kernel: the VM exit already is the lightweight exit, so its handling in the kernel adds no further boundary (the device\'s own work is not a crossing)',
    },
    'heavyweight-exit': {
      cycles: 2_528,
      source: 'one KVM_RUN round trip to userspace and back, about 2,528 cycles on AMD (lkml, 2020)',
    },
  },
  coalescedWrite: {
    cycles: 0,
    source: "a queued write still exits to the kernel (charged as that exit) but never returns to userspace; Peng Hao's coalesced-PIO patch measured a write to port 70h at 10.75 µs through userspace and 1.57 µs coalesced (kvm, 2018), the difference being the heavyweight exit this saves — so the queueing itself is charged nothing",
  },
};

export const TCG: CostModel = {
  name: 'tcg',
  description: 'QEMU without an accelerator: no hardware exits; device accesses are calls inside one process',
  boundaries: {
    exit: { cycles: 0, source: 'under TCG the guest never leaves the emulator: an access is a function call' },
    'lightweight-exit': { cycles: 0, source: 'under TCG there is no kernel path between the emulator and its devices' },
    'heavyweight-exit': { cycles: 0, source: 'device models are in the same process as the CPU emulation' },
  },
  coalescedWrite: { cycles: 0, source: 'under TCG there are no exits for a coalesced ring to save' },
};

export const COST_MODELS: readonly CostModel[] = [KVM_2020, TCG];

export function costModel(name: string): CostModel | undefined {
  return COST_MODELS.find((m) => m.name === name);
}
