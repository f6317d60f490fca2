// vitest compares typed arrays element by element through its generic equality: 1.5 s for 256 KiB of video memory.
// Byte arrays are compared as bytes instead (an equality tester, so every toEqual in the worker uses it, including
// the shared suites'); the verdict is the same.
import { Buffer } from 'node:buffer';
import { expect } from 'vitest';

expect.addEqualityTesters([
  function sameBytes(a: unknown, b: unknown): boolean | undefined {
    if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array)) return undefined;
    return a.length === b.length && Buffer.compare(a, b) === 0;
  },
]);
