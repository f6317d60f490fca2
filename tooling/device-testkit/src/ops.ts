/**
 * Register operations as data, so fast-check can generate, shrink and print
 * them, and every suite applies them the same way.
 */
import type { AccessSize, Device, IoRegion } from '@splitvisor/abi';
import fc from 'fast-check';
import type { TestContext } from './test-context.ts';

export type Op =
  | { readonly kind: 'write'; readonly region: string; readonly offset: number; readonly size: AccessSize; readonly value: number }
  | { readonly kind: 'read'; readonly region: string; readonly offset: number; readonly size: AccessSize }
  | { readonly kind: 'advance'; readonly ns: number };

/** Applies `op`; returns the value read, or undefined. */
export function apply(device: Device, context: TestContext, op: Op): number | undefined {
  switch (op.kind) {
    case 'write':
      device.write(op.region, op.offset, op.size, op.value);
      return undefined;
    case 'read':
      return device.read(op.region, op.offset, op.size);
    case 'advance':
      context.advance(op.ns);
      return undefined;
  }
}

/** Small, medium and long steps of virtual time: a few clocks, a few periods, whole seconds. */
export const advance: fc.Arbitrary<Op> = fc
  .oneof(fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 0, max: 5_000_000 }), fc.integer({ min: 0, max: 2_000_000_000 }))
  .map((ns) => ({ kind: 'advance' as const, ns }));

/** Any read or write the guest could issue to `regions` (every offset, every accepted width, any value). */
export function registerOps(regions: readonly IoRegion[], values: fc.Arbitrary<number> = fc.nat({ max: 0xffff_ffff })): fc.Arbitrary<Op> {
  const access = fc.constantFrom(...regions).chain((region) => fc.record({
    region: fc.constant(region.name),
    offset: fc.integer({ min: 0, max: region.length - 1 }),
    size: fc.constantFrom(...region.sizes),
  }));
  return fc.oneof(
    fc.tuple(access, values).map(([a, value]) => ({ kind: 'write' as const, ...a, value: a.size === 4 ? value >>> 0 : value & ((1 << (8 * a.size)) - 1) })),
    access.map((a) => ({ kind: 'read' as const, ...a })),
  );
}

/** A port or MMIO helper in a driver's words: `pit.out(3, 0x34)`, `pit.in(0)`. */
export function regionIo(device: Device, region: string) {
  return {
    out(offset: number, value: number, size: AccessSize = 1): void {
      device.write(region, offset, size, value);
    },
    in(offset: number, size: AccessSize = 1): number {
      return device.read(region, offset, size);
    },
  };
}
