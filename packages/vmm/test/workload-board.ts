// What a workload asks of the board, as the VM takes it: blank media in memory and the host's typing.
import type { Workload } from '@splitvisor/workloads';
import type { BoardOptions } from '../src/index.ts';

export function boardFor(workload: Workload): BoardOptions {
  const needs = workload.board ?? {};
  return {
    ...(needs.diskBytes === undefined ? {} : { diskBlankBytes: needs.diskBytes }),
    ...(needs.floppyBytes === undefined ? {} : { floppyBlankBytes: needs.floppyBytes }),
    ...(needs.typing === undefined ? {} : { typing: needs.typing }),
  };
}
