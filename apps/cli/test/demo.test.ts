import { describe, expect, it } from 'vitest';
import { regionsOf, runDemo } from '../src/demo.ts';
import type { TraceRecord } from '../src/trace.ts';

const records: TraceRecord[] = Array.from({ length: 300 }, (_, i) => ({
  t: i * 1000,
  kind: i % 3 === 2 ? 'mmio' : 'pio',
  op: i % 2 === 0 ? 'w' : 'r',
  addr: i % 3 === 2 ? 0xfee000b0 : 0x70 + (i % 2),
  size: i % 3 === 2 ? 4 : 1,
  value: i % 2 === 0 ? i & 0xff : 0,
  mr: i % 3 === 2 ? 'apic-msi' : i % 2 === 0 ? 'rtc-index' : 'rtc',
}));

describe('demo', () => {
  it('delivers every access to the device host over both transports', async () => {
    const report = await runDemo('synthetic', records, ['direct', 'worker']);
    expect(report.runs.map((run) => run.transport)).toEqual(['direct', 'worker']);
    for (const run of report.runs) {
      expect(run.exits).toBe(300);
      expect(run.hostSaw).toEqual({ io: 200, mmio: 100, reads: 150 });
    }
    expect(report.runs[1]?.bytesSent).toBeGreaterThan(0);
    expect(report.spanMs).toBe(0.299);
  }, 30_000);

  it('groups accesses by region, busiest first', () => {
    expect(regionsOf(records)).toEqual([
      { region: 'rtc', reads: 100, writes: 0 },
      { region: 'rtc-index', reads: 0, writes: 100 },
      { region: 'apic-msi', reads: 50, writes: 50 },
    ].sort((a, b) => b.reads + b.writes - (a.reads + a.writes) || a.region.localeCompare(b.region)));
  });
});
