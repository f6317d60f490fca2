/** The CPU the vector runner drives, behind SingleStepSubject: X86Cpu, the CPU the vectors hold to account. */
import { X86Cpu } from '../../src/index.ts';
import type { SubjectFactory } from './run-vector.ts';

export const x86Subject: SubjectFactory = (memory, start) => {
  const cpu = new X86Cpu(memory, { cs: start.cs, ip: start.ip, ss: start.ss, sp: start.sp, ds: start.ds, es: start.es, a20: true });
  return {
    regs: cpu.regs,
    get ip() { return cpu.eip; },
    set ip(value: number) { cpu.eip = value; },
    get flags() { return cpu.eflags; },
    set flags(value: number) { cpu.eflags = value; },
    selector: (segment) => cpu.selector(segment),
    run: (budget) => cpu.run(budget),
    complete: (data) => { cpu.complete(data); },
    get fault() { return cpu.fault; },
  };
};
