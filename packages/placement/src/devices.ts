/**
 * The devices a placement places, and the rules of where they may go.
 * Names are the board's (one per chip or function, as the ARCHITECTURE page lists them).
 */
export const DEVICES = [
  'pic', 'ioapic', 'lapic', 'pit', 'pm-timer', 'hpet', 'rtc', 'keyboard', 'vga', 'floppy', 'dma', 'disk', 'serial',
  // What firmware on QEMU's pc machine talks to: SeaBIOS's debug log (isa-debugcon), System Control Port A, fw_cfg.
  'debugcon', 'port92', 'fw-cfg',
  // The PCI bus as the CPU reaches it (configuration mechanism #1 at CF8h/CFCh): the i440FX, PIIX3 and PIIX4 functions.
  'pci',
  // LPT1, the parallel printer adapter QEMU's pc machine has by default (378h, irq 7), with no printer attached.
  'parallel',
  // The PIIX's secondary IDE channel (170h, irq 15) with the empty ATAPI CD-ROM QEMU's pc machine has there by default.
  'cdrom',
] as const;
export type DeviceName = (typeof DEVICES)[number];

export const DOMAINS = ['kernel', 'monitor', 'user'] as const;
export type DomainName = (typeof DOMAINS)[number];

export interface PlacementRule {
  /** Devices that must share a domain (when present), and why. */
  readonly together: readonly DeviceName[];
  readonly why: string;
  /** Present or absent together, too. */
  readonly required?: boolean;
}

/**
 * Constraints a real VMM has, not preferences: the ones KVM's API enforces,
 * and wiring that cannot cross a boundary.
 */
export const RULES: readonly PlacementRule[] = [
  { together: ['pic', 'ioapic'], required: true, why: 'the 8259 and the I/O APIC share ISA irq lines and the ExtINT path (KVM creates both with KVM_CREATE_IRQCHIP, or neither)' },
  { together: ['floppy', 'dma'], why: 'the floppy controller moves its data through 8237 channel 2 on every transfer' },
];

/** An in-kernel PIT needs an in-kernel irqchip: KVM_CREATE_PIT2 fails without KVM_CREATE_IRQCHIP. */
export const KERNEL_PIT_NEEDS_KERNEL_IRQCHIP = 'the PIT can be in the kernel only with the PIC and I/O APIC there too (KVM_CREATE_PIT2 requires KVM_CREATE_IRQCHIP)';

/**
 * The devices with a periodic timer, and the lost-tick policies each can be
 * given (the first is its default, the hardware's): `delay` and `merge` pace
 * ticks by the irqchip's ack notifier (KVM's in-kernel PIT reinjection; Xen's
 * vpt modes), `slew` re-injects owed RTC ticks faster until caught up
 * (QEMU's `-rtc driftfix=slew`).
 */
export const LOST_TICK_POLICIES = {
  pit: ['discard', 'delay', 'merge'],
  rtc: ['discard', 'slew'],
  hpet: ['discard', 'delay', 'merge'],
  lapic: ['discard', 'delay', 'merge'],
} as const;
export type TimerDevice = keyof typeof LOST_TICK_POLICIES;
export type LostTickPolicies = { readonly [D in TimerDevice]: (typeof LOST_TICK_POLICIES)[D][number] };
export const TIMER_DEVICES = Object.keys(LOST_TICK_POLICIES) as readonly TimerDevice[];

/** Policies that wait for the irqchip's ack notifier, which a device has only in the irqchip's domain. */
export const ACK_PACED: readonly string[] = ['delay', 'merge'];
