import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { exitOf, readTrace } from '../src/trace.ts';

const dir = mkdtempSync(join(tmpdir(), 'splitvisor-trace-'));
let n = 0;
function file(content: string | Buffer): string {
  const path = join(dir, `t${n++}.jsonl`);
  writeFileSync(path, content);
  return path;
}

const lines = [
  '{"t":0,"kind":"pio","op":"w","addr":112,"size":1,"value":143,"mr":"rtc-index"}',
  '{"t":7000,"kind":"pio","op":"r","addr":113,"size":1,"value":0,"mr":"rtc"}',
  '{"t":9000,"kind":"mmio","op":"w","addr":4276092928,"size":4,"value":305419896,"mr":"apic-msi"}',
].join('\n');

describe('trace reading', () => {
  it('reads plain and gzip files alike', async () => {
    const plain = await readTrace(file(lines));
    expect(plain).toHaveLength(3);
    expect(await readTrace(file(gzipSync(lines)))).toEqual(plain);
  });

  it('names the file and line of a malformed record', async () => {
    const bad = file(`${lines}\n{"t":9000,"kind":"pio","op":"x","addr":1,"size":1,"value":0,"mr":"io"}`);
    await expect(readTrace(bad)).rejects.toThrow(`${bad} line 4: not a trace record: op:`);
    const notJson = file('{"t":0,\n');
    await expect(readTrace(notJson)).rejects.toThrow(`${notJson} line 1: not JSON`);
    const wide = file('{"t":0,"kind":"pio","op":"w","addr":96,"size":1,"value":256,"mr":"i8042"}');
    await expect(readTrace(wide)).rejects.toThrow(/line 1: not a trace record: value: value is wider than size/);
    const backwards = file(`${lines}\n{"t":1,"kind":"pio","op":"r","addr":113,"size":1,"value":0,"mr":"rtc"}`);
    await expect(readTrace(backwards)).rejects.toThrow(/line 4: t goes backwards/);
  });

  it('reports a truncated gzip instead of returning part of it', async () => {
    const whole = gzipSync(lines);
    const cut = file(whole.subarray(0, whole.length - 12));
    await expect(readTrace(cut)).rejects.toThrow(/may be truncated/);
  });

  it('reports a missing or empty file in one line', async () => {
    await expect(readTrace(join(dir, 'nonesuch'))).rejects.toThrow(/cannot read trace .*nonesuch: ENOENT/);
    await expect(readTrace(file(''))).rejects.toThrow(/no trace records/);
  });

  it('turns an access into the exit it would cause', () => {
    expect(exitOf({ t: 5, kind: 'pio', op: 'w', addr: 0x70, size: 1, value: 0x8f, mr: 'rtc-index' })).toEqual({
      kind: 'io', vcpu: 0, time: 5, ifFlag: false, readyForInterruptInjection: false,
      direction: 'out', port: 0x70, size: 1, count: 1, data: Uint8Array.of(0x8f),
    });
    expect(exitOf({ t: 6, kind: 'mmio', op: 'w', addr: 0xfee000b0, size: 4, value: 0x12345678, mr: 'apic-msi' })).toMatchObject({
      kind: 'mmio', address: 0xfee000b0, length: 4, isWrite: true, data: Uint8Array.of(0x78, 0x56, 0x34, 0x12),
    });
    expect(exitOf({ t: 7, kind: 'pio', op: 'r', addr: 0x71, size: 1, value: 0, mr: 'rtc' })).toMatchObject({
      direction: 'in', data: new Uint8Array(0),
    });
  });
});
