// Replays every floppy-controller and ISA DMA access of the shared QEMU traces through the controller on channel 2 of
// an 8237 pair, and compares our answers with QEMU's. The SeaBIOS POST trace drives the whole path: DOR reset, four
// SENSE INTERRUPT STATUS, recalibrate, READ ID (answered 20 ms later), SPECIFY, DMA programming and the boot-sector
// READ DATA into 0000:7C00 from the blank 1.44 MB image the trace was recorded with (`truncate -s 1474560`). The
// Linux boots load no floppy driver; their only DMA accesses are the BIOS's cascade setup and one page-register read.
//
// No read here depends on when it is made: QEMU completes seeks and resets at once, answers READ ID after a fixed
// 20 ms of virtual time (the guest waits for irq 6 before reading MSR again, 20.1 ms later), and runs the DMA
// transfer of READ DATA before SeaBIOS's irq 6 wait ends. So every read is compared exactly.
import { TRACE_NAMES, createTestContext, loadTrace, replayTrace } from '@splitvisor/device-testkit';
import { describe, expect, it } from 'vitest';
import { MemoryFloppyImage } from '../src/index.ts';
import { FdcBoard, PLACEMENTS, isFloppy } from './fdc-board.ts';

describe.each(TRACE_NAMES)('trace %s', (name) => {
  it('answers every floppy and DMA read as QEMU did', () => {
    const context = createTestContext();
    context.ram.fill(0xaa, 0x7c00, 0x7e00);
    const board = new FdcBoard(context, [{ image: new MemoryFloppyImage('1.44M') }]);
    const records = loadTrace(name);
    const result = replayTrace(board, context, records, PLACEMENTS);
    const floppy = records.filter(isFloppy);
    const regionNames = [...new Set(records.filter((a) => a.kind === 'pio' && PLACEMENTS.some((p) => a.addr >= p.base && a.addr < p.base + p.length)).map((a) => a.mr))];
    console.log(`${name}: ${result.accesses} accesses (${floppy.length} floppy), ${result.reads} reads, ${result.identical} identical, `
      + `${result.mismatches.length} mismatched; QEMU regions ${regionNames.join(', ')}; irq 6 rose ${context.irqEdges.filter((e) => e.level).length} times`);
    expect(result.mismatches).toEqual([]);
    expect(result.timeDependent).toEqual({});
    expect(result.identical).toBe(result.reads);
    expect(board.anomalies()).toEqual(expect.objectContaining({ invalidCommands: 0, unbackedTransfers: 0, transferTypeMismatches: 0, unexpectedDataReads: 0, unexpectedDataWrites: 0 }));
    if (name === 'seabios-post') {
      expect(result.reads).toBeGreaterThan(50);
      // The boot sector of the blank image reached 7C00h by DMA; irq 6 rose for the reset, the recalibrate, READ ID and READ DATA.
      expect(context.ram.subarray(0x7c00, 0x7e00).every((b) => b === 0)).toBe(true);
      expect(context.irqEdges.filter((e) => e.level)).toHaveLength(4);
    }
  }, 60_000);
});
