/**
 * Reading a trace file, plain or gzip (told apart by gzip's magic bytes):
 * streamed line by line (`readTrace`, `linesOf`) or read at once
 * (`readTraceSync`, for test set-up). Both parse with `TraceParser`, so a
 * file is accepted or refused the same way, with the same message. A
 * missing file is one line; a truncated gzip is reported, never silently cut
 * short.
 */
import { createReadStream, readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip, gunzipSync } from 'node:zlib';
import type { TraceRecord } from './record.ts';
import { TraceError, TraceParser, parseTrace } from './record.ts';

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const isGzipMagic = (bytes: Uint8Array) => bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;

async function isGzip(path: string): Promise<boolean> {
  const file = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(2), 0, 2, 0);
    return isGzipMagic(buffer.subarray(0, bytesRead));
  } finally {
    await file.close();
  }
}

/** The lines of a plain or gzip file; a read or decompression failure is reported as a truncated file. */
export async function* linesOf(path: string): AsyncGenerator<string> {
  let gzip: boolean;
  try {
    gzip = await isGzip(path);
  } catch (error) {
    throw new TraceError(`cannot read trace ${path}: ${describe(error)}`);
  }
  const file = createReadStream(path);
  const source: Readable = gzip ? file.pipe(createGunzip()) : file;
  let streamError: unknown;
  file.on('error', (error) => { streamError = error; source.destroy(error); });
  let count = 0;
  let binary = false;
  try {
    for await (const text of createInterface({ input: source, crlfDelay: Number.POSITIVE_INFINITY })) {
      count++;
      if (!isText(text)) {
        binary = true;
        break;
      }
      yield text;
    }
  } catch (error) {
    throw new TraceError(`${path}: unreadable after line ${count} (${describe(streamError ?? error)}); the file may be truncated`);
  } finally {
    source.destroy();
    file.destroy();
  }
  // Named, never printed: its bytes would garble the terminal.
  if (binary) throw new TraceError(`${path} is a binary file, not a trace (line ${count} holds bytes no text line has); a trace is QEMU's log lines or JSON Lines, plain or gzipped`);
}

/** Whether a line is text: no NUL or other C0 control but tab to carriage return, no DEL, nothing that was not UTF-8 (U+FFFD). */
export function isText(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if ((c < 0x20 && (c < 0x09 || c > 0x0d)) || c === 0x7f || c === 0xfffd) return false;
  }
  return true;
}

/** The records of a trace file, streamed. */
export async function readTrace(path: string): Promise<TraceRecord[]> {
  const parser = new TraceParser(path);
  for await (const text of linesOf(path)) parser.push(text);
  return parser.finish();
}

/** The records of a trace file, read at once (the same checks and messages as `readTrace`). */
export function readTraceSync(path: string): TraceRecord[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new TraceError(`cannot read trace ${path}: ${describe(error)}`);
  }
  let text: string;
  try {
    text = (isGzipMagic(bytes) ? gunzipSync(bytes) : bytes).toString('utf8');
  } catch (error) {
    throw new TraceError(`${path}: unreadable (${describe(error)}); the file may be truncated`);
  }
  return parseTrace(text, path);
}
