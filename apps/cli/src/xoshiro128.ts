/**
 * xoshiro128** 1.1 (Blackman and Vigna, "Scrambled linear pseudorandom number
 * generators", 2018; public domain): 32-bit outputs from 128 bits of state,
 * period 2^128 − 1, seeded through SplitMix64 as its authors recommend. The
 * fuzzer's one source of randomness: the same seed and stream name give the
 * same numbers on every machine, and one stream per device keeps a device's
 * run independent of which others run beside it.
 */

const MASK64 = (1n << 64n) - 1n;

/** SplitMix64 (Steele, Lea and Flood 2014), the seeding generator: each call steps `state` and returns 64 mixed bits. */
function splitMix64(state: { value: bigint }): bigint {
  state.value = (state.value + 0x9e37_79b9_7f4a_7c15n) & MASK64;
  let z = state.value;
  z = ((z ^ (z >> 30n)) * 0xbf58_476d_1ce4_e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d0_49bb_1331_11ebn) & MASK64;
  return z ^ (z >> 31n);
}

/** FNV-1a over the UTF-16 code units of `text`: a stream name as 32 bits. */
function fnv1a(text: string): number {
  let hash = 0x811c_9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x0100_0193);
  return hash >>> 0;
}

const rotl = (x: number, k: number) => (x << k) | (x >>> (32 - k));

export class Xoshiro128 {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** The stream `stream` of seed `seed` (a whole number, 0 to 2^53 − 1). */
  constructor(seed: number, stream = '') {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`a seed is a whole number from 0 to 2^53 − 1, not ${seed}`);
    // Two SplitMix64 sequences, the seed's and the stream name's, combined: a stream is as far from another as from a seed.
    const seeded = { value: BigInt(seed) };
    const named = { value: BigInt(fnv1a(stream)) };
    const first = splitMix64(seeded) ^ splitMix64(named);
    const second = splitMix64(seeded) ^ splitMix64(named);
    this.a = Number(first & 0xffff_ffffn) | 0;
    this.b = Number(first >> 32n) | 0;
    this.c = Number(second & 0xffff_ffffn) | 0;
    this.d = Number(second >> 32n) | 0;
    // The generator needs one bit of state set.
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** 32 random bits, as an unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** A whole number from 0 to `n` − 1 (`n` ≥ 1, up to 2^32), by multiplying by a fraction in [0, 1). */
  below(n: number): number {
    return Math.floor((this.nextUint32() / 0x1_0000_0000) * n);
  }

  /** One of `items`, each as likely. */
  pick<T>(items: readonly T[]): T {
    const item = items[this.below(items.length)];
    if (item === undefined) throw new RangeError('nothing to pick from');
    return item;
  }
}
