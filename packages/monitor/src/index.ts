export type { GuestCpu, GuestExit, GuestRun } from '@splitvisor/abi';
export type { HostClock, InterruptSource, LocalDomain, RunLoopConfig, RunLoopState, RunSummary, UserDomain } from './run-loop.ts';
export { RunLoop } from './run-loop.ts';
export { MonitorDomain } from './monitor-domain.ts';
export type { VcpusConfig } from './vcpus.ts';
export { Vcpus } from './vcpus.ts';
