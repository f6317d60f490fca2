import type { DeviceContext, GuestCpu, GuestRun } from '@splitvisor/abi';
import { NO_MEMORY } from '@splitvisor/abi';
import type { ScriptedGuest } from '@splitvisor/scripted-guest';
import { Vga } from '@splitvisor/vga';
import { mode13hPixel, vgaMode13hFill } from '@splitvisor/workloads';
import { describe, expect, it } from 'vitest';
import { Vm } from '../src/index.ts';
import { placement } from './profiles.ts';

const PROFILES = ['qemu-tcg', 'kvm-irqchip', 'kvm-split', 'plex86'];

type VgaAccess = { kind: 'out' | 'in'; offset: number; size: 1 | 2; value: number } | { kind: 'write'; offset: number; size: 4; value: number };

/** The guest as the VM runs it, noting each VGA access it makes (a logic analyser on the bus), to replay into a VGA of our own. */
class VgaTap implements GuestCpu {
  readonly accesses: VgaAccess[] = [];
  private readonly cpu: ScriptedGuest;
  constructor(cpu: ScriptedGuest) {
    this.cpu = cpu;
  }
  get interruptible(): boolean { return this.cpu.interruptible; }
  get halted(): boolean { return this.cpu.halted; }
  inject(vector: number): void { this.cpu.inject(vector); }
  complete(data: Uint8Array): void { this.cpu.complete(data); }
  run(budget: number, exitOnInterruptWindow?: boolean, tsc?: number): GuestRun {
    const result = this.cpu.run(budget, exitOnInterruptWindow, tsc);
    const exit = result.exit;
    const value = (data: Uint8Array) => data.reduceRight((v, b) => v * 256 + b, 0);
    if (exit.kind === 'io' && exit.port >= 0x3b0 && exit.port < 0x3e0 && exit.size <= 2) {
      this.accesses.push({ kind: exit.direction, offset: exit.port - 0x3b0, size: exit.size as 1 | 2, value: value(exit.data) });
    } else if (exit.kind === 'mmio' && exit.isWrite && exit.address >= 0xa_0000 && exit.address < 0xc_0000) {
      this.accesses.push({ kind: 'write', offset: exit.address - 0xa_0000, size: 4, value: value(exit.data) });
    }
    return result;
  }
}

const context = (): DeviceContext => ({
  now: () => 0,
  timer: () => ({ arm: () => undefined, cancel: () => undefined, deadline: undefined }),
  setIrq: () => undefined,
  memory: NO_MEMORY,
  log: { debug: () => undefined, warn: () => undefined },
});

describe('vga-mode13h-fill on a VM', () => {
  it("leaves the frame it drew in the VM's VGA, and that VGA model renders it as 320×200 pixels through the palette", async () => {
    const frameBytes = 320 * 200;
    for (const name of PROFILES) {
      const workload = vgaMode13hFill({ fps: 250 });
      const tap = new VgaTap(workload.guest);
      const vm = new Vm(placement(name), tap);
      vm.run(10_500_000); // frames at 0, 4 and 8 ms
      const frames = workload.frames();
      expect(frames, name).toBe(3);
      expect(workload.bytes(), name).toBe(3 * frameBytes);
      // What the VM's VGA holds: the last frame, read back through the window (chain 4).
      for (let offset = 0; offset < frameBytes; offset += 4 * 97) {
        const x = offset % 320;
        const y = (offset - x) / 320;
        const expected = [0, 1, 2, 3].map((i) => mode13hPixel(frames - 1, x + i, y));
        const dword = Number(vm.mmio(false, 0xa_0000 + offset, 4, 0n));
        expect([dword & 0xff, (dword >> 8) & 0xff, (dword >> 16) & 0xff, dword >>> 24], `${name} ${x},${y}`).toEqual(expected);
      }
      await vm.close();

      // The same accesses into a VGA of our own, rendered.
      const vga = new Vga(context());
      for (const a of tap.accesses) {
        if (a.kind === 'in') vga.read('ports', a.offset, a.size);
        else vga.write(a.kind === 'out' ? 'ports' : 'window', a.offset, a.size, a.value);
      }
      expect(vga.displayMode(), name).toMatchObject({ kind: 'graphics', width: 320, height: 200, bitsPerPixel: 8 });
      const { width, height, rgba } = vga.framebuffer();
      expect([width, height]).toEqual([320, 200]);
      const level = (six: number) => (six * 255) / 63;
      for (let y = 0; y < 200; y += 7) {
        for (let x = 0; x < 320; x += 5) {
          const index = mode13hPixel(frames - 1, x, y);
          const want = [Math.round((((index >> 5) & 7) * 63) / 7), Math.round((((index >> 2) & 7) * 63) / 7), Math.round(((index & 3) * 63) / 3)].map(level);
          const at = (y * 320 + x) * 4;
          const got = [rgba[at] ?? 0, rgba[at + 1] ?? 0, rgba[at + 2] ?? 0];
          got.forEach((v, i) => { expect(Math.abs(v - (want[i] ?? 0)), `${name} pixel ${x},${y}`).toBeLessThanOrEqual(4); });
        }
      }
    }
  }, 120_000);
});
