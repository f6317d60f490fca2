import type { Linter } from 'eslint';
export declare const DEVICE_PACKAGES: readonly string[];
export declare const APP_PACKAGES: readonly string[];
/** For each package (unscoped name), the packages its src/ may import. */
export declare const LAYERS: Readonly<Record<string, readonly string[]>>;
export declare const BOUNDARY_PACKAGES: readonly string[];
export declare function deviceBoundaryRules(): Linter.RulesRecord;
export declare function isBoundaryPackage(packageName: string): boolean;
export declare function config(packageDir: string): Linter.Config[];
