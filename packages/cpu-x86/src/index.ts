export type { RealModeCpuOptions, RealModeFault } from './real-mode-cpu.ts';
export { RealModeCpu } from './real-mode-cpu.ts';
export type { AluOp, Cc, Reg, Reg8, Reg16, Reg32, Sreg } from './asm.ts';
export { Asm } from './asm.ts';
