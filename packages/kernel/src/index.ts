export type { KernelDomainOptions } from './kernel-domain.ts';
export { KernelDomain } from './kernel-domain.ts';
