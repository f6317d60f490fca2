// Replays every ISA DMA access of the shared QEMU traces (QEMU regions `dma-chan` and `dma-cont` at 00h–0Fh and
// C0h–DFh, `dma-page` at 81h–83h/87h/89h–8Bh/8Fh) and compares our answers with QEMU's. SeaBIOS master-clears both
// controllers, puts channel 4 in cascade mode and unmasks it, and later programs channel 2 for the boot-sector read
// (the transfer itself is replayed with the floppy controller in @splitvisor/floppy); the Linux kernel reads the
// page register at 87h once. Port 80h is the POST port (`ioport80`), not ours.
import { TRACE_NAMES, createTestContext, loadTrace, replayTrace } from '@splitvisor/device-testkit';
import { describe, expect, it } from 'vitest';
import { I8237Pair } from '../src/index.ts';

const PLACEMENTS = [
  { space: 'port', base: 0x00, length: 16, region: 'controller-8' },
  { space: 'port', base: 0x81, length: 15, region: 'page' },
  { space: 'port', base: 0xc0, length: 32, region: 'controller-16' },
] as const;

describe.each(TRACE_NAMES)('trace %s', (name) => {
  it('answers every DMA read as QEMU did, and leaves the cascade open as SeaBIOS set it', () => {
    const context = createTestContext();
    const pair = new I8237Pair(context);
    const records = loadTrace(name);
    const result = replayTrace(pair, context, records, PLACEMENTS);
    const regions = [...new Set(records.filter((a) => a.kind === 'pio' && PLACEMENTS.some((p) => a.addr >= p.base && a.addr < p.base + p.length)).map((a) => a.mr))];
    console.log(`${name}: ${result.accesses} accesses, ${result.reads} reads, ${result.identical} identical; QEMU regions ${regions.join(', ')}`);
    expect(regions.every((r) => r.startsWith('dma-'))).toBe(true);
    expect(result.mismatches).toEqual([]);
    expect(result.identical).toBe(result.reads);
    expect(pair.anomalies()).toEqual({ illegalReads: 0, unsupportedCommands: 0, unbackedTransfers: 0, transferTypeMismatches: 0, illegalTransferTypes: 0 });
    const state = pair.getState();
    expect(state.channels[4]?.mode).toBe(0xc0);
    expect((state.controllers[1]?.mask ?? 0) & 1).toBe(0);
    if (name === 'seabios-post') {
      expect(result.accesses).toBe(14);
      expect(state.channels[2]).toMatchObject({ baseAddress: 0x7c00, baseCount: 0x01ff, mode: 0x46, page: 0 });
    }
  }, 60_000);
});
