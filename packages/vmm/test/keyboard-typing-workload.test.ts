import { keyboardTyping } from '@splitvisor/workloads';
import { describe, expect, it } from 'vitest';
import { Vm } from '../src/index.ts';
import { placement } from './profiles.ts';

const PROFILES = ['qemu-tcg', 'kvm-irqchip', 'kvm-split', 'plex86'];

describe('keyboard-typing on a VM', () => {
  it('decodes exactly the text the host typed, one irq 1 per byte, under every profile', async () => {
    const text = 'Hello, World! 123';
    const shifted = Array.from(text).filter((c) => /[A-Z!]/.test(c)).length;
    for (const name of PROFILES) {
      const workload = keyboardTyping({ text, cps: 1000 });
      const vm = new Vm(placement(name), workload.guest, { board: workload.board });
      vm.run(30_000_000);
      expect(workload.text(), name).toBe(text);
      expect(workload.scancodes(), name).toBe(2 * text.length + 2 * shifted); // make and break, and Shift's around the shifted ones
      expect(Object.fromEntries(vm.counts.exitsByDevice()).keyboard, name).toHaveProperty('user');
      await vm.close();
    }
  });
});
