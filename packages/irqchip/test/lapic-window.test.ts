// Several CPUs, one APIC page: each CPU's accesses at FEE0_0000h reach its own local APIC, and an IPI written
// through one CPU's window arrives at the other's.
import { withIrqOutputs } from '@splitvisor/abi';
import { createTestContext } from '@splitvisor/device-testkit';
import { describe, expect, it } from 'vitest';
import { LapicReg, LocalApicWindow, PcInterrupts } from '../src/index.ts';

function twoCpus() {
  const lines = [false, false];
  const chips = new PcInterrupts(withIrqOutputs(createTestContext(), (cpu, level) => { lines[cpu] = level; }), { cpus: 2 });
  const window = new LocalApicWindow(chips.lapics);
  for (const cpu of [0, 1]) {
    window.select(cpu);
    window.write('registers', LapicReg.SVR, 4, 0x1ff); // software-enable each APIC, as each CPU's kernel does
  }
  return { chips, window, lines };
}

describe('local APIC window', () => {
  it('answers each CPU with its own APIC', () => {
    const { window } = twoCpus();
    window.select(0);
    expect(window.read('registers', LapicReg.ID, 4) >>> 24).toBe(0);
    window.select(1);
    expect(window.read('registers', LapicReg.ID, 4) >>> 24).toBe(1);
    window.write('registers', LapicReg.TPR, 4, 0x20);
    window.select(0);
    expect(window.read('registers', LapicReg.TPR, 4)).toBe(0);
    expect(window.current).toBe(0);
  });

  it("carries a fixed IPI written to CPU 0's ICR to CPU 1, whose EOI clears it", () => {
    const { chips, window, lines } = twoCpus();
    window.select(0);
    window.write('registers', LapicReg.ICR_HIGH, 4, 1 << 24); // destination APIC ID 1
    window.write('registers', LapicReg.ICR_LOW, 4, 0x4000 | 0x20); // assert, physical, fixed, vector 20h
    expect(lines).toEqual([false, true]);
    expect(chips.acknowledge(1)).toBe(0x20);
    window.select(1);
    window.write('registers', LapicReg.EOI, 4, 0);
    expect(chips.lapics[1]?.read('registers', LapicReg.ISR + 0x10, 4)).toBe(0); // ISR bits 32–63
  });

  it('refuses a CPU the machine does not have', () => {
    const { window } = twoCpus();
    expect(() => { window.select(2); }).toThrow(/no local APIC for CPU 2/);
  });
});
