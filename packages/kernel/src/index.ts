export type { KernelAnswer } from './kernel-domain.ts';
export { KernelDomain } from './kernel-domain.ts';
