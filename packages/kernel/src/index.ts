export { KernelDomain } from './kernel-domain.ts';
