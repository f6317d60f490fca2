/**
 * The frame the CRT controller scans, derived from its registers (FreeVGA,
 * "CRT Controller Registers": horizontal total and display end, vertical
 * total, display end and retrace start/end with their overflow bits;
 * "Sequencer": 8/9-dot characters and the halved dot clock; "General
 * Registers": the misc output's clock select), and where the beam is at a
 * given virtual time.
 *
 * The beam is a pure function of the registers and `now`: frames are laid
 * end to end from virtual time 0 at the programmed rate, so reads of input
 * status 1 need no timer and no state. (A frame's phase jumps when the
 * timing registers change, where a real CRTC's counters would carry on;
 * nothing a guest can time through the ports tells the two apart.)
 *
 * With the standard tables this gives the standard rates: mode 3 is
 * 100 × 9 dots × 449 lines at 28.322 MHz = 70.087 Hz; mode 13h (100 × 8 × 449
 * at 25.175 MHz) 70.086 Hz; mode 12h (100 × 8 × 525 at 25.175 MHz) 59.94 Hz.
 */
import type { Nanoseconds } from '@splitvisor/abi';
import { tickTime, ticksAt } from '@splitvisor/abi';
import { Crtc, CrtcBits, Misc, Seq, SeqBits, Status1 } from './registers.ts';

/** The VGA's two crystals: 25.175 MHz for 640-dot modes, 28.322 MHz for 720-dot modes. Clock selects 2 and 3 (external) count as 25.175 MHz. */
export const DOT_CLOCK_HZ: readonly number[] = [25_175_000, 28_322_000, 25_175_000, 25_175_000];

export interface CrtcTiming {
  /** Dots per second after the sequencer's optional halving. */
  readonly dotClockHz: number;
  readonly dotsPerCharacter: number;
  /** Character clocks per scan line (CR00 + 5). */
  readonly lineCharacters: number;
  /** Character clocks displayed per scan line (CR01 + 1). */
  readonly displayCharacters: number;
  /** Scan lines per frame (CR06 with VT8/VT9, + 2). */
  readonly frameLines: number;
  /** Scan lines displayed (CR12 with VDE8/VDE9, + 1). */
  readonly displayLines: number;
  /** First scan line of vertical retrace (CR10 with VRS8/VRS9). */
  readonly retraceStart: number;
  /** Scan lines in vertical retrace: until the line counter's low 4 bits equal CR11 bits 3–0 (1–16). */
  readonly retraceLines: number;
}

/** A 10-bit vertical value: the low byte and its bits 8 and 9 from the overflow register. */
function vertical(low: number, overflow: number, bit8: number, bit9: number): number {
  return low | ((overflow >> bit8) & 1) << 8 | ((overflow >> bit9) & 1) << 9;
}

export function crtcTiming(miscOutput: number, sequencer: readonly number[], crtc: readonly number[]): CrtcTiming {
  const clocking = sequencer[Seq.CLOCKING] ?? 0;
  const at = (index: number) => crtc[index] ?? 0;
  const overflow = at(Crtc.OVERFLOW);
  // CR17 bit 2 clocks the vertical counter every other line: the vertical registers count line pairs.
  const scale = (at(Crtc.MODE_CONTROL) & CrtcBits.VERTICAL_TIMING_X2) !== 0 ? 2 : 1;
  const clock = DOT_CLOCK_HZ[(miscOutput >> Misc.CLOCK_SHIFT) & Misc.CLOCK_MASK] ?? 25_175_000;
  const retraceStart = vertical(at(Crtc.VERTICAL_RETRACE_START), overflow, 2, 7);
  const retraceEnd = at(Crtc.VERTICAL_RETRACE_END) & 0x0f;
  return {
    dotClockHz: (clocking & SeqBits.HALF_DOT_CLOCK) !== 0 ? clock / 2 : clock,
    dotsPerCharacter: (clocking & SeqBits.EIGHT_DOT) !== 0 ? 8 : 9,
    lineCharacters: at(Crtc.HORIZONTAL_TOTAL) + 5,
    displayCharacters: at(Crtc.HORIZONTAL_DISPLAY_END) + 1,
    frameLines: (vertical(at(Crtc.VERTICAL_TOTAL), overflow, 0, 5) + 2) * scale,
    displayLines: (vertical(at(Crtc.VERTICAL_DISPLAY_END), overflow, 1, 6) + 1) * scale,
    retraceStart: retraceStart * scale,
    retraceLines: (((retraceEnd - retraceStart) & 0x0f) || 16) * scale,
  };
}

/** Frames per second of a timing. */
export function refreshHz(timing: CrtcTiming): number {
  return timing.dotClockHz / (timing.lineCharacters * timing.dotsPerCharacter * timing.frameLines);
}

/** Where the beam is at `now`: the scan line and the character clock within it. */
export function beamAt(timing: CrtcTiming, now: Nanoseconds): { line: number; character: number } {
  const lineDots = timing.lineCharacters * timing.dotsPerCharacter;
  const dots = ticksAt(now, timing.dotClockHz) % (lineDots * timing.frameLines);
  return { line: Math.floor(dots / lineDots), character: Math.floor((dots % lineDots) / timing.dotsPerCharacter) };
}

/**
 * Input status 1 bits 3 (VR, vertical retrace) and 0 (DD, display disabled:
 * the beam is past the displayed characters of its line or below the
 * displayed lines) at `now`.
 */
export function inputStatus1At(timing: CrtcTiming, now: Nanoseconds): number {
  const { line, character } = beamAt(timing, now);
  const inRetrace = line >= timing.retraceStart && line < timing.retraceStart + timing.retraceLines;
  const displayed = line < timing.displayLines && character < timing.displayCharacters;
  return (inRetrace ? Status1.VERTICAL_RETRACE : 0) | (displayed ? 0 : Status1.DISPLAY_DISABLED);
}

/** The first instant after `now` at which vertical retrace begins, or Infinity if the frame ends before its start line. */
export function nextRetraceStart(timing: CrtcTiming, now: Nanoseconds): Nanoseconds {
  if (timing.retraceStart >= timing.frameLines) return Number.POSITIVE_INFINITY;
  const lineDots = timing.lineCharacters * timing.dotsPerCharacter;
  const frameDots = lineDots * timing.frameLines;
  const dots = ticksAt(now, timing.dotClockHz);
  let target = Math.floor(dots / frameDots) * frameDots + timing.retraceStart * lineDots;
  if (target <= dots) target += frameDots;
  return tickTime(target, timing.dotClockHz);
}
