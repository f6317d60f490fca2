// Where a placement puts the interrupt controllers, as one of KVM's irqchip topologies — plain logic, apart
// from the schema (and its validator), so that a VMM built for one placement can ask it without carrying one.
import type { Placement } from './schema.ts';

/** How the interrupt controllers are placed, in KVM's terms. */
export function irqchipMode(placement: Placement): 'in-kernel' | 'split' | 'userspace' | 'monitor' | 'mixed' {
  const { pic, ioapic, lapic } = placement.devices;
  if (pic === 'kernel' && ioapic === 'kernel' && lapic === 'kernel') return 'in-kernel';
  if (lapic === 'kernel' && pic === 'user' && ioapic === 'user') return 'split';
  if (pic === 'user' && ioapic === 'user' && lapic === 'user') return 'userspace';
  if (pic === 'monitor' && ioapic === 'monitor' && lapic === 'monitor') return 'monitor';
  return 'mixed';
}
