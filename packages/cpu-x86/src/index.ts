export type { X86CpuOptions, X86Fault } from './x86-cpu.ts';
export { X86Cpu } from './x86-cpu.ts';
export type { Cpi } from './cpi.ts';
export { DEFAULT_CPI, UNIT_CPI } from './cpi.ts';
export type { AluOp, Cc, Reg, Reg8, Reg16, Reg32, Sreg } from './asm.ts';
export { Asm } from './asm.ts';
