export type { IrqEdge, LineEdge, TestContext, TestContextOptions } from './test-context.ts';
export { createTestContext, inertContext } from './test-context.ts';
export type { Op } from './ops.ts';
export { advance, apply, regionIo, registerOps } from './ops.ts';
export type { DeviceSubject } from './suites.ts';
export { programEquivalenceSuite, registerFuzzSuite, stateRoundTripSuite } from './suites.ts';
export type { Mismatch, Placement, ReplayOptions, ReplayResult, TraceAccess, TraceName } from './trace-replay.ts';
export { TRACE_NAMES, loadTrace, replayTrace } from './trace-replay.ts';
