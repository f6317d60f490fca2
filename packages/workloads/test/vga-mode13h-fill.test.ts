import { describe, expect, it } from 'vitest';
import { VGA_MODE13H_FILL, mode13hPixel, vgaMode13hFill } from '../src/vga-mode13h-fill.ts';
import { resolveParameters } from '../src/workload.ts';
import { drive, show } from './guest-driver.ts';

describe('vga-mode13h-fill', () => {
  it('sets mode 13h register by register: misc, sequencer under reset, CRTC unprotected, GC, AC behind 3DAh, DAC', () => {
    const { guest } = vgaMode13hFill();
    const driver = drive(guest, () => 0);
    driver.step(200, (a) => a.at === 0x3c9);
    const vga = driver.log.filter((a) => a.at >= 0x3c0 && a.at <= 0x3df).map(show);
    expect(vga.slice(0, 7)).toEqual(['out 3c2=63', 'out 3c4=100/2', 'out 3c4=101/2', 'out 3c4=f02/2', 'out 3c4=3/2', 'out 3c4=e04/2', 'out 3c4=300/2']);
    expect(vga.slice(7, 9)).toEqual(['out 3d4=e11/2', 'out 3d4=5f00/2']); // CR11 with its protect bit clear first
    expect(vga).toContain('out 3d4=4014/2'); // CR14: doubleword mode
    expect(vga).toContain('out 3ce=4005/2'); // GR05: 256-colour shift
    const ac = vga.indexOf('in 3da=0');
    expect(vga.slice(ac, ac + 6)).toEqual(['in 3da=0', 'out 3c0=0', 'out 3c0=0', 'in 3da=0', 'out 3c0=1', 'out 3c0=1']);
    expect(vga.slice(-4)).toEqual(['out 3c0=20', 'out 3c6=ff', 'out 3c8=0', 'out 3c9=0']); // PAS, then the DAC from entry 0
  });

  it('fills all 64 000 bytes at A0000h with dword stores, frame after frame', () => {
    const { guest, frames, bytes } = vgaMode13hFill({ fps: 500 });
    const driver = drive(guest, () => 0);
    driver.step(1_000, (a) => a.kind === 'write');
    const first = driver.log.at(-1);
    expect(first).toEqual({ kind: 'write', at: 0xa_0000, value: 0x0302_0100, size: 4 });
    const frame = [first, ...driver.step(15_999)];
    expect(frame.every((a) => a?.kind === 'write' && a.size === 4)).toBe(true);
    expect(frame.at(-1)).toEqual({ kind: 'write', at: 0xa_0000 + 63_996, value: 0x0605_0403, size: 4 }); // (316 + 199) mod 256 = 3
    const next = driver.step(100, (a) => a.kind === 'write').at(-1); // after the idle and its tick
    expect([frames(), bytes(), next?.at, next?.value]).toEqual([1, 64_000, 0xa_0000, 0x0403_0201]);
    expect(mode13hPixel(1, 0, 0)).toBe(1);
  });

  it('takes fps, checked', () => {
    expect(() => resolveParameters(VGA_MODE13H_FILL, { fps: 0 })).toThrow(/fps/);
    expect(VGA_MODE13H_FILL.create(resolveParameters(VGA_MODE13H_FILL, {})).progress()).toEqual({ frames: 0, bytes: 0 });
  });
});
