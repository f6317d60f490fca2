// Linux's vgacon as a driver of the VGA: printk into B8000h with 16-bit cell stores, the hardware cursor through CRTC
// 0Eh/0Fh, hardware scrolling by moving the start address (CRTC 0Ch/0Dh) through the 32 KiB window, and the wrap back
// to the start of the window when the screen would run off its end.
import { describe, expect, it } from 'vitest';
import { MODE_03H, egaPalette } from '../src/index.ts';
import type { Pc } from './harness.ts';
import { pc, setMode } from './harness.ts';

const COLUMNS = 80;
const ROWS = 25;
/** The window at B8000h holds 16 Ki cells. */
const WINDOW_CELLS = 0x4000;

/** The parts of vgacon (drivers/video/console/vgacon.c) that touch the hardware, as seen in the linux-boot-vga trace. */
class Vgacon {
  /** Cell index of the top left of the screen within the window (vga_origin − vga_vram_base, in cells). */
  origin = 0;
  x = 0;
  y = 0;
  readonly lines: string[] = [];

  private readonly p: Pc;

  constructor(p: Pc) {
    this.p = p;
    // vgacon_startup: reads the cursor shape the BIOS left, sets its own (as the trace's CR0A/CR0B reads and writes).
    p.outb(0x3d4, 0x0a);
    const start = p.inb(0x3d5);
    p.outb(0x3d4, 0x0b);
    const end = p.inb(0x3d5);
    expect([start, end]).toEqual([0x0d, 0x0e]);
    this.setOrigin(0);
    for (let row = 0; row < ROWS; row++) this.clearRow(row);
  }

  private cell(row: number, column: number): number {
    return 0xb_8000 + ((this.origin + row * COLUMNS + column) % WINDOW_CELLS) * 2;
  }

  private clearRow(row: number): void {
    for (let column = 0; column < COLUMNS; column++) this.p.poke(this.cell(row, column), 0x0720, 2);
  }

  /** vga_set_mem_top: the start address in cells, high byte to CR0C, low to CR0D, as word writes. */
  private setOrigin(origin: number): void {
    this.origin = origin;
    this.p.outw(0x3d4, (origin >> 8) << 8 | 0x0c);
    this.p.outw(0x3d4, (origin & 0xff) << 8 | 0x0d);
  }

  /** vgacon_cursor: the cursor location is the cell address (origin + position), CR0E high, CR0F low, as byte pairs at 3D4h/3D5h. */
  private moveCursor(): void {
    const location = this.origin + this.y * COLUMNS + this.x;
    this.p.outb(0x3d4, 0x0e);
    this.p.outb(0x3d5, location >> 8);
    this.p.outb(0x3d4, 0x0f);
    this.p.outb(0x3d5, location & 0xff);
  }

  /** vgacon_scroll by one line: move the start address down a row; past the window's end, copy the screen back to its start. */
  private scroll(): void {
    if (this.origin + (ROWS + 1) * COLUMNS > WINDOW_CELLS) {
      // Reads of the text memory: what the trace's 16 k window reads are.
      const keep: number[] = [];
      for (let i = COLUMNS; i < ROWS * COLUMNS; i++) keep.push(this.p.peek(0xb_8000 + (this.origin + i) * 2, 2));
      keep.forEach((word, i) => { this.p.poke(0xb_8000 + i * 2, word, 2); });
      this.setOrigin(0);
    } else {
      this.setOrigin(this.origin + COLUMNS);
    }
    this.clearRow(ROWS - 1);
  }

  printk(line: string): void {
    this.lines.push(line);
    for (const char of line) {
      this.p.poke(this.cell(this.y, this.x), 0x07 << 8 | (char.codePointAt(0) ?? 0x3f), 2);
      this.x++;
    }
    this.x = 0;
    if (this.y === ROWS - 1) this.scroll();
    else this.y++;
    this.moveCursor();
  }
}

describe('vgacon on mode 03h', () => {
  it('shows the last 25 lines printed, with the cursor under them, through hardware scrolling and its wrap', () => {
    const p = pc();
    setMode(p, MODE_03H, egaPalette());
    const con = new Vgacon(p);
    let wrapped = false;
    for (let n = 0; n < 600; n++) {
      const before = con.origin;
      con.printk(`[    ${(n / 100).toFixed(6)}] line ${n}: ${'x'.repeat(n % 50)}`);
      if (con.origin < before) wrapped = true;
      if (n % 97 === 0 || n === 599) {
        const screen = p.vga.textScreen();
        const shown = con.lines.slice(Math.max(0, con.lines.length - (ROWS - 1)));
        shown.forEach((text, i) => { expect(screen.rows[i]?.trimEnd()).toBe(text.trimEnd()); });
        expect(screen.rows[shown.length]?.trim()).toBe('');
        expect(screen.cursor).toMatchObject({ row: shown.length, column: 0 });
      }
    }
    // 600 lines of 80 cells pass the 16 Ki-cell window's end several times.
    expect(wrapped).toBe(true);
    p.outb(0x3d4, 0x0c);
    const start = p.inb(0x3d5) << 8;
    p.outb(0x3d4, 0x0d);
    expect(start | p.inb(0x3d5)).toBe(con.origin);
    expect(p.vga.anomalies()).toMatchObject({ openBusReads: 0, ignoredWrites: 0, unmappedWindowAccesses: 0 });
  });

  it('hides the cursor when CR0A bit 5 is set, and places it by start address and location', () => {
    const p = pc({ initialMode: 0x03 });
    p.outw(0x3d4, 0x0c | 0x00 << 8);
    p.outw(0x3d4, 0x0d | 0x50 << 8); // start at cell 80
    p.outw(0x3d4, 0x0e | 0x00 << 8);
    p.outw(0x3d4, 0x0f | 0xa5 << 8); // cell 165 = row 1, column 5 of the screen
    expect(p.vga.textScreen().cursor).toEqual({ row: 1, column: 5, startLine: 13, endLine: 14 });
    p.outw(0x3d4, 0x0a | 0x2d << 8);
    expect(p.vga.textScreen().cursor).toBeUndefined();
    p.outw(0x3d4, 0x0a | 0x00 << 8); // a block cursor, lines 0–14
    expect(p.vga.textScreen().cursor).toEqual({ row: 1, column: 5, startLine: 0, endLine: 14 });
    p.outw(0x3d4, 0x0f | 0x10 << 8); // before the start address: off screen
    expect(p.vga.textScreen().cursor).toBeUndefined();
  });

  it('splits the screen at the line compare: rows below it come from address 0', () => {
    const p = pc({ initialMode: 0x03 });
    for (let row = 0; row < 60; row++) {
      const text = `row ${row}`;
      Array.from(text).forEach((char, i) => { p.poke(0xb_8000 + (row * COLUMNS + i) * 2, 0x0700 | (char.codePointAt(0) ?? 0), 2); });
    }
    p.outw(0x3d4, 0x0d | 30 * COLUMNS << 8 & 0xff00);
    p.outw(0x3d4, 0x0c | (30 * COLUMNS) & 0xff00);
    // Line compare 20 × 16 − 1 = 319 (CR18 = 3Fh, LC8 set, LC9 clear): the split begins on line 320, row 20.
    p.outw(0x3d4, 0x18 | 0x3f << 8);
    p.outw(0x3d4, 0x07 | 0x1f << 8);
    p.outw(0x3d4, 0x09 | 0x0f << 8);
    const rows = p.vga.textScreen().rows.map((row) => row.trimEnd());
    expect(rows[0]).toBe('row 30');
    expect(rows[19]).toBe('row 49');
    expect(rows[20]).toBe('row 0');
    expect(rows[24]).toBe('row 4');
  });
});
