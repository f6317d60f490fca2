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
  /** The kernel queueing one write in the coalesced ring (KVM's coalesced_mmio_write) instead of a heavyweight exit. */
  readonly coalescedAppend: Cost;
  /** The device host applying one queued write as it drains the ring ahead of the next heavyweight exit (QEMU's flush). */
  readonly coalescedDrain: Cost;
  /** The kernel sending one write on to the device host one way (a posted write: KVM's ioeventfd, generalised): the vCPU's share. */
  readonly postedWrite: Cost;
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
  // Peng Hao's coalesced-PIO series (kvm/qemu, 2018) measured a Windows 7 guest's writes to port 70h with perf kvm
  // stat, exit to entry: 10.75 µs through userspace, 1.57 µs coalesced — the coalesced path 6.85× cheaper on the
  // part of the access the two paths do not share (the hardware exit is the same). Applied to this model's
  // 2,528-cycle userspace round trip, the coalesced path costs 369 cycles, split evenly between its two halves
  // (nothing published divides it).
  coalescedAppend: {
    cycles: 185,
    source: "half of the 369 cycles a coalesced write costs when the ratio Peng Hao measured for port 70h (10.75 µs through userspace, 1.57 µs coalesced, perf kvm stat exit-to-entry, kvm/qemu 2018) is applied to the 2,528-cycle userspace round trip: KVM's decode and ring append (coalesced_mmio_write)",
  },
  coalescedDrain: {
    cycles: 184,
    source: "the other half of those 369 cycles: QEMU replaying the entry from the ring (kvm_flush_coalesced_mmio_buffer: one address-space write, no exit of its own) at the next heavyweight exit",
  },
  // A posted write costs the vCPU what queueing it does — the kernel decodes the write and appends it to a ring
  // the device host reads — and no more: the device host's thread wakes and applies it on its own time. No
  // published figure isolates it; the coalesced append above is the same work.
  postedWrite: {
    cycles: 185,
    source: "the coalesced ring's append (185 cycles, from Peng Hao's port-70h measurement above): the kernel decodes the write and appends it to the device host's ring; the host thread's wake-up (ioeventfd's eventfd_signal) and the device's work are not the vCPU's",
  },
};

// Measured here, not published: no paper isolates it. `pnpm bench` in packages/metrics boots Debian's QEMU 7.2
// (TCG) on a boot sector reading port 80h ten million times and the same loop without the read: 34.6 ns a read
// on a 2.1 GHz AMD EPYC (2 cores, Debian 12), 73 cycles — the helper call out of the translated block and the
// memory-region dispatch to a device model that does nothing (the 8259's IMR: 72; port 61h, which computes the
// PIT's output: 197, the device's own work).
export const TCG: CostModel = {
  name: 'tcg',
  description: 'QEMU without an accelerator: no hardware exits; a device access leaves the translated code for a helper that dispatches to the device model, in the same thread',
  boundaries: {
    exit: {
      cycles: 73,
      source: "measured here (pnpm bench in packages/metrics): QEMU 7.2 TCG, `in al, dx` from port 80h in a loop, less the loop alone: 34.6 ns = 73 cycles at 2.1 GHz (AMD EPYC) — the helper call out of translated code and the memory-region dispatch; a halt leaves the CPU loop likewise",
    },
    'lightweight-exit': { cycles: 0, source: 'under TCG there is no kernel between the emulator and its devices: the dispatch is in the exit\'s 73 cycles' },
    'heavyweight-exit': { cycles: 0, source: 'the device models run in the thread that ran the guest, inside the helper call: no further crossing' },
  },
  coalescedAppend: { cycles: 0, source: 'under TCG there are no exits for a coalesced ring to save: nothing is queued' },
  coalescedDrain: { cycles: 0, source: 'under TCG there are no exits for a coalesced ring to save: nothing is drained' },
  postedWrite: { cycles: 0, source: 'under TCG there are no exits for a posted write to save: a write is a call' },
};

export const COST_MODELS: readonly CostModel[] = [KVM_2020, TCG];

export function costModel(name: string): CostModel | undefined {
  return COST_MODELS.find((m) => m.name === name);
}
