export type { GuestCpu, GuestExit, GuestRun } from './guest-cpu.ts';
export type { GuestOp, GuestProgram } from './scripted-guest.ts';
export { OP_CYCLES, ScriptedGuest } from './scripted-guest.ts';
export type { ExitHandler, InterruptSource, RunLoopConfig, RunSummary, UserDomain } from './run-loop.ts';
export { RunLoop } from './run-loop.ts';
export { IdleCpu } from './idle-cpu.ts';
export type { VcpusConfig } from './vcpus.ts';
export { Vcpus } from './vcpus.ts';
