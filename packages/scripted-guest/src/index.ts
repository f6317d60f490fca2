export type { GuestOp, GuestProgram } from './scripted-guest.ts';
export { ScriptedGuest } from './scripted-guest.ts';
export { OP_CYCLES } from '@splitvisor/abi';
export { IdleCpu } from './idle-cpu.ts';
export type { GuestJournal, ScriptedGuestState } from './guest-journal.ts';
