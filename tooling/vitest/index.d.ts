import type { UserConfig } from 'vitest/config';
export declare const RESULTS_FILE: string;
export declare class CountsReporter {
  onInit(vitest: unknown): void;
  onTestRunEnd(testModules: readonly unknown[], unhandledErrors: readonly unknown[]): void;
}
declare const preset: UserConfig;
export default preset;
