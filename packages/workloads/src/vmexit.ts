/**
 * The exit microbenchmarks of kvm-unit-tests' x86/vmexit.c that are port,
 * MMIO, MSR and interrupt work: each test is one guest operation (or a short
 * sequence) repeated `iterations` times, and what it measures is the cost of
 * one iteration — there, TSC cycles around the loop; here, the guest's own
 * cycles plus the modelled cost of every crossing the loop made (see
 * `splitvisor compare --workload vmexit`, which runs each test with the
 * iterations asked and with none, and divides the difference).
 *
 * The tests, as vmexit.c defines them:
 * * inl_from_pmtimer — `inl` of the ACPI PM timer (the FADT's PM_TMR port;
 *   608h on QEMU's pc machine): a device QEMU emulates in userspace.
 * * inl_from_qemu — `inl` of port 1234h, which nothing decodes: an exit all
 *   the way to userspace and back with nothing done.
 * * inl_from_kernel — `inb` of port 4D0h, the PIIX ELCR, which KVM's
 *   in-kernel 8259 pair answers: the cheapest port exit.
 * * outl_to_kernel — `outb` of 0 to the same ELCR port.
 * * eoi — a write of 0 to the local APIC's EOI register with nothing in
 *   service.
 * * self_ipi_sti_nop / self_ipi_sti_hlt — with interrupts off, a fixed IPI
 *   to self through the ICR (ICR high, then ICR low: xapic_icr_write), then
 *   `sti; nop` or `sti; hlt`; the handler sets a flag and EOIs.
 * * self_ipi_tpr / self_ipi_tpr_sti_nop / self_ipi_tpr_sti_hlt — the same
 *   with TPR raised to 0Fh before the IPI and lowered to 0 after it. TPR is
 *   written through the xAPIC's TPR register, as 32-bit kvm-unit-tests does
 *   (in 64-bit mode it uses CR8, which a scripted guest does not have).
 * * tscdeadline — with the LAPIC timer in TSC-deadline mode on vector EFh,
 *   WRMSR IA32_TSC_DEADLINE = RDTSC + 3000, then spin until the handler
 *   (which counts and EOIs) has run.
 * * tscdeadline_immed — WRMSR IA32_TSC_DEADLINE = RDTSC (already due), then
 *   a `nop`, after which the interrupt is taken.
 *
 * * ipi — on_cpu(1, nop) from lib/x86/smp.c: a fixed IPI on IPI_VECTOR
 *   (20h) to CPU 1 through the ICR (destination in ICR high first), then spin
 *   until CPU 1's handler has run the function and set ipi_done; the handler
 *   then EOIs. CPU 1 idles as ap_online leaves it: interrupts on, `hlt` in a
 *   loop, so each IPI wakes it from a halt.
 * * ipi_halt — the same, then spin 2000 TSC cycles (RDTSC in a loop), long
 *   enough for CPU 1 to be back in `hlt` before the next IPI.
 *
 * Not here: the tests of instructions that are not I/O (cpuid, vmcall,
 * mov to/from CR8, rdmsr/wrmsr of TSC_ADJUST, wr_kernel_gs_base).
 *
 * Setup, as the tests' environment leaves the CPU: the local APIC software
 * enabled with spurious vector FFh (enable_apic), the self-IPI handler on
 * IPI_TEST_VECTOR (B0h); for the TSC-deadline tests, LVTT in TSC-deadline
 * mode on TSC_DEADLINE_TIMER_VECTOR (EFh) with its handler.
 */
import type { GuestProgram } from '@splitvisor/scripted-guest';
import { ScriptedGuest } from '@splitvisor/scripted-guest';
import type { WorkloadDefinition } from './workload.ts';
import { numberParameter, stringParameter } from './workload.ts';

/** The local APIC and its registers (SDM vol. 3A table 11-1). */
const APIC_BASE = 0xfee0_0000;
const APIC_TPR = 0x080;
const APIC_EOI = 0x0b0;
const APIC_SPIV = 0x0f0;
const APIC_ICR = 0x300;
const APIC_ICR2 = 0x310;
const APIC_LVTT = 0x320;
/** LVT timer mode 10b: TSC-deadline (SDM 3A 11.5.1). */
const APIC_LVT_TIMER_TSCDEADLINE = 0x4_0000;
/** IA32_TSC_DEADLINE (SDM 3A 11.5.4.1). */
const MSR_IA32_TSCDEADLINE = 0x6e0;
/** vmexit.c's wait before the deadline it arms. */
const TSC_DEADLINE_DELAY = 3000;
/** How many cycles one turn of the spin loop `while (x == 0) barrier();` takes here. */
const SPIN_CYCLES = 10;
/** ICR: level assert, destination shorthand self, fixed delivery (SDM §10.6.1). */
const APIC_INT_ASSERT = 0x4000;
const APIC_DEST_SELF = 0x4_0000;
/** lib/x86/smp.c's vector for on_cpu's IPIs. */
export const IPI_VECTOR = 0x20;
/** ipi_halt's spin after the IPI, in TSC cycles. */
const IPI_HALT_SPIN = 2000;

/** vmexit.c's vector for the self-IPI handler. */
export const IPI_TEST_VECTOR = 0xb0;
/** vmexit.c's vector for the TSC-deadline timer. */
export const TSC_DEADLINE_TIMER_VECTOR = 0xef;
/** PM_TMR on QEMU's pc machine (PIIX4 PMBASE 600h + 8). */
const PM_TIMER_PORT = 0x608;
/** A port nothing decodes (vmexit.c's inl_nop_qemu). */
const UNASSIGNED_PORT = 0x1234;
/** The PIIX edge/level control register, in KVM's in-kernel 8259 pair. */
const ELCR_PORT = 0x4d0;

export interface VmexitTest {
  readonly name: string;
  readonly description: string;
}

export const VMEXIT_TESTS: readonly VmexitTest[] = [
  { name: 'inl_from_pmtimer', description: 'inl of the ACPI PM timer (608h)' },
  { name: 'inl_from_qemu', description: 'inl of port 1234h, which nothing decodes' },
  { name: 'inl_from_kernel', description: 'inb of the ELCR (4D0h), which the in-kernel 8259 answers' },
  { name: 'outl_to_kernel', description: 'outb 0 to the ELCR (4D0h)' },
  { name: 'eoi', description: 'a write to the LAPIC EOI register with nothing in service' },
  { name: 'self_ipi_sti_nop', description: 'a self-IPI through the ICR with IF clear, then sti; nop' },
  { name: 'self_ipi_sti_hlt', description: 'a self-IPI through the ICR with IF clear, then sti; hlt' },
  { name: 'self_ipi_tpr', description: 'TPR to 0Fh, a self-IPI, TPR to 0' },
  { name: 'self_ipi_tpr_sti_nop', description: 'with IF clear: TPR to 0Fh, a self-IPI, TPR to 0, then sti; nop' },
  { name: 'self_ipi_tpr_sti_hlt', description: 'with IF clear: TPR to 0Fh, a self-IPI, TPR to 0, then sti; hlt' },
  { name: 'tscdeadline', description: 'WRMSR TSC_DEADLINE to TSC + 3000, spin until the timer interrupt' },
  { name: 'tscdeadline_immed', description: 'WRMSR TSC_DEADLINE to the TSC now (due at once), nop, the timer interrupt' },
  { name: 'ipi', description: 'on_cpu(1, nop): an IPI to the halted second vCPU, spin until its handler has run (2 vCPUs)' },
  { name: 'ipi_halt', description: 'ipi, then spin 2000 TSC cycles so the second vCPU is halted again (2 vCPUs)' },
];

/** The tests that need a second vCPU. */
export const SMP_VMEXIT_TESTS: readonly string[] = ['ipi', 'ipi_halt'];

/** What CPUs share in memory (lib/x86/smp.c's ipi_done). */
interface Shared {
  ipiDone: boolean;
}

const apic = (register: number): number => APIC_BASE + register;

/** One iteration of `test`, as vmexit.c's test function does it; `fired` counts the TSC-deadline handler's runs. */
function* iteration(test: string, fired: () => number, shared: Shared): GuestProgram {
  const selfIpi = function* selfIpi(): GuestProgram {
    yield { op: 'write', address: apic(APIC_ICR2), value: 0 };
    yield { op: 'write', address: apic(APIC_ICR), value: APIC_INT_ASSERT | APIC_DEST_SELF | IPI_TEST_VECTOR };
  };
  const tpr = (value: number) => ({ op: 'write', address: apic(APIC_TPR), value } as const);
  switch (test) {
    case 'inl_from_pmtimer': yield { op: 'in', port: PM_TIMER_PORT, size: 4 }; return;
    case 'inl_from_qemu': yield { op: 'in', port: UNASSIGNED_PORT, size: 4 }; return;
    case 'inl_from_kernel': yield { op: 'in', port: ELCR_PORT, size: 1 }; return;
    case 'outl_to_kernel': yield { op: 'out', port: ELCR_PORT, value: 0, size: 1 }; return;
    case 'eoi': yield { op: 'write', address: apic(APIC_EOI), value: 0 }; return;
    case 'self_ipi_sti_nop':
    case 'self_ipi_sti_hlt':
      yield { op: 'cli' };
      yield* selfIpi();
      yield { op: 'sti' };
      yield test.endsWith('hlt') ? { op: 'hlt' } : { op: 'compute', cycles: 0 };
      return;
    case 'self_ipi_tpr':
      yield tpr(0x0f);
      yield* selfIpi();
      yield tpr(0);
      return;
    case 'self_ipi_tpr_sti_nop':
    case 'self_ipi_tpr_sti_hlt':
      yield { op: 'cli' };
      yield tpr(0x0f);
      yield* selfIpi();
      yield tpr(0);
      yield { op: 'sti' };
      yield test.endsWith('hlt') ? { op: 'hlt' } : { op: 'compute', cycles: 0 };
      return;
    case 'tscdeadline': {
      const before = fired();
      const now = yield { op: 'rdtsc' };
      yield { op: 'wrmsr', index: MSR_IA32_TSCDEADLINE, value: now + TSC_DEADLINE_DELAY };
      while (fired() === before) yield { op: 'compute', cycles: SPIN_CYCLES };
      return;
    }
    case 'tscdeadline_immed': {
      const now = yield { op: 'rdtsc' };
      yield { op: 'wrmsr', index: MSR_IA32_TSCDEADLINE, value: now };
      yield { op: 'compute', cycles: 0 };
      return;
    }
    case 'ipi':
    case 'ipi_halt': {
      // __on_cpu: ipi_done = 0, apic_icr_write(ASSERT | PHYSICAL | FIXED | IPI_VECTOR, 1), spin on ipi_done.
      shared.ipiDone = false;
      yield { op: 'write', address: apic(APIC_ICR2), value: 1 << 24 };
      yield { op: 'write', address: apic(APIC_ICR), value: APIC_INT_ASSERT | IPI_VECTOR };
      while (!shared.ipiDone) yield { op: 'compute', cycles: SPIN_CYCLES };
      if (test === 'ipi_halt') {
        const start = yield { op: 'rdtsc' };
        for (let now = start; now < start + IPI_HALT_SPIN;) now = yield { op: 'rdtsc' };
      }
      return;
    }
  }
}

/** CPU 1 as lib/x86/smp.c leaves it: its APIC enabled, interrupts on, `hlt` forever; on_cpu's IPI runs the function, sets ipi_done and EOIs. */
function applicationProcessor(shared: Shared, handled: () => void): ScriptedGuest {
  return new ScriptedGuest((function* apOnline(): GuestProgram {
    yield { op: 'write', address: apic(APIC_SPIV), value: 0x1ff };
    yield { op: 'sti' };
    for (;;) yield { op: 'hlt' };
  })()).on(IPI_VECTOR, function* ipi(): GuestProgram {
    handled(); // function(data): nop
    shared.ipiDone = true;
    yield { op: 'write', address: apic(APIC_EOI), value: 0 };
  });
}

/** The guest for one test: setup, then `iterations` iterations, then it stops; `aps` are the other vCPUs it needs. */
export function vmexit(test: string, iterations: number): { guest: ScriptedGuest; aps: readonly ScriptedGuest[]; iterations: () => number; interrupts: () => number } {
  if (!VMEXIT_TESTS.some((t) => t.name === test)) throw new RangeError(`no vmexit test ${test} (there are ${VMEXIT_TESTS.map((t) => t.name).join(', ')})`);
  let done = 0;
  let interrupts = 0;
  let deadlines = 0;
  const shared: Shared = { ipiDone: false };
  const aps = SMP_VMEXIT_TESTS.includes(test) ? [applicationProcessor(shared, () => { interrupts++; })] : [];
  const guest = new ScriptedGuest((function* main(): GuestProgram {
    // enable_apic: SPIV = 1FFh (software enable, spurious vector FFh); interrupts on, as the test harness runs.
    yield { op: 'write', address: apic(APIC_SPIV), value: 0x1ff };
    if (test.startsWith('tscdeadline')) yield { op: 'write', address: apic(APIC_LVTT), value: APIC_LVT_TIMER_TSCDEADLINE | TSC_DEADLINE_TIMER_VECTOR };
    yield { op: 'sti' };
    for (; done < iterations; done++) yield* iteration(test, () => deadlines, shared);
  })()).on(IPI_TEST_VECTOR, function* selfIpiIsr(): GuestProgram {
    interrupts++;
    yield { op: 'write', address: apic(APIC_EOI), value: 0 };
  }).on(TSC_DEADLINE_TIMER_VECTOR, function* tscdeadlineIsr(): GuestProgram {
    deadlines++;
    interrupts++;
    yield { op: 'write', address: apic(APIC_EOI), value: 0 };
  });
  return { guest, aps, iterations: () => done, interrupts: () => interrupts };
}

export const VMEXIT: WorkloadDefinition = {
  name: 'vmexit',
  description: "kvm-unit-tests' x86/vmexit exit microbenchmarks: one test's operation repeated; compare reports modelled cycles per iteration",
  follows: 'kvm-unit-tests x86/vmexit.c (inl_pmtimer, inl_nop_qemu, inl_nop_kernel, outl_elcr_kernel, eoi, self_ipi_*, tscdeadline, tscdeadline_immed, ipi, ipi_halt); lib/x86/smp.c (__on_cpu, ipi, ap_online)',
  parameters: [
    { name: 'test', description: 'which microbenchmark', default: 'inl_from_kernel', choices: VMEXIT_TESTS.map((t) => t.name) },
    { name: 'iterations', description: 'iterations before the guest stops', default: 1024, min: 0 },
  ],
  create: (p) => {
    const run = vmexit(stringParameter(p, 'test'), numberParameter(p, 'iterations'));
    return { guest: run.guest, aps: run.aps, progress: () => ({ iterations: run.iterations(), interrupts: run.interrupts() }) };
  },
};
