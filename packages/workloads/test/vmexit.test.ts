import { describe, expect, it } from 'vitest';
import type { GuestExit } from '@splitvisor/abi';
import { IPI_TEST_VECTOR, VMEXIT_TESTS, createWorkload, vmexit } from '../src/index.ts';

/** The accesses of a run until the guest halts or stops, as `kind address=value` strings. */
function accesses(guest: ReturnType<typeof vmexit>['guest'], limit = 100): string[] {
  const seen: string[] = [];
  for (let i = 0; i < limit; i++) {
    const { exit } = guest.run(Number.POSITIVE_INFINITY);
    if (exit.kind === 'shutdown' || exit.kind === 'hlt') break;
    seen.push(describe_(exit));
    if ((exit.kind === 'io' && exit.direction === 'in') || (exit.kind === 'mmio' && !exit.isWrite)) guest.complete(new Uint8Array(4));
  }
  return seen;
}

function describe_(exit: GuestExit): string {
  if (exit.kind === 'io') return `${exit.direction} ${exit.port.toString(16)}/${exit.size}`;
  if (exit.kind === 'mmio') return `${exit.isWrite ? 'write' : 'read'} ${exit.address.toString(16)}${exit.isWrite ? `=${exit.data.reduceRight((v, b) => v * 256 + b, 0).toString(16)}` : ''}`;
  return exit.kind;
}

describe('vmexit', () => {
  it('enables the APIC, then repeats one operation the given number of times and stops', () => {
    expect(accesses(vmexit('inl_from_kernel', 3).guest)).toEqual(['write fee000f0=1ff', 'in 4d0/1', 'in 4d0/1', 'in 4d0/1']);
    expect(accesses(vmexit('inl_from_qemu', 1).guest).at(-1)).toBe('in 1234/4');
    expect(accesses(vmexit('inl_from_pmtimer', 1).guest).at(-1)).toBe('in 608/4');
    expect(accesses(vmexit('outl_to_kernel', 1).guest).at(-1)).toBe('out 4d0/1');
    expect(accesses(vmexit('eoi', 1).guest).at(-1)).toBe('write fee000b0=0');
  });

  it('sends the self-IPI through ICR high then low, with TPR around it, and its handler EOIs', () => {
    const run = vmexit('self_ipi_tpr_sti_nop', 1);
    expect(accesses(run.guest, 5)).toEqual(['write fee000f0=1ff', 'write fee00080=f', 'write fee00310=0', 'write fee00300=440b0', 'write fee00080=0']);
    expect(run.guest.run(2).exit.kind).toBe('budget'); // cli; sti: the IPI can be taken after the nop
    run.guest.inject(IPI_TEST_VECTOR);
    expect(accesses(run.guest)).toEqual(['write fee000b0=0']);
    expect([run.interrupts(), run.iterations()]).toEqual([1, 1]);
  });

  it('lists every test as a choice of its parameter, and refuses one it does not have', () => {
    expect(VMEXIT_TESTS.map((t) => t.name)).toContain('self_ipi_sti_hlt');
    expect(() => createWorkload('vmexit', { test: 'cpuid' })).toThrow(/parameter test takes one of inl_from_pmtimer/);
    expect(createWorkload('vmexit', { test: 'eoi', iterations: '2' }).progress()).toEqual({ iterations: 0, interrupts: 0 });
  });
});
