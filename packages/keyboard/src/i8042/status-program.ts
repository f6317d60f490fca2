/**
 * The i8042's fast-path program (seed 002's bytecode): a read of the status
 * register (64h) answered in the kernel from the one byte of scratch the
 * controller publishes — reading it changes nothing, so the program only
 * loads it; a write to 64h (a controller command) goes to the device.
 */
import type { FastPathProgram } from '@splitvisor/abi';
import { ProgramBuilder, r1, r4, r5 } from '@splitvisor/abi';

export const STATUS_PROGRAM: FastPathProgram = new ProgramBuilder(1)
  .li(r5, 1).jeq(r1, r5, 'command')
  .ldb(r4, 0).ret(r4)
  .label('command').exit()
  .build();
