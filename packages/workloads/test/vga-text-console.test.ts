import { describe, expect, it } from 'vitest';
import { VGA_TEXT_CONSOLE, vgaTextConsole, vgaconLine } from '../src/vga-text-console.ts';
import { resolveParameters } from '../src/workload.ts';
import { drive, show } from './guest-driver.ts';

/** Text memory and CRTC registers that keep what is written (word stores into B8000h, CR index/data). */
function setUp(linesPerSecond = 1000) {
  const workload = vgaTextConsole({ linesPerSecond });
  const memory = new Map<number, number>();
  const crtc = new Map<number, number>();
  let index = 0;
  const driver = drive(workload.guest, (kind, at, size) => {
    if (kind === 'in') return at === 0x3d5 ? crtc.get(index) ?? 0 : 0;
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + (memory.get(at + i) ?? 0);
    return v;
  }, {
    onWrite: (kind, at, value) => {
      if (kind === 'write') {
        const size = at >= 0xb_8000 && value > 0xffff ? 4 : 2;
        for (let i = 0; i < size; i++) memory.set(at + i, Math.floor(value / 256 ** i) & 0xff);
      } else if (at === 0x3d4) {
        index = value & 0xff;
        if (value > 0xff) crtc.set(index, value >> 8);
      } else if (at === 0x3d5) crtc.set(index, value);
    },
  });
  const row = (origin: number, r: number) => {
    let text = '';
    for (let c = 0; c < 80; c++) text += String.fromCharCode(memory.get(0xb_8000 + origin * 2 + (r * 80 + c) * 2) ?? 0);
    return text.trimEnd();
  };
  return { workload, driver, crtc, row };
}

describe('vga-text-console', () => {
  it("probes the window as vgacon_startup does, then prints: cursor hidden, characters, cursor drawn", () => {
    const { driver } = setUp();
    driver.toHalt();
    const log = driver.log.map(show);
    const probe = log.indexOf('read b8000=720/2');
    expect(log.slice(probe, probe + 12)).toEqual([
      'read b8000=720/2', 'read b8002=720/2', 'write b8000=aa55/2', 'write b8002=55aa/2', 'read b8000=aa55/2', 'read b8002=55aa/2',
      'write b8000=55aa/2', 'write b8002=aa55/2', 'read b8000=55aa/2', 'read b8002=aa55/2', 'write b8000=720/2', 'write b8002=720/2',
    ]);
    const print = log.slice(probe + 12);
    expect(print.slice(0, 10)).toEqual([
      'out 3d4=e/2', 'out 3d4=f/2', // write_vga(14, 0)
      'out 3d4=a', 'in 3d5=d', 'out 3d4=b', 'in 3d5=e', 'out 3d4=a', 'out 3d5=1f', 'out 3d4=b', 'out 3d5=1e', // cursor 31/30: hidden
    ]);
    expect(print[10]).toBe('write b8000=75b/2'); // '[' grey on black
    const line = vgaconLine(1, 0).length - 1;
    expect(print.slice(11 + line - 1)).toEqual([
      'out 3d4=e/2', 'out 3d4=500f/2', // the cursor at row 1 (word 80)
      'out 3d4=a', 'in 3d5=1f', 'out 3d4=b', 'in 3d5=1e', 'out 3d4=a', 'out 3d5=d', 'out 3d4=b', 'out 3d5=e', // underline 13–14
    ]);
  });

  it('scrolls by moving the start address a row at a time, copying back at the end of the 32 KiB window', () => {
    const { workload, driver, crtc, row } = setUp(10_000);
    driver.step(400_000, () => workload.rollovers() > 0 && workload.lines() > 200);
    driver.toHalt(100_000);
    const origin = ((crtc.get(0x0c) ?? 0) << 8) | (crtc.get(0x0d) ?? 0);
    const cursor = ((crtc.get(0x0e) ?? 0) << 8) | (crtc.get(0x0f) ?? 0);
    expect([origin, cursor]).toEqual([workload.origin(), workload.cursor()]);
    expect(workload.rollovers()).toBe(1);
    expect(workload.scrolls()).toBe(workload.lines() - 24);
    const recent = workload.recentLines().slice(-24);
    for (let r = 0; r < 24; r++) expect(row(origin, r)).toBe(recent[r]);
    expect(row(origin, 24)).toBe(' '.repeat(80).trimEnd()); // the bottom row cleared for the next line
    expect(cursor).toBe(origin + 24 * 80);
  });

  it('takes lines-per-second, checked', () => {
    expect(() => resolveParameters(VGA_TEXT_CONSOLE, { 'lines-per-second': 0 })).toThrow(/lines-per-second/);
    expect(VGA_TEXT_CONSOLE.create(resolveParameters(VGA_TEXT_CONSOLE, {})).progress()).toEqual({ lines: 0, characters: 0, scrolls: 0, rollovers: 0 });
  });
});
