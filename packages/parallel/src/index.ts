export type { ParallelPortState } from './parallel-port/parallel-port.ts';
export {
  CONTROL_BITS, CONTROL_READS_SET, Control, FLOATING_DATA, NO_PRINTER_STATUS, POWER_ON_CONTROL, ParallelPort, ParallelRegister, Status,
} from './parallel-port/parallel-port.ts';
