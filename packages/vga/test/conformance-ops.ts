// Register and memory operations as drivers issue them, for the fuzz and round-trip suites: index/data pairs, word
// writes to index ports, attribute and DAC sequences, input status reads, memory stores and loads, VBE mode sets.
import type { AccessSize } from '@splitvisor/abi';
import type { Op } from '@splitvisor/device-testkit';
import { inertContext, registerOps } from '@splitvisor/device-testkit';
import fc from 'fast-check';
import { Vga } from '../src/index.ts';

const port = (p: number) => p - 0x3b0;
const out = (p: number, value: number, size: AccessSize = 1): Op => ({ kind: 'write', region: 'ports', offset: port(p), size, value });
const inp = (p: number, size: AccessSize = 1): Op => ({ kind: 'read', region: 'ports', offset: port(p), size });

const byte = fc.oneof(
  { weight: 3, arbitrary: fc.nat({ max: 0xff }) },
  { weight: 1, arbitrary: fc.constantFrom(0x00, 0x0f, 0xff, 0x10, 0x40, 0x05, 0x0e, 0x02, 0x08, 0x63, 0x67, 0x66, 0xe3) },
);

/** An index/data register access: byte pairs, word writes, reads. */
const indexed = fc.tuple(fc.constantFrom(0x3c4, 0x3ce, 0x3d4, 0x3b4), fc.nat({ max: 0x1f }), byte, fc.nat({ max: 3 })).map(([p, index, value, how]): Op => {
  switch (how) {
    case 0: return out(p, value << 8 | index, 2);
    case 1: return out(p, index);
    case 2: return out(p + 1, value);
    default: return inp(p + 1);
  }
});

const attribute = fc.oneof(
  byte.map((value) => out(0x3c0, value)),
  fc.constant(inp(0x3c1)),
  fc.constant(inp(0x3c0)),
);

const status = fc.constantFrom(inp(0x3da), inp(0x3ba), out(0x3da, 0x08));

const dac = fc.oneof(
  byte.map((value) => out(0x3c8, value)),
  byte.map((value) => out(0x3c7, value)),
  byte.map((value) => out(0x3c9, value)),
  fc.constant(inp(0x3c9)),
  byte.map((value) => out(0x3c6, value)),
);

const misc = fc.constantFrom(out(0x3c2, 0x67), out(0x3c2, 0x63), out(0x3c2, 0x66), out(0x3c2, 0xe3), out(0x3c2, 0x01), inp(0x3cc));

const size = fc.constantFrom<AccessSize>(1, 1, 1, 2, 4);
/** Window offsets, most in the text page at B8000h and the first 64 KiB; any offset now and then. */
const windowOffset = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0x1_8000, max: 0x1_8fff }) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 0x3fff }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0x1_fffc }) },
);
const memory = fc.oneof(
  fc.tuple(windowOffset, size, fc.nat({ max: 0xffff_ffff })).map(([offset, s, value]): Op => ({
    kind: 'write', region: 'window', offset, size: s, value: s === 4 ? value >>> 0 : value & ((1 << (8 * s)) - 1),
  })),
  fc.tuple(windowOffset, size).map(([offset, s]): Op => ({ kind: 'read', region: 'window', offset, size: s })),
);

/** VBE: select a register, write a plausible value (a geometry, a depth, an enable with its flags, a bank). */
const vbe = fc.oneof(
  fc.nat({ max: 0x0b }).map((index): Op => ({ kind: 'write', region: 'vbe', offset: 0, size: 2, value: index })),
  fc.oneof(fc.constantFrom(0, 1, 4, 8, 15, 16, 24, 32, 0x41, 0xc1, 0xb0c5, 320, 640, 200, 480), fc.nat({ max: 0xffff }))
    .map((value): Op => ({ kind: 'write', region: 'vbe', offset: 1, size: 2, value })),
  fc.constant<Op>({ kind: 'read', region: 'vbe', offset: 1, size: 2 }),
);

/** Time within a frame, a few frames, or seconds. */
const advance = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 40_000 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 50_000_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 3_000_000_000 }) },
).map((ns): Op => ({ kind: 'advance', ns }));

export const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: indexed },
  { weight: 3, arbitrary: attribute },
  { weight: 2, arbitrary: status },
  { weight: 2, arbitrary: dac },
  { weight: 1, arbitrary: misc },
  { weight: 6, arbitrary: memory },
  { weight: 1, arbitrary: vbe },
  { weight: 2, arbitrary: registerOps(new Vga(inertContext()).regions, fc.nat({ max: 0xffff })) },
  { weight: 2, arbitrary: advance },
);
