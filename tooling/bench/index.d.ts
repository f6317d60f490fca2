export interface Measurement {
  readonly medianNs: number;
  readonly samples: number;
  readonly opsPerBatch: number;
}
export interface MeasureOptions {
  readonly opsPerBatch?: number;
  readonly batches?: number;
  readonly warmupBatches?: number;
}
export interface Row {
  readonly name: string;
  readonly medianNs: number;
  readonly note?: string;
}
export declare function machine(): string;
export declare function median(values: readonly number[]): number;
export declare function measureSync(op: () => unknown, options?: MeasureOptions): Measurement;
export declare function measureAsync(op: () => Promise<unknown>, options?: MeasureOptions): Promise<Measurement>;
export declare function report(title: string, rows: readonly Row[], baseline: string): Record<string, number>;
