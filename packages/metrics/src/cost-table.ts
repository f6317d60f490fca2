/**
 * The cost model in the open: every kind of transition the run loop and the
 * domains record, with what it is charged in a model and where the number
 * comes from. Some are boundaries of their own (a VM exit, the trip to the
 * device host); others are one of those under another name (a vCPU kick is
 * a heavyweight exit), or ride on another's round trip (the ioctl back, an
 * injection on the next entry) — said so, never left at a silent zero.
 */
import type { CostModel } from './cost-model.ts';

export interface TransitionCost {
  /** The transition, as a VMM engineer names it. */
  readonly transition: string;
  /** How the model charges it: the entries whose cycles it costs. */
  readonly charged: string;
  readonly cycles: number;
  readonly source: string;
}

export function costTable(model: CostModel): TransitionCost[] {
  const { exit, 'lightweight-exit': lightweight, 'heavyweight-exit': heavyweight } = model.boundaries;
  const sum = (...costs: { readonly cycles: number }[]) => costs.reduce((n, c) => n + c.cycles, 0);
  return [
    { transition: 'VM exit (guest → monitor) and entry back', charged: 'exit', cycles: exit.cycles, source: exit.source },
    { transition: 'lightweight exit (monitor → kernel) and back', charged: 'lightweight-exit', cycles: lightweight.cycles, source: lightweight.source },
    { transition: 'heavyweight exit (kernel → device host), the ioctl back included', charged: 'heavyweight-exit', cycles: heavyweight.cycles, source: heavyweight.source },
    { transition: 'device access answered in the kernel (a device there, a cached read, a kernel counter, a fast-path program)', charged: 'exit + lightweight-exit', cycles: sum(exit, lightweight), source: 'the exit and the kernel\'s handling; the device\'s own work, a program\'s steps and a cache lookup are not crossings and are not charged' },
    { transition: 'device access answered in the device host', charged: 'exit + lightweight-exit + heavyweight-exit', cycles: sum(exit, lightweight, heavyweight), source: 'each boundary it crosses, once' },
    { transition: 'host timer interrupt while the guest runs (a timer exit)', charged: 'exit (+ lightweight-exit when the timer is past the monitor)', cycles: exit.cycles, source: 'a timer exit is a VM exit (the host timer interrupt, or the VMX preemption timer KVM arms)' },
    { transition: 'vCPU kick by a device host timer', charged: 'heavyweight-exit', cycles: heavyweight.cycles, source: 'QEMU\'s timer thread kicks the vCPU out of KVM_RUN: one round trip to userspace' },
    { transition: 'irq-window exit', charged: 'exit (+ heavyweight-exit to a userspace irqchip)', cycles: exit.cycles, source: 'KVM_EXIT_IRQ_WINDOW_OPEN is a VM exit, taken to userspace when the irqchip is there' },
    { transition: 'interrupt injection', charged: 'none apart: part of the next VM entry', cycles: 0, source: 'the vector is written to the VMCS/VMCB before the entry the exit\'s round trip already pays for' },
    { transition: 'coalesced-ring append (kernel)', charged: 'coalesced-append', cycles: model.coalescedAppend.cycles, source: model.coalescedAppend.source },
    { transition: 'coalesced-ring drain (device host)', charged: 'coalesced-drain', cycles: model.coalescedDrain.cycles, source: model.coalescedDrain.source },
    { transition: 'posted write (kernel → device host, one way)', charged: 'posted-write', cycles: model.postedWrite.cycles, source: model.postedWrite.source },
  ];
}
