/**
 * The MC146818's fast-path programs (seed 002's bytecode): the CMOS
 * index/data pair for the time registers, answered in the kernel — a write
 * of the index to 70h, and a read from 71h of the seconds, minutes, hours,
 * weekday, date, month, year or century. The time registers change only at
 * the clock's update, once a second, so the device publishes their values
 * with the instant of its next update (ns mod 2^32: within two seconds) and
 * the program serves them until then; a stopped clock's are served until a
 * write changes them. Register A (UIP is a function of time), C (a read
 * clears it), every write to 71h and every other register go to the device.
 */
import type { FastPathProgram } from '@splitvisor/abi';
import { ProgramBuilder, r0, r1, r2, r4, r5, r6, r7 } from '@splitvisor/abi';

/** The scratch: the index and NMI bit last written, how long the time values hold, and the values. */
export const TimeScratch = { index: 0, nmiDisabled: 1, holds: 2, until: 3, values: 7 } as const;
/** `holds`: not served, served until `until`, served until a write changes them. */
export const Holds = { no: 0, untilUpdate: 1, untilWrite: 2 } as const;

/** The time registers' indices whose values the data program serves, in scratch order. */
export function servedIndices(centuryIndex: number | undefined): readonly number[] {
  return [0x00, 0x02, 0x04, 0x06, 0x07, 0x08, 0x09, ...(centuryIndex === undefined ? [] : [centuryIndex])];
}

export function scratchBytes(centuryIndex: number | undefined): number {
  return TimeScratch.values + servedIndices(centuryIndex).length;
}

/**
 * Both programs, for a chip whose century byte is at `centuryIndex` (they
 * share one scratch): the index register (70h) keeps the index (7 bits) and
 * the NMI mask (bit 7) in scratch, a read of it going to the device; the
 * data register (71h) serves the time values.
 */
export function timePrograms(centuryIndex: number | undefined): { readonly index: FastPathProgram; readonly data: FastPathProgram } {
  const bytes = scratchBytes(centuryIndex);
  const index = new ProgramBuilder(bytes)
    .li(r5, 1).jne(r1, r5, 'exit')
    .mov(r4, r2).li(r5, 0x7f).and(r4, r5).stb(TimeScratch.index, r4)
    .mov(r4, r2).li(r5, 7).shr(r4, r5).stb(TimeScratch.nmiDisabled, r4)
    .ret(r0)
    .label('exit').exit()
    .build();
  const data = new ProgramBuilder(bytes)
    .li(r5, 0).jne(r1, r5, 'exit')
    .ldb(r4, TimeScratch.holds).jeq(r4, r5, 'exit')
    .li(r5, Holds.untilWrite).jeq(r4, r5, 'serve')
    // Until the next update: (until − now) mod 2^32 must be in (0, 2^31).
    .ticks(r6, 1_000_000_000).ldd(r7, TimeScratch.until).sub(r7, r6)
    .li(r5, 0).jeq(r7, r5, 'exit')
    .li(r5, 0x8000_0000).jlt(r5, r7, 'exit')
    .label('serve').ldb(r4, TimeScratch.index);
  const indices = servedIndices(centuryIndex);
  indices.forEach((at, slot) => { data.li(r5, at).jeq(r4, r5, `slot${slot}`); });
  data.jmp('exit');
  indices.forEach((_at, slot) => { data.label(`slot${slot}`).ldb(r6, TimeScratch.values + slot).ret(r6); });
  return { index, data: data.label('exit').exit().build() };
}
