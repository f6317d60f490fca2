export type { HostWindow, KernelDomainOptions, KernelHoldings } from './kernel-domain.ts';
export { KernelDomain } from './kernel-domain.ts';
export type { IrqchipInputs } from './request-checks.ts';
export { KVM_IRQCHIP_INPUTS } from './request-checks.ts';
export { ioctlBytes } from './ioctl-bytes.ts';
