/**
 * A histogram of non-negative values (interrupt latencies in ns, wall times
 * per transition) in log-linear buckets: eight per power of two, so any
 * percentile is reported within 1/8 (12.5 %) of the true value, in constant
 * memory however many values arrive.
 */
const SUB_BUCKETS = 8;

export class Histogram {
  private readonly buckets = new Map<number, number>();
  count = 0;
  min = Number.POSITIVE_INFINITY;
  max = 0;
  sum = 0;

  record(value: number): void {
    if (!(value >= 0) || !Number.isFinite(value)) throw new RangeError(`a histogram takes finite non-negative values, not ${value}`);
    this.count++;
    this.sum += value;
    this.min = Math.min(this.min, value);
    this.max = Math.max(this.max, value);
    const index = Histogram.indexOf(value);
    this.buckets.set(index, (this.buckets.get(index) ?? 0) + 1);
  }

  /** Bucket of `value`: values below 8 exactly, then eight buckets per power of two. */
  private static indexOf(value: number): number {
    const v = Math.floor(value);
    if (v < SUB_BUCKETS) return v;
    const exponent = Math.floor(Math.log2(v));
    const sub = Math.floor(v / 2 ** (exponent - 3)) - SUB_BUCKETS;
    return SUB_BUCKETS + (exponent - 3) * SUB_BUCKETS + sub;
  }

  /** The smallest value of a bucket. */
  private static lowerBound(index: number): number {
    if (index < SUB_BUCKETS) return index;
    const exponent = Math.floor((index - SUB_BUCKETS) / SUB_BUCKETS) + 3;
    const sub = (index - SUB_BUCKETS) % SUB_BUCKETS;
    return (SUB_BUCKETS + sub) * 2 ** (exponent - 3);
  }

  /** The value at or below which `p` percent of the values fall (the bucket's lower bound, clamped to min and max). */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (const index of [...this.buckets.keys()].sort((a, b) => a - b)) {
      seen += this.buckets.get(index) ?? 0;
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, Histogram.lowerBound(index)));
    }
    return this.max;
  }

  /** Adds every value `other` holds, as if each had been recorded here. */
  merge(other: Histogram): void {
    if (other.count === 0) return;
    this.count += other.count;
    this.sum += other.sum;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
    for (const [index, n] of other.buckets) this.buckets.set(index, (this.buckets.get(index) ?? 0) + n);
  }

  /** Each bucket that holds a value, lowest first: its smallest value and how many values fell in it. */
  bins(): [lowerBound: number, count: number][] {
    return [...this.buckets].sort(([a], [b]) => a - b).map(([index, n]) => [Histogram.lowerBound(index), n]);
  }

  mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }
}
