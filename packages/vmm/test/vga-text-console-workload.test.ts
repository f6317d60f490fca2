import { vgaTextConsole } from '@splitvisor/workloads';
import { describe, expect, it } from 'vitest';
import { Vm } from '../src/index.ts';
import { placement } from './profiles.ts';

const PROFILES = ['qemu-tcg', 'kvm-irqchip', 'kvm-split', 'plex86'];

function crtc(vm: Vm, index: number): number {
  vm.io('out', 0x3d4, 1, index);
  return vm.io('in', 0x3d5, 1, 0);
}

describe('vga-text-console on a VM', () => {
  it('shows the last 24 printk lines from the start address the guest scrolled to, cursor below them, under every profile', async () => {
    for (const name of PROFILES) {
      const workload = vgaTextConsole({ linesPerSecond: 10_000 });
      const vm = new Vm(placement(name), workload.guest);
      vm.run(30_000_000);
      expect(workload.rollovers(), name).toBe(1); // past the end of the 32 KiB window once
      expect(workload.scrolls(), name).toBe(workload.lines() - 24);
      const origin = (crtc(vm, 0x0c) << 8) | crtc(vm, 0x0d);
      const cursor = (crtc(vm, 0x0e) << 8) | crtc(vm, 0x0f);
      expect([origin, cursor], name).toEqual([workload.origin(), workload.cursor()]);
      expect(cursor, name).toBe(origin + 24 * 80);
      expect([crtc(vm, 0x0a) & 0x1f, crtc(vm, 0x0b) & 0x1f], name).toEqual([13, 14]); // vgacon's underline cursor
      const row = (r: number) => {
        let text = '';
        for (let c = 0; c < 80; c++) {
          const cell = Number(vm.mmio(false, 0xb_8000 + (origin + r * 80 + c) * 2, 2, 0n));
          expect(cell >> 8, `${name} attribute ${r},${c}`).toBe(0x07);
          text += String.fromCharCode(cell & 0xff);
        }
        return text.trimEnd();
      };
      const recent = workload.recentLines().slice(-24);
      for (let r = 0; r < 24; r++) expect(row(r), `${name} row ${r}`).toBe(recent[r]);
      expect(row(24), name).toBe('');
      await vm.close();
    }
  });
});
