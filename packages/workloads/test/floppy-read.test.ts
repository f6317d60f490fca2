import { describe, expect, it } from 'vitest';
import { FLOPPY_READ, FLOPPY_VECTOR, floppyRead } from '../src/floppy-read.ts';
import { resolveParameters } from '../src/workload.ts';
import type { FakeDevice } from './scripted-io.ts';
import { drive, onPorts } from './scripted-io.ts';

/** An 82077AA reduced to its phases: MSR 80h or D0h, FIFO command bytes, results, queued sense statuses, the change line. */
class FakeFdc implements FakeDevice {
  readonly commands: number[][] = [];
  private command: number[] = [];
  private results: number[] = [];
  private readonly sense: number[][] = [];
  private irq = false;
  private cylinder = 0;
  private changed = true;
  private static readonly LENGTH: Record<number, number> = { 0x03: 3, 0x04: 2, 0x07: 2, 0x08: 1, 0x0f: 3, 0x12: 2, 0x13: 4, 0xe6: 9 };
  pending(): number | undefined {
    return this.irq ? FLOPPY_VECTOR : undefined;
  }
  in(port: number): number {
    if (port === 0x3f4) return this.results.length > 0 ? 0xd0 : 0x80;
    if (port === 0x3f7) return this.changed ? 0x80 : 0;
    if (port !== 0x3f5) return 0;
    const byte = this.results.shift() ?? 0;
    if (this.results.length === 0 && this.sense.length === 0) this.irq = false;
    return byte;
  }
  out(port: number, value: number): void {
    if (port === 0x3f4 && (value & 0x80) !== 0) {
      this.sense.push([0xc0, 0], [0xc1, 0], [0xc2, 0], [0xc3, 0]);
      this.irq = true;
    }
    if (port !== 0x3f5) return;
    this.command.push(value);
    const opcode = this.command[0] ?? 0;
    if (this.command.length < (FakeFdc.LENGTH[opcode] ?? 1)) return;
    const [, a = 0, b = 0, c = 0, d = 0] = this.command;
    this.commands.push(this.command);
    this.command = [];
    switch (opcode) {
      case 0x07: this.cylinder = 0; this.sense.push([0x20, 0]); this.irq = true; break;
      case 0x0f: if (b !== this.cylinder) this.changed = false; this.cylinder = b; this.sense.push([0x20, b]); this.irq = true; break;
      case 0x08: this.results = this.sense.shift() ?? [0x80]; break;
      case 0x04: this.results = [0x20]; break;
      case 0xe6: this.results = [a & 7, 0, 0, b, c, d, 2]; this.irq = true; break;
      default: break;
    }
  }
}

describe('floppy-read', () => {
  it('resets, configures, recalibrates, clears the change line by seeking, then reads by DMA as floppy.c does', () => {
    const fdc = new FakeFdc();
    const run = floppyRead({ reads: 1 });
    const { log } = drive(run.guest, fdc, 20_000);
    expect(fdc.commands).toEqual([
      [0x08], [0x08], [0x08], [0x08], // reset_fdc's interrupt: four ready changes drained
      [0x12, 0x00], [0x13, 0x00, 0x1a, 0x00], [0x03, 0xc1, 0x10], // perpendicular off, CONFIGURE (FIFO, threshold 10), SPECIFY
      [0x07, 0x00], [0x08], // recalibrate
      [0x0f, 0x00, 1], [0x08], // the seek that clears the new disk's change line
      [0x04, 0x00], // check_wp
      [0x0f, 0x00, 0], [0x08], // back to the request's cylinder
      [0xe6, 0x00, 0, 0, 1, 2, 18, 0x1b, 0xff], // READ DATA C0 H0 R1, MT to EOT 18
    ]);
    const read = log.indexOf('out 3f5 e6');
    const dma = onPorts(log.slice(0, read), [0x04, 0x05, 0x0a, 0x0b, 0x0c, 0x81]).slice(-9);
    expect(dma).toEqual(['out a 6', 'out c 0', 'out b 46', 'out 81 1', 'out 4 0', 'out 4 0', 'out 5 ff', 'out 5 23', 'out a 2']); // 9216 − 1
    expect(log.slice(read - 2, read)).toEqual(['in 3f4', 'out 80 80']); // output_byte: MSR (RQM), then the byte
    expect(log[read + 1]).toBe('out 80 e6'); // outb_p's delay
    expect(log).toContain('out 3f2 c'); // floppy_grab_irq_and_dma
    expect(log).toContain('out 3f2 1c'); // start_motor
    expect(log).toContain('out 3f7 0'); // fdc_dtr: 500 kb/s
    expect([run.reads(), run.sectors(), run.seeks(), run.interrupts(), run.resets(), run.errors()]).toEqual([1, 18, 3, 5, 1, 0]);
  });

  it('reads the next sectors without seeking while the cylinder holds, stops at the cylinder end, and drops the io delay when asked', () => {
    const fdc = new FakeFdc();
    const reads: [number, number][] = [];
    const run = floppyRead({ reads: 4, sectors: 16, ioDelay: 'none', onRead: (lba, n) => reads.push([lba, n]) });
    const { log } = drive(run.guest, fdc, 40_000);
    expect(reads).toEqual([[0, 16], [16, 16], [32, 4], [36, 16]]);
    expect(fdc.commands.filter((c) => c[0] === 0xe6)).toEqual([
      [0xe6, 0, 0, 0, 1, 2, 18, 0x1b, 0xff], [0xe6, 0, 0, 0, 17, 2, 18, 0x1b, 0xff], [0xe6, 4, 0, 1, 15, 2, 18, 0x1b, 0xff], [0xe6, 0, 1, 0, 1, 2, 18, 0x1b, 0xff],
    ]);
    expect(fdc.commands.filter((c) => c[0] === 0x0f).map((c) => c[2])).toEqual([1, 0, 1]);
    expect(log.some((e) => e.startsWith('out 80 '))).toBe(false);
    expect(FLOPPY_READ.create(resolveParameters(FLOPPY_READ, {})).board).toEqual({ floppyBytes: 1_474_560 });
  });
});
