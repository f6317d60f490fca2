/**
 * What `splitvisor fuzz` does to a device, drawn from a seeded generator:
 * what a guest controls of it — reads and writes of every region at every
 * width it accepts, at any offset a bus would hand it (the access inside
 * the region, aligned or not), values biased towards what trips a decoder
 * (0, 0xff, all ones, one bit set, small numbers) — and virtual time
 * passing, so its timers fire. QEMU's fuzz_registers and the device
 * packages' register fuzz suites (tooling/device-testkit) do the same; this
 * one knows no device's registers, so it drives any.
 */
import type { LoneDevice } from '@splitvisor/vmm';
import { Xoshiro128 } from './xoshiro128.ts';

type Region = LoneDevice['device']['regions'][number];
export type Width = Region['sizes'][number];

export type FuzzOp =
  | { readonly kind: 'read'; readonly region: string; readonly offset: number; readonly size: Width }
  | { readonly kind: 'write'; readonly region: string; readonly offset: number; readonly size: Width; readonly value: number }
  | { readonly kind: 'advance'; readonly ns: number };

/** The largest value of each width. */
export const WIDTH_MAX: Readonly<Record<Width, number>> = { 1: 0xff, 2: 0xffff, 4: 0xffff_ffff };

/**
 * Register files sit at the start of a window (the local APIC's and HPET's
 * in their first KiB, the I/O APIC's in its first 32 bytes): half the
 * accesses land there, aligned to their width, the rest anywhere.
 */
const REGISTER_SPAN = 0x400;

/** One region's accesses, worked out once. */
interface Target {
  readonly region: string;
  readonly length: number;
  readonly widths: readonly Width[];
}

export class FuzzOps {
  private readonly random: Xoshiro128;
  private readonly targets: readonly Target[];

  /** Operations on `regions` from stream `stream` of `seed`. */
  constructor(regions: readonly Region[], seed: number, stream: string) {
    this.random = new Xoshiro128(seed, stream);
    this.targets = regions
      .map((r) => ({ region: r.name, length: r.length, widths: r.sizes.filter((size) => size <= r.length) }))
      .filter((t) => t.widths.length > 0);
  }

  next(): FuzzOp {
    const random = this.random;
    const roll = random.below(100);
    if (roll >= 85 || this.targets.length === 0) return { kind: 'advance', ns: this.advance() };
    const target = random.pick(this.targets);
    const size = random.pick(target.widths);
    const offset = random.below(2) === 0
      ? random.below(Math.floor((Math.min(target.length, REGISTER_SPAN) - size) / size) + 1) * size
      : random.below(target.length - size + 1);
    if (roll < 40) return { kind: 'read', region: target.region, offset, size };
    return { kind: 'write', region: target.region, offset, size, value: this.value(size) };
  }

  /** 0, 0xff, all ones, a small number, one bit, or anything, of `size` bytes. */
  private value(size: Width): number {
    const random = this.random;
    const roll = random.below(16);
    if (roll < 3) return 0;
    if (roll < 5) return 0xff;
    if (roll < 7) return WIDTH_MAX[size];
    if (roll < 10) return 1 + random.below(15);
    if (roll < 12) return 2 ** random.below(8 * size);
    return random.nextUint32() % (WIDTH_MAX[size] + 1);
  }

  /** A few clocks, up to a millisecond, up to 100 ms, now and then up to two seconds (an RTC update cycle, an HPET period). */
  private advance(): number {
    const random = this.random;
    const roll = random.below(32);
    if (roll < 16) return random.below(5_000);
    if (roll < 28) return random.below(1_000_000);
    if (roll < 31) return random.below(100_000_000);
    return random.below(2_000_000_000);
  }
}

const hex = (n: number) => `0x${n.toString(16)}`;

/** `write registers+0x10 (4 bytes) 0xffffffff`, `read data+0 (1 byte)`, `advance 1200 ns`. */
export function describeOp(op: FuzzOp): string {
  if (op.kind === 'advance') return `advance ${op.ns} ns`;
  const access = `${op.kind} ${op.region}+${hex(op.offset)} (${op.size} byte${op.size === 1 ? '' : 's'})`;
  return op.kind === 'write' ? `${access} ${hex(op.value)}` : access;
}
