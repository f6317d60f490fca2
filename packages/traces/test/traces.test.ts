import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { TraceError, isText, parseTrace, readTrace, readTraceSync } from '../src/index.ts';

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

/** Both ways of reading a file, which must agree on every file: streamed and at once. */
const readers = [
  ['streamed', readTrace],
  ['at once', (path: string) => Promise.resolve().then(() => readTraceSync(path))],
] as const;

describe.each(readers)('trace reading (%s)', (_how, read) => {
  it('reads plain and gzip files alike', async () => {
    const plain = await read(file(lines));
    expect(plain).toHaveLength(3);
    expect(await read(file(gzipSync(lines)))).toEqual(plain);
    expect(await read(file(`${lines}\n`))).toEqual(plain);
  });

  it('names the file and line of a malformed record', async () => {
    const bad = file(`${lines}\n{"t":9000,"kind":"pio","op":"x","addr":1,"size":1,"value":0,"mr":"io"}`);
    await expect(read(bad)).rejects.toThrow(`${bad} line 4: not a trace record: op:`);
    const notJson = file('{"t":0,\n');
    await expect(read(notJson)).rejects.toThrow(`${notJson} line 1: not JSON`);
    const wide = file('{"t":0,"kind":"pio","op":"w","addr":96,"size":1,"value":256,"mr":"i8042"}');
    await expect(read(wide)).rejects.toThrow(/line 1: not a trace record: value: value is wider than size/);
    const backwards = file(`${lines}\n{"t":1,"kind":"pio","op":"r","addr":113,"size":1,"value":0,"mr":"rtc"}`);
    await expect(read(backwards)).rejects.toThrow(/line 4: t goes backwards/);
  });

  it('reports a truncated gzip instead of returning part of it', async () => {
    const whole = gzipSync(lines);
    const cut = file(whole.subarray(0, whole.length - 12));
    await expect(read(cut)).rejects.toThrow(/may be truncated/);
  });

  it('reports a missing or empty file in one line', async () => {
    await expect(read(join(dir, 'nonesuch'))).rejects.toThrow(/cannot read trace .*nonesuch: ENOENT/);
    await expect(read(file(''))).rejects.toThrow(/no trace records/);
    await expect(read(join(dir, 'nonesuch'))).rejects.toBeInstanceOf(TraceError);
  });
});

describe('parseTrace', () => {
  it('counts blank lines in the line numbers it reports, as the file has them', () => {
    expect(parseTrace(`\n${lines}\n\n`)).toHaveLength(3);
    expect(() => parseTrace(`\n\n{"t":0}`, 'x.jsonl')).toThrow(/^x\.jsonl line 3: not a trace record/);
  });
});

describe('a binary file given as a trace', () => {
  it('is named as such, plain or gzipped, without its bytes in the message', async () => {
    const bytes = Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 37 + 11) & 0xff));
    for (const path of [file(bytes), file(gzipSync(bytes))]) {
      const refused = await readTrace(path).then(() => undefined, (error: unknown) => error);
      expect(refused).toBeInstanceOf(TraceError);
      const message = (refused as TraceError).message;
      expect(message).toMatch(/is a binary file, not a trace/);
      expect(isText(message)).toBe(true);
    }
  });
});
