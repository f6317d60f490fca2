/**
 * A 256-bit register of the local APIC (IRR, ISR, TMR) as eight 32-bit words,
 * word n holding vectors 32n..32n+31 — the layout the registers are read in.
 */
export type VectorSet = number[];

export function emptyVectorSet(): VectorSet {
  return [0, 0, 0, 0, 0, 0, 0, 0];
}

export function hasVector(set: VectorSet, vector: number): boolean {
  return ((set[vector >> 5] ?? 0) & (1 << (vector & 31))) !== 0;
}

export function addVector(set: VectorSet, vector: number): void {
  set[vector >> 5] = ((set[vector >> 5] ?? 0) | (1 << (vector & 31))) >>> 0;
}

export function removeVector(set: VectorSet, vector: number): void {
  set[vector >> 5] = ((set[vector >> 5] ?? 0) & ~(1 << (vector & 31))) >>> 0;
}

/** The highest vector in the set, or -1. */
export function highestVector(set: VectorSet): number {
  for (let word = 7; word >= 0; word--) {
    const bits = set[word] ?? 0;
    if (bits !== 0) return word * 32 + 31 - Math.clz32(bits);
  }
  return -1;
}
