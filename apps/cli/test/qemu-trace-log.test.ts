import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseQemuTraceLog, readAnyTrace, readQemuTraceLog } from '../src/qemu-trace-log.ts';
import { TraceError, readTrace } from '@splitvisor/traces';

const trace = (name: string) => fileURLToPath(new URL(`../../../../shared/traces/${name}.jsonl.gz`, import.meta.url));

const dir = mkdtempSync(join(tmpdir(), 'splitvisor-qemu-log-'));
let n = 0;
function file(content: string | Buffer): string {
  const path = join(dir, `t${n++}.log`);
  writeFileSync(path, content);
  return path;
}

/** As QEMU 7.2's log backend writes them with -msg timestamp=on (the shared traces' raw form). */
const LOG = [
  "11658@1795259866.904361:memory_region_ops_write cpu 0 mr 0x5648a0 addr 0x70 value 0x8f size 1 name 'rtc-index'",
  "11658@1795259866.904382:memory_region_ops_read cpu 0 mr 0x5648a1 addr 0x71 value 0x0 size 1 name 'rtc'",
  "11658@1795259870.299776:memory_region_ops_write cpu 0 mr 0x5648a2 addr 0x3f8 value 0xc size 1 name 'serial'",
  // an interrupt message from the I/O APIC (a QEMU timer): not a guest access
  "11658@1795259870.300000:memory_region_ops_write cpu -1 mr 0x5648a3 addr 0xfee01004 value 0x30 size 4 name 'apic-msi'",
  "11658@1795259870.751232:memory_region_ops_write cpu 0 mr 0x5648a3 addr 0xfee00380 value 0xfffffff size 4 name 'apic-msi'",
  "11658@1795259870.751300:memory_region_ops_read cpu 0 mr 0x5648a4 addr 0xcfc value 0xffffffffffffffff size 2 name 'pci-conf-data'",
].join('\n');

describe("QEMU's trace log", () => {
  it('reads memory_region_ops lines into trace records, t in ns from the first', async () => {
    const { records, interruptMessages } = await parseQemuTraceLog(LOG.split('\n'));
    expect(interruptMessages).toBe(1);
    expect(records).toEqual([
      { t: 0, kind: 'pio', op: 'w', addr: 0x70, size: 1, value: 0x8f, mr: 'rtc-index' },
      { t: 21_000, kind: 'pio', op: 'r', addr: 0x71, size: 1, value: 0, mr: 'rtc' },
      { t: 3_395_415_000, kind: 'pio', op: 'w', addr: 0x3f8, size: 1, value: 12, mr: 'serial' },
      { t: 3_846_871_000, kind: 'mmio', op: 'w', addr: 0xfee0_0380, size: 4, value: 0x0fff_ffff, mr: 'apic-msi' },
      // the raw 64-bit value masked to what the guest receives
      { t: 3_846_939_000, kind: 'pio', op: 'r', addr: 0xcfc, size: 2, value: 0xffff, mr: 'pci-conf-data' },
    ]);
  });

  it('reads plain and gzip files alike, and tells them from JSON Lines', async () => {
    const plain = await readQemuTraceLog(file(LOG));
    expect(await readQemuTraceLog(file(gzipSync(LOG)))).toEqual(plain);
    expect((await readAnyTrace(file(gzipSync(LOG)))).records).toEqual(plain.records);
    const jsonl = file('{"t":0,"kind":"pio","op":"r","addr":113,"size":1,"value":0,"mr":"rtc"}\n');
    expect((await readAnyTrace(jsonl)).records).toEqual([{ t: 0, kind: 'pio', op: 'r', addr: 113, size: 1, value: 0, mr: 'rtc' }]);
  });

  it('accepts the ISO 8601 timestamp of later QEMU, and lines without a time', async () => {
    const { records } = await parseQemuTraceLog([
      "2025-01-02T03:04:05.000100Z memory_region_ops_read cpu 0 mr 0x1 addr 0x608 value 0x1234 size 4 name 'acpi-tmr'",
      "2025-01-02T03:04:05.002100Z memory_region_ops_read cpu 0 mr 0x1 addr 0xfed000f0 value 0x10 size 4 name 'hpet'",
      "memory_region_ops_read cpu 0 mr 0x1 addr 0xfed000f4 value 0x0 size 4 name 'hpet'",
    ]);
    expect(records.map((r) => [r.t, r.kind, r.addr])).toEqual([[0, 'pio', 0x608], [2_000_000, 'mmio', 0xfed0_00f0], [2_000_000, 'mmio', 0xfed0_00f4]]);
  });

  it('rebases a region-relative address and splits a 64-bit access into halves', async () => {
    const { records } = await parseQemuTraceLog([
      "1@100.000000:memory_region_ops_read cpu 0 mr 0x1 addr 0x0 value 0x0 size 1 name 'rtc'",
      "1@100.000001:memory_region_ops_read cpu 0 mr 0x1 addr 0xf0 value 0x100000002 size 8 name 'hpet'",
    ]);
    expect(records).toEqual([
      { t: 0, kind: 'pio', op: 'r', addr: 0x71, size: 1, value: 0, mr: 'rtc' },
      { t: 1000, kind: 'mmio', op: 'r', addr: 0xfed0_00f0, size: 4, value: 2, mr: 'hpet' },
      { t: 1000, kind: 'mmio', op: 'r', addr: 0xfed0_00f4, size: 4, value: 1, mr: 'hpet' },
    ]);
  });

  it('reads cpu_in/cpu_out lines, dropping one that repeats the access just logged', async () => {
    const { records, duplicatePortLines } = await parseQemuTraceLog([
      "7@10.000000:memory_region_ops_read cpu 0 mr 0x1 addr 0x61 value 0x20 size 1 name 'pcspk'",
      '7@10.000000:cpu_in addr 0x61(b) value 32',
      '7@10.000002:cpu_out addr 0x80(b) value 255',
      '7@10.000003:cpu_in addr 0xcfc(l) value 4294967295',
    ]);
    expect(duplicatePortLines).toBe(1);
    expect(records).toEqual([
      { t: 0, kind: 'pio', op: 'r', addr: 0x61, size: 1, value: 0x20, mr: 'pcspk' },
      { t: 2000, kind: 'pio', op: 'w', addr: 0x80, size: 1, value: 255, mr: 'cpu-io' },
      { t: 3000, kind: 'pio', op: 'r', addr: 0xcfc, size: 4, value: 0xffff_ffff, mr: 'cpu-io' },
    ]);
  });

  it('names the line of anything it does not recognise', async () => {
    const other = file(`${LOG}\n11658@1795259871.000000:kvm_run_exit cpu_index 0, reason 2\n`);
    await expect(readQemuTraceLog(other)).rejects.toThrow(`${other} line 7: not a memory_region_ops_read/write or cpu_in/out line`);
    await expect(parseQemuTraceLog(["1@1.000000:memory_region_ops_read cpu 0 mr 0x1 addr 0x70 value 0x0 size 3 name 'rtc'"])).rejects.toThrow(/line 1: access size 3/);
    await expect(parseQemuTraceLog([
      "1@2.000000:memory_region_ops_read cpu 0 mr 0x1 addr 0x71 value 0x0 size 1 name 'rtc'",
      "1@1.000000:memory_region_ops_read cpu 0 mr 0x1 addr 0x71 value 0x0 size 1 name 'rtc'",
    ])).rejects.toThrow(/line 2: time goes backwards/);
    await expect(parseQemuTraceLog([])).rejects.toThrow(TraceError);
  });

  it('reports a file cut short, plain or gzip, instead of returning part of it', async () => {
    const cut = LOG.slice(0, LOG.indexOf("name 'serial'") + 8);
    await expect(readQemuTraceLog(file(cut))).rejects.toThrow(/line 3: not a memory_region_ops/);
    const gz = gzipSync(LOG);
    await expect(readQemuTraceLog(file(gz.subarray(0, gz.length - 12)))).rejects.toThrow(/the file may be truncated/);
  });
});

/** The shared traces carry both `addr` and `mr`: written back as QEMU's log lines, they must read back the same. */
describe.skipIf(!existsSync(trace('seabios-post')))('the region table against the shared traces', () => {
  // linux-boot-vga has no region the other two lack.
  for (const name of ['seabios-post', 'linux-boot-serial']) {
    it(name, async () => {
      const records = await readTrace(trace(name));
      const start = 1_795_259_866_904_361; // µs, as a QEMU log line stamps it
      const lines = records.map((r) => {
        const us = start + r.t / 1000;
        const stamp = `11658@${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}`;
        return `${stamp}:memory_region_ops_${r.op === 'r' ? 'read' : 'write'} cpu 0 mr 0x5648a0 addr 0x${r.addr.toString(16)} value 0x${r.value.toString(16)} size ${r.size} name '${r.mr}'`;
      });
      expect((await parseQemuTraceLog(lines)).records).toEqual(records);
    }, 60_000);
  }
});
