// A guest CPU that keeps what the guest reads: the bytes each of its reads is given, in order.
import type { GuestCpu } from '@splitvisor/abi';

/** `cpu`, every byte its reads are given appended to `seen`. */
export function recording(cpu: GuestCpu, seen: number[]): GuestCpu {
  return {
    run: (budget, window, tsc) => cpu.run(budget, window, tsc),
    complete: (data) => {
      for (const byte of data) seen.push(byte);
      cpu.complete(data);
    },
    get interruptible() { return cpu.interruptible; },
    get halted() { return cpu.halted; },
    inject: (vector) => { cpu.inject(vector); },
  };
}
