/**
 * The screen of an alphanumeric mode, from state: characters from plane 0
 * and attributes from plane 1 at the CRTC's addresses (start address, row
 * offset, line compare split), the cursor from CR0A/CR0B (shape) and
 * CR0E/CR0F (location); as text, or drawn with the font the guest loaded
 * into plane 2 (SR03 selects the maps: attribute bit 3 picks map A or B;
 * FreeVGA, "Sequencer Registers" and "VGA Text Mode Operation").
 */
import { CP437_UNICODE } from './cp437.ts';
import type { DisplayMode } from './display.ts';
import { attributeToDac, dacColor, rowAddress, scanLayout, splitRow } from './display.ts';
import { Attr, AttrBits, Crtc, CrtcBits, Seq } from './registers.ts';
import type { VgaRegisters } from './state.ts';

export interface TextCursor {
  readonly row: number;
  readonly column: number;
  /** First and last scan line of the cell it covers (CR0A, CR0B bits 4–0). */
  readonly startLine: number;
  readonly endLine: number;
}

export interface TextScreen {
  /** `text` when an alphanumeric mode is shown; otherwise `rows` is empty. */
  readonly mode: 'text' | 'graphics' | 'blank';
  readonly columns: number;
  readonly rows: readonly string[];
  /** The attribute byte of each cell, row by row. */
  readonly attributes: readonly (readonly number[])[];
  /** Where the cursor is drawn; undefined when it is off (CR0A bit 5, start line below end line or below the cell) or off screen. */
  readonly cursor: TextCursor | undefined;
}

export type TextMode = Extract<DisplayMode, { kind: 'text' }>;

/** Plane address of each cell, row by row. */
function cellAddresses(r: VgaRegisters, mode: TextMode): number[][] {
  const layout = scanLayout(r);
  const split = splitRow(layout, layout.rowScanLines * (layout.doubleScan ? 2 : 1));
  const rows: number[][] = [];
  for (let row = 0; row < mode.rows; row++) {
    const base = rowAddress(layout, row, 0, split);
    const cells: number[] = [];
    for (let column = 0; column < mode.columns; column++) cells.push((base + column) & 0xffff);
    rows.push(cells);
  }
  return rows;
}

function planeByte(r: VgaRegisters, address: number, plane: number): number {
  return r.memory[address * 4 + plane] ?? 0;
}

export function cursorOf(r: VgaRegisters, mode: TextMode): TextCursor | undefined {
  const c = r.crtc;
  const start = c[Crtc.CURSOR_START] ?? 0;
  const startLine = start & 0x1f;
  const endLine = (c[Crtc.CURSOR_END] ?? 0) & 0x1f;
  // The VGA draws no cursor when it is switched off, or when its start line is below its end line or below the cell.
  if ((start & CrtcBits.CURSOR_OFF) !== 0 || startLine > endLine || startLine >= mode.characterHeight) return undefined;
  const location = (c[Crtc.CURSOR_LOCATION_HIGH] ?? 0) << 8 | (c[Crtc.CURSOR_LOCATION_LOW] ?? 0);
  const cells = cellAddresses(r, mode);
  for (let row = 0; row < cells.length; row++) {
    const column = cells[row]?.indexOf(location) ?? -1;
    if (column >= 0) return { row, column, startLine, endLine: Math.min(endLine, mode.characterHeight - 1) };
  }
  return undefined;
}

export function textScreen(r: VgaRegisters, mode: TextMode): TextScreen {
  const rows: string[] = [];
  const attributes: number[][] = [];
  for (const cells of cellAddresses(r, mode)) {
    rows.push(cells.map((address) => CP437_UNICODE[planeByte(r, address, 0)] ?? ' ').join(''));
    attributes.push(cells.map((address) => planeByte(r, address, 1)));
  }
  return { mode: 'text', columns: mode.columns, rows, attributes, cursor: cursorOf(r, mode) };
}

/** Plane address of font map `map` (0–7) in plane 2: maps 0–3 at 16 KiB steps, 4–7 between them. */
function fontBase(map: number): number {
  return (map & 3) * 0x4000 + (map >> 2) * 0x2000;
}

/** Draws the text screen into `rgba` (width = columns × character width, height = rows × character height). */
export function drawText(r: VgaRegisters, mode: TextMode, rgba: Uint8Array): void {
  const width = mode.columns * mode.characterWidth;
  const select = r.sequencer[Seq.CHARACTER_MAP] ?? 0;
  const mapA = fontBase((select >> 5 & 1) << 2 | (select >> 2 & 3));
  const mapB = fontBase((select >> 4 & 1) << 2 | (select & 3));
  const modeControl = r.attribute[Attr.MODE_CONTROL] ?? 0;
  const blink = (modeControl & AttrBits.BLINK) !== 0;
  const lineGraphics = (modeControl & AttrBits.LINE_GRAPHICS) !== 0;
  const cursor = cursorOf(r, mode);
  const palette = Array.from({ length: 16 }, (_, color) => dacColor(r, attributeToDac(r.attribute, color)));
  cellAddresses(r, mode).forEach((cells, row) => {
    cells.forEach((address, column) => {
      const code = planeByte(r, address, 0);
      const attribute = planeByte(r, address, 1);
      const foreground = palette[attribute & 0x0f] ?? [0, 0, 0];
      // With blinking enabled attribute bit 7 blinks the character instead of brightening the background; a snapshot shows it lit.
      const background = palette[blink ? (attribute >> 4) & 7 : attribute >> 4] ?? [0, 0, 0];
      const font = (attribute & 0x08) !== 0 ? mapA : mapB;
      const isCursor = cursor?.row === row && cursor.column === column;
      for (let line = 0; line < mode.characterHeight; line++) {
        let bits = planeByte(r, (font + code * 32 + line) & 0xffff, 2);
        if (isCursor && line >= cursor.startLine && line <= cursor.endLine) bits = 0xff;
        // The ninth dot repeats the eighth for the line-drawing characters C0h–DFh, else it is background.
        const ninth = mode.characterWidth === 9 && (isCursor && line >= cursor.startLine && line <= cursor.endLine
          || (lineGraphics && code >= 0xc0 && code <= 0xdf && (bits & 1) !== 0));
        for (let dot = 0; dot < mode.characterWidth; dot++) {
          const on = dot < 8 ? (bits >> (7 - dot) & 1) !== 0 : ninth;
          const color = on ? foreground : background;
          const at = ((row * mode.characterHeight + line) * width + column * mode.characterWidth + dot) * 4;
          rgba[at] = color[0];
          rgba[at + 1] = color[1];
          rgba[at + 2] = color[2];
          rgba[at + 3] = 0xff;
        }
      }
    });
  });
}
