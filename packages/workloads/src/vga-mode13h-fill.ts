/**
 * A program drawing full frames in VGA mode 13h: it sets the mode at the
 * register level (vga-modes.ts: the IBM VGA Technical Reference's mode 13h
 * values, in the FreeVGA/BIOS order — misc output, sequencer under
 * synchronous reset, CRTC with CR11 unprotected first, graphics controller,
 * attribute controller behind the 3DAh flip-flop reset, then the DAC with a
 * 3-3-2 palette), then fills the 64 000-byte chained framebuffer at A0000h
 * with 32-bit stores (a `rep stosd`/memcpy of each frame), `fps` frames a
 * second. Pixel (x, y) of frame n has colour (x + y + n) mod 256, so every
 * frame differs from the last.
 *
 * Frames start `1/fps` apart by the TSC; between them the guest idles in
 * `hlt`, woken by the HZ=1000 PIT tick.
 */
import type { GuestProgram } from '@splitvisor/scripted-guest';
import { ScriptedGuest } from '@splitvisor/scripted-guest';
import { jiffiesClock, legacyPic } from './linux-8259.ts';
import { VGA_MODE_13H, setVgaMode } from './vga-modes.ts';
import type { WorkloadDefinition } from './workload.ts';
import { numberParameter } from './workload.ts';

const FRAMEBUFFER = 0xa_0000;
export const MODE_13H_WIDTH = 320;
export const MODE_13H_HEIGHT = 200;
const FRAME_BYTES = MODE_13H_WIDTH * MODE_13H_HEIGHT;

/** The colour index the program draws at (x, y) in frame `frame` (counted from 0). */
export function mode13hPixel(frame: number, x: number, y: number): number {
  return (x + y + frame) & 0xff;
}

export interface VgaMode13hFillOptions {
  /** Frames drawn per second (default 30). */
  readonly fps?: number;
}

export interface VgaMode13hFill {
  readonly guest: ScriptedGuest;
  /** Frames drawn completely. */
  readonly frames: () => number;
  /** Bytes stored into the framebuffer. */
  readonly bytes: () => number;
}

export function vgaMode13hFill(options: VgaMode13hFillOptions = {}): VgaMode13hFill {
  const fps = options.fps ?? 30;
  let frames = 0;
  let bytes = 0;
  const pic = legacyPic();
  const clock = jiffiesClock(pic);
  const guest = new ScriptedGuest((function* main(): GuestProgram {
    yield* pic.init();
    yield* clock.start();
    yield { op: 'sti' };
    yield* setVgaMode(VGA_MODE_13H);
    const start = yield* clock.now();
    for (let frame = 0; ; frame++) {
      for (let offset = 0; offset < FRAME_BYTES; offset += 4) {
        const x = offset % MODE_13H_WIDTH;
        const y = (offset - x) / MODE_13H_WIDTH;
        // Four pixels of one row (320 is a multiple of 4), little-endian: the leftmost in the low byte.
        const value = (mode13hPixel(frame, x, y) | (mode13hPixel(frame, x + 1, y) << 8) | (mode13hPixel(frame, x + 2, y) << 16)
          | (mode13hPixel(frame, x + 3, y) << 24)) >>> 0;
        yield { op: 'write', address: FRAMEBUFFER + offset, value, length: 4 };
        bytes += 4;
      }
      frames++;
      yield* clock.sleepUntil(start + ((frame + 1) * 1e9) / fps);
    }
  })()).on(clock.vector, clock.handler);
  return { guest, frames: () => frames, bytes: () => bytes };
}

export const VGA_MODE13H_FILL: WorkloadDefinition = {
  name: 'vga-mode13h-fill',
  description: 'VGA mode 13h set at the register level, then whole 320×200×256 frames stored into A0000h with 32-bit writes, fps a second',
  follows: 'IBM VGA Technical Reference mode 13h register values (video parameter table); FreeVGA "VGA Chipset Reference" mode-set order; a rep stosd frame fill',
  parameters: [
    { name: 'fps', description: 'frames drawn per second', default: 30, min: 1, max: 1000 },
  ],
  create: (p) => {
    const run = vgaMode13hFill({ fps: numberParameter(p, 'fps') });
    return { guest: run.guest, progress: () => ({ frames: run.frames(), bytes: run.bytes() }) };
  },
};
