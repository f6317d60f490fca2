import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KVM_2020 } from '@splitvisor/metrics';
import { vmexitProfile } from '../src/vmexit-table.ts';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const cwd = fileURLToPath(new URL('..', import.meta.url));
const splitvisor = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { cwd, encoding: 'utf8' });

const EXIT = KVM_2020.boundaries.exit.cycles;
const HEAVY = KVM_2020.boundaries['heavyweight-exit'].cycles;
const options = { workload: 'vmexit', parameters: {}, durationNs: 10e6 };

describe('vmexit', () => {
  it("charges kvm-unit-tests' port tests one exit each, and a round trip to userspace where the port is not the kernel's", async () => {
    const tests = ['inl_from_kernel', 'inl_from_qemu', 'inl_from_pmtimer', 'outl_to_kernel', 'eoi'];
    const kvm = await vmexitProfile('kvm-irqchip', options, tests, 64);
    const split = await vmexitProfile('kvm-split', options, tests, 64);
    const cycles = (p: typeof kvm) => Object.fromEntries(p.results.map((r) => [r.test, r.cyclesPerIteration]));
    // One guest cycle for the instruction, plus its crossings.
    expect(cycles(kvm)).toEqual({
      inl_from_kernel: 1 + EXIT, inl_from_qemu: 1 + EXIT + HEAVY, inl_from_pmtimer: 1 + EXIT + HEAVY, outl_to_kernel: 1 + EXIT, eoi: 1 + EXIT,
    });
    // With a split irqchip the ELCR belongs to the userspace 8259s: inl_from_kernel costs what inl_from_qemu does.
    // (Plus, once per run, the irq window the userspace 8259s ask for at the first heavyweight exit.)
    expect(split.results.find((r) => r.test === 'inl_from_kernel')?.heavyweightExitsPerIteration).toBeCloseTo(1, 1);
    expect(split.results.find((r) => r.test === 'eoi')?.cyclesPerIteration).toBe(1 + EXIT);
  });

  it('takes one self-IPI per iteration, and a hlt costs its own exit', async () => {
    const kvm = await vmexitProfile('kvm-irqchip', options, ['self_ipi_sti_nop', 'self_ipi_sti_hlt'], 32);
    const [nop, hlt] = kvm.results;
    expect(nop?.exitsPerIteration).toBe(3); // ICR high, ICR low, the handler's EOI
    expect(hlt?.exitsPerIteration).toBe(4); // and the hlt, taken with the IPI already pending
    expect((hlt?.cyclesPerIteration ?? 0) - (nop?.cyclesPerIteration ?? 0)).toBe(EXIT);
    // From a userspace irqchip the hlt in the STI shadow still exits (KVM_EXIT_HLT, and QEMU injects before the
    // next KVM_RUN): four round trips to userspace, where `sti; nop` takes an irq window instead of the hlt.
    const tcg = await vmexitProfile('kvm-userspace-irqchip', options, ['self_ipi_sti_nop', 'self_ipi_sti_hlt'], 32);
    const [tcgNop, tcgHlt] = tcg.results;
    expect(tcgHlt?.exitsPerIteration).toBe(4);
    expect(tcgHlt?.heavyweightExitsPerIteration).toBeCloseTo(4, 0); // and, once per run, an irq window at the setup's sti
    expect(tcgHlt?.cyclesPerIteration).toBeGreaterThanOrEqual(4 * (EXIT + HEAVY));
    expect(tcgNop?.exitsPerIteration).toBe(3);
    expect(tcgNop?.heavyweightExitsPerIteration).toBeCloseTo(4, 0);
    expect(tcgHlt?.cyclesPerIteration).toBeGreaterThan(tcgNop?.cyclesPerIteration ?? 0);
  });

  it('sends on_cpu IPIs to a second vCPU, wherever the local APICs are', async () => {
    const kvm = await vmexitProfile('kvm-irqchip', options, ['ipi', 'ipi_halt'], 32);
    const [ipi, halt] = kvm.results;
    // CPU 0's ICR high and low; CPU 1's EOI and its return to hlt.
    expect(ipi).toMatchObject({ exitsPerIteration: 4, heavyweightExitsPerIteration: 0 });
    // CPU 0 waits out its two ICR exits; CPU 1 handles the IPI meanwhile, so its exits add no wait.
    expect(ipi?.cyclesPerIteration).toBeGreaterThanOrEqual(2 * EXIT);
    expect(ipi?.cyclesPerIteration).toBeLessThan(2 * EXIT + 100);
    expect((halt?.cyclesPerIteration ?? 0) - (ipi?.cyclesPerIteration ?? 0)).toBeGreaterThanOrEqual(2000);
    // From a userspace irqchip the ICR writes and the EOI go to the device host; the hlt too (KVM_EXIT_HLT).
    const tcg = await vmexitProfile('kvm-userspace-irqchip', options, ['ipi'], 32);
    expect(tcg.results[0]).toMatchObject({ exitsPerIteration: 4, heavyweightExitsPerIteration: 4 });
    expect(tcg.results[0]?.cyclesPerIteration).toBeGreaterThanOrEqual(2 * (EXIT + HEAVY));
  });

  it("prints one 'name cycles' line per test and profile, as x86/vmexit does, and the same JSON for the same arguments", () => {
    const args = ['compare', '--workload', 'vmexit', '--profiles', 'kvm-irqchip,qemu-tcg', '--param', 'iterations=16', '--duration', '1ms'];
    const text = splitvisor(...args);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^kvm-irqchip \(in-kernel irqchip, cost model kvm-2020\):\ninl_from_pmtimer \d+\ninl_from_qemu \d+\n/m);
    expect(text.stdout).toMatch(/^self_ipi_tpr_sti_hlt \d+$/m);
    expect(text.stdout).toMatch(/^ipi \d+$/m);
    expect(text.stdout.match(/^ipi_halt \d+$/gm)).toHaveLength(2);
    const first = splitvisor(...args, '--json');
    expect(first.stdout).toBe(splitvisor(...args, '--json').stdout);
    expect(JSON.parse(first.stdout)).toMatchObject({ iterations: 16, vmexit: [{ profile: 'kvm-irqchip' }, { profile: 'qemu-tcg', costModel: 'tcg' }] });
    const bad = splitvisor('compare', '--workload', 'vmexit', '--param', 'test=cpuid');
    expect([bad.status, bad.stderr.trim()]).toEqual([1, expect.stringMatching(/^splitvisor: workload vmexit: parameter test takes one of inl_from_pmtimer, /) as unknown]);
  }, 60_000);
});
