/**
 * The VGA's fast-path programs (seed 002's bytecode): input status 1 (3BAh
 * or 3DAh, whichever misc output decodes) answered in the kernel. Its bits
 * are a function of time — vertical retrace and display enable follow the
 * beam — so the device publishes the function, not a value: the CRTC's
 * timing in dots (frame, line, retrace and display bounds), the dot clock,
 * and where the current frame started; the program reads the clock, finds
 * the beam and answers as `inputStatus1At` does. Reading resets the
 * attribute flip-flop, which the program does in scratch for the device to
 * take back. A write (feature control), the port misc output does not
 * decode, or a timing the program cannot follow goes to the device.
 */
import type { FastPathProgram } from '@splitvisor/abi';
import { ProgramBuilder, r1, r2, r3, r4, r5, r6, r7 } from '@splitvisor/abi';
import type { CrtcTiming } from './crtc-timing.ts';
import { Status1 } from './registers.ts';

/** The dot clocks the program can read: the two crystals, and each halved by the sequencer. */
export const PROGRAM_DOT_CLOCKS: readonly number[] = [25_175_000, 28_322_000, 12_587_500, 14_161_000];

export const StatusScratch = {
  monoDecoded: 0, colorDecoded: 1, attributeDataNext: 2, timingKnown: 3, clock: 4,
  frameStart: 8, frameDots: 12, lineDots: 16, retraceFrom: 20, retraceTo: 24, displayEnd: 28, displayCharDots: 32, bytes: 36,
} as const;

/** The program for the status port at 3BAh (`color` false) or 3DAh (`color` true). */
export function statusProgram(color: boolean): FastPathProgram {
  const S = StatusScratch;
  const p = new ProgramBuilder(S.bytes)
    .li(r5, 0).jne(r1, r5, 'exit')
    .ldb(r4, color ? S.colorDecoded : S.monoDecoded).jeq(r4, r5, 'exit')
    .ldb(r4, S.timingKnown).jeq(r4, r5, 'exit')
    .ldb(r4, S.clock);
  PROGRAM_DOT_CLOCKS.forEach((_hz, i) => { p.li(r5, i).jeq(r4, r5, `clock${i}`); });
  p.jmp('exit');
  PROGRAM_DOT_CLOCKS.forEach((hz, i) => {
    p.label(`clock${i}`).ticks(r6, hz);
    if (i < PROGRAM_DOT_CLOCKS.length - 1) p.jmp('beam');
  });
  return p.label('beam')
    .ldd(r7, S.frameStart).sub(r6, r7) // dots since the published frame began
    .li(r5, 0x8000_0000).jlt(r5, r6, 'exit') // published too long ago to follow: ask the device
    .ldd(r7, S.frameDots).mod(r6, r7) // the beam's dot in its frame
    .li(r2, 0)
    .ldd(r7, S.retraceFrom).jlt(r6, r7, 'display')
    .ldd(r7, S.retraceTo).jlt(r6, r7, 'retrace')
    .jmp('display')
    .label('retrace').li(r2, Status1.VERTICAL_RETRACE)
    .label('display').ldd(r7, S.displayEnd).jlt(r6, r7, 'line')
    .jmp('blank')
    .label('line').ldd(r7, S.lineDots).mov(r3, r6).mod(r3, r7).ldd(r7, S.displayCharDots).jlt(r3, r7, 'done')
    .label('blank').li(r5, Status1.DISPLAY_DISABLED).or(r2, r5)
    .label('done').li(r5, 0).stb(S.attributeDataNext, r5).ret(r2)
    .label('exit').exit()
    .build();
}

/** The scratch for `timing` at `dots` (the dot clock's edges since time 0), with the decode and the flip-flop. */
export function statusScratch(timing: CrtcTiming, dots: number, color: boolean, attributeDataNext: boolean): Uint8Array {
  const S = StatusScratch;
  const scratch = new Uint8Array(S.bytes);
  const view = new DataView(scratch.buffer);
  scratch[color ? S.colorDecoded : S.monoDecoded] = 1;
  scratch[S.attributeDataNext] = attributeDataNext ? 1 : 0;
  const clock = PROGRAM_DOT_CLOCKS.indexOf(timing.dotClockHz);
  const lineDots = timing.lineCharacters * timing.dotsPerCharacter;
  const frameDots = lineDots * timing.frameLines;
  const bounds = [frameDots, lineDots, timing.retraceStart * lineDots, (timing.retraceStart + timing.retraceLines) * lineDots,
    timing.displayLines * lineDots, timing.displayCharacters * timing.dotsPerCharacter];
  if (clock < 0 || frameDots <= 0 || bounds.some((n) => !Number.isInteger(n) || n < 0 || n > 0xffff_ffff)) return scratch;
  scratch[S.timingKnown] = 1;
  scratch[S.clock] = clock;
  view.setUint32(S.frameStart, (Math.floor(dots / frameDots) * frameDots) % 2 ** 32, true);
  [S.frameDots, S.lineDots, S.retraceFrom, S.retraceTo, S.displayEnd, S.displayCharDots].forEach((at, i) => { view.setUint32(at, bounds[i] ?? 0, true); });
  return scratch;
}
