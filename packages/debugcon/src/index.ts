export type { IsaDebugconState } from './isa-debugcon/isa-debugcon.ts';
export { DEBUGCON_READBACK, IsaDebugcon, LOG_KEPT_BYTES, debugconText } from './isa-debugcon/isa-debugcon.ts';
