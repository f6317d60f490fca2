/**
 * Interrupt messages as message-signalled interrupts: the 32-bit address
 * and data a device (or, under KVM's split irqchip, a userspace I/O APIC
 * through KVM_SIGNAL_MSI) writes to reach the local APICs. Intel SDM vol. 3A
 * §11.11.1 (address: FEEh in 31:20, destination ID in 19:12, redirection
 * hint bit 3, destination mode bit 2) and §11.11.2 (data: vector 7:0,
 * delivery mode 10:8, level bit 14, trigger mode bit 15).
 */
import type { InterruptMessage } from './interrupt-message.ts';

export interface Msi {
  readonly address: number;
  readonly data: number;
}

export const MSI_ADDRESS_BASE = 0xfee0_0000;
const DESTINATION_SHIFT = 12;
const DESTINATION_MODE_LOGICAL = 1 << 2;
const DELIVERY_SHIFT = 8;
const LEVEL_ASSERT = 1 << 14;
const TRIGGER_LEVEL = 1 << 15;

/** The MSI an interrupt message becomes (a message with a shorthand has no MSI form: only ICR writes carry one). */
export function toMsi(message: InterruptMessage): Msi {
  const address = (MSI_ADDRESS_BASE | ((message.destination & 0xff) << DESTINATION_SHIFT) | (message.logical ? DESTINATION_MODE_LOGICAL : 0)) >>> 0;
  const data = (message.vector & 0xff) | ((message.deliveryMode & 7) << DELIVERY_SHIFT)
    | (message.level ? LEVEL_ASSERT : 0) | (message.levelTriggered ? TRIGGER_LEVEL : 0);
  return { address, data };
}

/** The interrupt message an MSI carries; undefined when the address is not in the FEEx_xxxxh window. */
export function fromMsi(msi: Msi): InterruptMessage | undefined {
  if ((msi.address & 0xfff0_0000) >>> 0 !== MSI_ADDRESS_BASE) return undefined;
  return {
    vector: msi.data & 0xff,
    deliveryMode: (msi.data >>> DELIVERY_SHIFT) & 7,
    logical: (msi.address & DESTINATION_MODE_LOGICAL) !== 0,
    destination: (msi.address >>> DESTINATION_SHIFT) & 0xff,
    level: (msi.data & LEVEL_ASSERT) !== 0,
    levelTriggered: (msi.data & TRIGGER_LEVEL) !== 0,
    shorthand: 'none',
  };
}
