/**
 * printk on the VGA text console as Linux's vgacon and the vt layer drive
 * it (drivers/video/console/vgacon.c, drivers/tty/vt/vt.c).
 *
 * Before Linux, the firmware: mode 03h set at the register level
 * (vga-modes.ts) and the visible page cleared to grey-on-black spaces
 * (0720h). (The font a BIOS also loads into plane 2 is left out: nothing
 * here draws pixels.)
 *
 * * `vgacon_startup`: the colour VGA at B8000h with a 32 KiB window
 *   (vga_vram_size 8000h) and the CRTC at 3D4h; the memory probe — the two
 *   first words saved, AA55h/55AAh written and read back, then 55AAh/AA55h,
 *   then the saved words restored. Hardware scrolling on (the default,
 *   vga_hardscroll_enabled).
 * * Each printk line is `vt_console_print`: the cursor hidden first
 *   (`vgacon_cursor` CM_ERASE: the position written, then
 *   `vgacon_set_cursor_size` 31/30, start below end, which hides it); each
 *   character a 16-bit store of attribute 07h and the byte at the cursor
 *   (`scr_writew`); the LF does `lf` and `cr` — on the bottom row `lf`
 *   scrolls with `vgacon_scroll`; at the end `set_cursor`
 *   (`vgacon_cursor` CM_DRAW: the position, then the underline cursor,
 *   scan lines 13–14 of the 16-line cell).
 * * `vgacon_set_cursor_size` (only when the size differs from the last it
 *   wrote): CR0A and CR0B read through 3D4h/3D5h, their low bits replaced,
 *   written back.
 * * `write_vga(reg, value)` (cursor location CR0E/0F, start address
 *   CR0C/0D): two word writes to 3D4h, the high byte to `reg`, then the low
 *   byte to `reg + 1`.
 * * `vgacon_scroll` one line up with hardware scrolling: the screen's origin
 *   moves down a row (160 bytes) in the 32 KiB window and `vga_set_mem_top`
 *   writes the start address; when the screen would run past the window's
 *   end, its 24 kept rows are first copied back to the window's start
 *   (`scr_memcpyw`, 32-bit reads and writes as x86 memcpy does) and the
 *   origin returns there. The new bottom row is cleared with 80 word stores
 *   of 0720h (`scr_memsetw`).
 *
 * outb_p's delay write to port 80h is left out. Lines come `linesPerSecond`
 * apart by the TSC; between them the guest idles in `hlt`, woken by the
 * HZ=1000 PIT tick.
 */
import type { GuestProgram } from '@splitvisor/scripted-guest';
import { ScriptedGuest } from '@splitvisor/scripted-guest';
import type { GuestRoutine } from './linux-8259.ts';
import { jiffiesClock, legacyPic } from './linux-8259.ts';
import { VGA_CRTC_DATA, VGA_CRTC_INDEX, VGA_MODE_03H, setVgaMode } from './vga-modes.ts';
import type { WorkloadDefinition } from './workload.ts';
import { numberParameter } from './workload.ts';

export const VGA_VRAM_BASE = 0xb_8000;
/** vgacon's window for a colour VGA. */
export const VGA_VRAM_SIZE = 0x8000;
export const VGACON_COLUMNS = 80;
export const VGACON_ROWS = 25;
const SIZE_ROW = VGACON_COLUMNS * 2;
const SCREENBUF_SIZE = SIZE_ROW * VGACON_ROWS;
/** vc_video_erase_char: a space, grey on black. */
const ERASE_CHAR = 0x0720;
const ATTRIBUTE = 0x07;
const CELL_HEIGHT = 16;
const CRTC_CURSOR_START = 0x0a;
const CRTC_CURSOR_END = 0x0b;
const CRTC_START_HI = 0x0c;
const CRTC_CURSOR_HI = 0x0e;

/** The printk line `n` stamped at `ns` since boot, as printk formats its timestamp. */
export function vgaconLine(n: number, ns: number): string {
  const micros = Math.floor(ns / 1000);
  const seconds = Math.floor(micros / 1_000_000);
  return `[${String(seconds).padStart(5, ' ')}.${String(micros % 1_000_000).padStart(6, '0')}] splitvisor: vgacon line ${n}\n`;
}

export interface VgaTextConsoleOptions {
  /** printk lines per second (default 50). */
  readonly linesPerSecond?: number;
}

export interface VgaTextConsole {
  readonly guest: ScriptedGuest;
  readonly lines: () => number;
  readonly characters: () => number;
  /** vgacon_scroll calls. */
  readonly scrolls: () => number;
  /** Of those, the ones that copied the screen back to the window's start. */
  readonly rollovers: () => number;
  /** vgacon_startup's memory probe reading back something else. */
  readonly probeFailures: () => number;
  /** The lines printed (without their LF), the last 25. */
  readonly recentLines: () => readonly string[];
  /** The screen's origin (vc_origin) and the cursor (vc_pos) as word offsets into the window: what CR0C/0D and CR0E/0F should hold. */
  readonly origin: () => number;
  readonly cursor: () => number;
}

export function vgaTextConsole(options: VgaTextConsoleOptions = {}): VgaTextConsole {
  const linesPerSecond = options.linesPerSecond ?? 50;
  let lines = 0;
  let characters = 0;
  let scrolls = 0;
  let rollovers = 0;
  let probeFailures = 0;
  const recent: string[] = [];
  /** vt's state, as byte offsets into the window: vc_origin, vc_pos, the row (state.y). */
  let origin = 0;
  let pos = 0;
  let row = 0;
  let lastFrom = 0;
  let lastTo = 0;
  const pic = legacyPic();
  const clock = jiffiesClock(pic);

  const readw = (offset: number) => ({ op: 'read', address: VGA_VRAM_BASE + offset, length: 2 } as const);
  const writew = (offset: number, value: number) => ({ op: 'write', address: VGA_VRAM_BASE + offset, value, length: 2 } as const);

  function* writeVga(register: number, value: number): GuestProgram {
    yield { op: 'cli' }; // vga_lock
    yield { op: 'out', port: VGA_CRTC_INDEX, value: register | (value & 0xff00), size: 2 };
    yield { op: 'out', port: VGA_CRTC_INDEX, value: (register + 1) | ((value << 8) & 0xff00), size: 2 };
    yield { op: 'sti' };
  }

  function* crtcRead(register: number): GuestRoutine<number> {
    yield { op: 'out', port: VGA_CRTC_INDEX, value: register };
    return yield { op: 'in', port: VGA_CRTC_DATA };
  }

  function* setCursorSize(from: number, to: number): GuestProgram {
    if (from === lastFrom && to === lastTo) return;
    lastFrom = from;
    lastTo = to;
    yield { op: 'cli' };
    const start = yield* crtcRead(CRTC_CURSOR_START);
    const end = yield* crtcRead(CRTC_CURSOR_END);
    yield { op: 'out', port: VGA_CRTC_INDEX, value: CRTC_CURSOR_START };
    yield { op: 'out', port: VGA_CRTC_DATA, value: (start & 0xc0) | from };
    yield { op: 'out', port: VGA_CRTC_INDEX, value: CRTC_CURSOR_END };
    yield { op: 'out', port: VGA_CRTC_DATA, value: (end & 0xe0) | to };
    yield { op: 'sti' };
  }

  function* cursor(draw: boolean): GuestProgram {
    yield* writeVga(CRTC_CURSOR_HI, pos / 2);
    if (draw) yield* setCursorSize(CELL_HEIGHT - 3, CELL_HEIGHT - 2); // CUR_UNDERLINE
    else yield* setCursorSize(31, 30);
  }

  function* probe(): GuestProgram {
    const saved1 = yield readw(0);
    const saved2 = yield readw(2);
    for (const [first, second] of [[0xaa55, 0x55aa], [0x55aa, 0xaa55]] as const) {
      yield writew(0, first);
      yield writew(2, second);
      const ok = (yield readw(0)) === first && (yield readw(2)) === second;
      if (!ok) {
        probeFailures++;
        break;
      }
    }
    yield writew(0, saved1);
    yield writew(2, saved2);
  }

  function* scroll(): GuestProgram {
    scrolls++;
    const old = origin;
    if (origin + SCREENBUF_SIZE + SIZE_ROW >= VGA_VRAM_SIZE) {
      rollovers++;
      for (let offset = 0; offset < SCREENBUF_SIZE - SIZE_ROW; offset += 4) {
        const value = yield { op: 'read', address: VGA_VRAM_BASE + old + SIZE_ROW + offset, length: 4 };
        yield { op: 'write', address: VGA_VRAM_BASE + offset, value, length: 4 };
      }
      origin = 0;
    } else origin += SIZE_ROW;
    for (let offset = 0; offset < SIZE_ROW; offset += 2) yield writew(origin + SCREENBUF_SIZE - SIZE_ROW + offset, ERASE_CHAR);
    yield* writeVga(CRTC_START_HI, origin / 2); // vga_set_mem_top
    pos = pos - old + origin;
  }

  function* print(line: string): GuestProgram {
    yield* cursor(false); // hide_cursor
    let column = 0;
    for (const char of line) {
      if (char === '\n') {
        if (row + 1 === VGACON_ROWS) yield* scroll(); // lf at the bottom
        else {
          row++;
          pos += SIZE_ROW;
        }
        pos -= column * 2; // cr
        column = 0;
        continue;
      }
      if (column === VGACON_COLUMNS) continue; // past the right edge the line would wrap; these lines fit
      yield writew(pos, (ATTRIBUTE << 8) | (char.charCodeAt(0) & 0xff));
      characters++;
      column++;
      if (column < VGACON_COLUMNS) pos += 2;
    }
    yield* cursor(true); // set_cursor
  }

  const guest = new ScriptedGuest((function* main(): GuestProgram {
    yield* pic.init();
    yield* clock.start();
    yield { op: 'sti' };
    yield* setVgaMode(VGA_MODE_03H); // the firmware's mode set
    for (let offset = 0; offset < SCREENBUF_SIZE; offset += 2) yield writew(offset, ERASE_CHAR);
    yield* probe(); // vgacon_startup
    const start = yield* clock.now();
    for (let n = 1; ; n++) {
      const line = vgaconLine(n, yield* clock.now());
      yield* print(line);
      lines++;
      recent.push(line.slice(0, -1));
      if (recent.length > VGACON_ROWS) recent.shift();
      yield* clock.sleepUntil(start + (n * 1e9) / linesPerSecond);
    }
  })()).on(clock.vector, clock.handler);
  return {
    guest,
    lines: () => lines,
    characters: () => characters,
    scrolls: () => scrolls,
    rollovers: () => rollovers,
    probeFailures: () => probeFailures,
    recentLines: () => recent.slice(),
    origin: () => origin / 2,
    cursor: () => pos / 2,
  };
}

export const VGA_TEXT_CONSOLE: WorkloadDefinition = {
  name: 'vga-text-console',
  description: "printk lines on Linux's VGA text console: characters into B8000h, the cursor through CRTC 0Eh/0Fh, hardware scrolling by the start address",
  follows: 'drivers/video/console/vgacon.c vgacon_startup, vgacon_cursor, vgacon_set_cursor_size, write_vga, vgacon_scroll, vga_set_mem_top; drivers/tty/vt/vt.c vt_console_print, lf, cr',
  parameters: [
    { name: 'lines-per-second', description: 'printk lines per second', default: 50, min: 1, max: 10_000 },
  ],
  create: (p) => {
    const run = vgaTextConsole({ linesPerSecond: numberParameter(p, 'lines-per-second') });
    return {
      guest: run.guest,
      progress: () => ({ lines: run.lines(), characters: run.characters(), scrolls: run.scrolls(), rollovers: run.rollovers() }),
    };
  },
};
