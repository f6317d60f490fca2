import { serialConsole } from '@splitvisor/workloads';
import { describe, expect, it } from 'vitest';
import { Vm } from '../src/index.ts';
import { placement } from './profiles.ts';

const PROFILES = ['qemu-tcg', 'kvm-irqchip', 'kvm-split', 'plex86'];

describe('serial-console on a VM', () => {
  it("puts on the VM's console exactly what the guest wrote, by THRE interrupts and by polling, under every profile", async () => {
    for (const name of PROFILES) {
      for (const mode of ['thre-irq', 'polling'] as const) {
        const workload = serialConsole({ mode, linesPerSecond: 100 });
        const vm = new Vm(placement(name), workload.guest);
        vm.run(38_000_000); // lines at 0, 10, 20 and 30 ms, each on the wire for about 4 ms at 115200 baud
        const console = vm.console();
        expect(console, `${name} ${mode}`).toBe(workload.written());
        expect(workload.lines(), `${name} ${mode}`).toBe(4);
        expect(console.split('\r\n').slice(0, 4).map((l) => l.replace(/^\[ *\d+\.\d{6}\] /, '')), `${name} ${mode}`)
          .toEqual(['splitvisor: console line 1', 'splitvisor: console line 2', 'splitvisor: console line 3', 'splitvisor: console line 4']);
        if (mode === 'thre-irq') {
          // 43 bytes a line: three THRE refills (16 + 16 + 11) each, and the interrupts the startup probes leave behind.
          expect(workload.interrupts() - workload.spurious(), name).toBe(4 * 3);
          expect(workload.lsrPolls(), name).toBe(0);
        } else {
          expect(workload.lsrPolls(), name).toBeGreaterThan(workload.bytes()); // THRE is not there at once for every byte at line rate
          expect(workload.timeouts(), name).toBe(0);
        }
        await vm.close();
      }
    }
  });
});
