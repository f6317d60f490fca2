export type { KernelDevice, KernelOutcome } from './kernel-domain.ts';
export { KernelDomain } from './kernel-domain.ts';
