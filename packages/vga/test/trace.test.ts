// Replays every VGA access of the shared QEMU traces (SeaBIOS POST with its VGA BIOS, Linux 6.1 booting with vgacon and
// with a serial console) and compares each of our reads with QEMU's: registers, the VBE ports and text memory.
import type { TraceAccess } from '@splitvisor/device-testkit';
import { TRACE_NAMES, createTestContext, loadTrace, replayTrace } from '@splitvisor/device-testkit';
import { describe, expect, it } from 'vitest';
import { Port, Status1, Vga } from '../src/index.ts';

/**
 * The PC's decoding (IBM VGA Technical Reference): registers at 3B0h–3DFh (QEMU region `vga`), the legacy window at
 * A0000h–BFFFFh (`vga-lowmem`), the Bochs VBE index/data ports at 1CEh–1D0h (`vbe`).
 */
const placements = [
  { space: 'port', base: 0x3b0, length: 0x30, region: 'ports' },
  { space: 'mmio', base: 0xa_0000, length: 0x2_0000, region: 'window' },
  { space: 'port', base: 0x1ce, length: 3, region: 'vbe' },
] as const;

/** QEMU's std VGA has 16 MiB of video memory (its VBE reports 100h × 64 KiB). */
const QEMU_VRAM = 16 << 20;

const STATUS1_PORTS = new Set([0x3b0 + Port.STATUS1_MONO, 0x3b0 + Port.STATUS1_COLOR]);

/**
 * Input status 1 is the beam's position: which of its bits are set depends on the instant of the read. QEMU 7.2
 * does not model the beam at all — its default ("dumb") retrace just flips VR and DD on every read so that polling
 * loops end — while this model derives them from the CRTC timing and virtual time, so the two agree only by chance.
 * Such a read counts as close when every other bit agrees.
 */
function timeDependent(access: TraceAccess): string | undefined {
  return access.kind === 'pio' && STATUS1_PORTS.has(access.addr) ? 'input status 1' : undefined;
}

function close(access: TraceAccess, ours: number): boolean {
  const timed = Status1.VERTICAL_RETRACE | Status1.DISPLAY_DISABLED;
  return ((ours ^ access.value) & ~timed) === 0;
}

function kindOf(access: TraceAccess): string {
  if (access.kind === 'mmio') return 'memory';
  return access.addr < 0x3b0 ? 'VBE' : 'registers';
}

describe.each(TRACE_NAMES)('trace %s', (name) => {
  it('answers every VGA read as QEMU did (input status 1 apart)', () => {
    const records = loadTrace(name);
    const context = createTestContext();
    const vga = new Vga(context, { memoryBytes: QEMU_VRAM });
    const result = replayTrace(vga, context, records, placements, { timeDependent, close });
    // Sort the compared reads by kind after the fact, from the totals and the mismatches.
    const mismatchKeys = new Set(result.mismatches.map((m) => `${m.t}:${m.addr}`));
    const kinds = new Map<string, { reads: number; identical: number }>();
    for (const access of records) {
      if (access.op !== 'r' || !['vga', 'vga-lowmem', 'vbe'].includes(access.mr) || timeDependent(access) !== undefined) continue;
      const entry = kinds.get(kindOf(access)) ?? { reads: 0, identical: 0 };
      entry.reads++;
      if (!mismatchKeys.has(`${access.t}:${access.addr}`)) entry.identical++;
      kinds.set(kindOf(access), entry);
    }
    // QEMU's std VGA also answers EDID reads in its PCI MMIO BAR (region `edid`); this model has no PCI face.
    const bar2 = records.filter((access) => access.mr === 'edid').length;
    const status = result.timeDependent['input status 1'] ?? { reads: 0, exact: 0, close: 0 };
    const compared = result.identical + result.mismatches.length;
    console.log(`${name}: ${result.accesses} VGA accesses, ${result.reads} reads: ${result.identical}/${compared} identical `
      + `(${((100 * result.identical) / Math.max(1, compared)).toFixed(2)} %), input status 1 ${status.exact}/${status.reads} equal `
      + `(${status.close} equal but for VR/DD); ${JSON.stringify(Object.fromEntries(kinds))}; EDID (PCI BAR, not modelled): ${bar2} reads; `
      + `anomalies ${JSON.stringify(vga.anomalies())}`);
    expect(result.reads).toBeGreaterThan(0);
    expect(result.mismatches.slice(0, 10)).toEqual([]);
    expect(status.close).toBe(status.reads);
    expect(result.identical / compared).toBeGreaterThanOrEqual(0.995);
    // The screen each run ends on, as text and as pixels drawn with the font the VGA BIOS loaded into plane 2.
    const screen = vga.textScreen();
    console.log(`${name}: final screen\n${screen.rows.map((row) => row.trimEnd()).join('\n')}\ncursor ${JSON.stringify(screen.cursor)}`);
    expect(vga.displayMode()).toEqual({ kind: 'text', columns: 80, rows: 25, characterWidth: 9, characterHeight: 16 });
    const last = { 'seabios-post': 'No bootable device.', 'linux-boot-serial': undefined, 'linux-boot-vga': '] reboot: Power down' }[name];
    if (last !== undefined) {
      const row = screen.rows.findIndex((text) => text.includes(last));
      expect(row).toBeGreaterThanOrEqual(0);
      expect(screen.cursor?.row).toBe(row + 1);
      const frame = vga.framebuffer();
      expect(frame).toMatchObject({ width: 720, height: 400 });
      // Glyph dots of the row's text are lit (light grey), the row below it is dark but for the cursor.
      const lit = (y0: number) => {
        let count = 0;
        for (let y = y0; y < y0 + 16; y++) for (let x = 0; x < 720; x++) if ((frame.rgba[(y * 720 + x) * 4] ?? 0) > 0) count++;
        return count;
      };
      expect(lit(row * 16)).toBeGreaterThan(400);
      expect(lit((row + 1) * 16)).toBe(2 * 9); // the cursor: lines 13–14 of one 9-dot cell
    }
  }, 60_000);
});
