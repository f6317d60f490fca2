/**
 * Recorded guest I/O in the JSON Lines format of shared/traces (gzip or
 * plain): one access a line, `{"t","kind","op","addr","size","value","mr"}`.
 * A line that is not such a record stops the read with one error naming the
 * file and line; a truncated gzip is reported, never silently cut short.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Exit } from '@splitvisor/abi';
import { z } from 'zod';

const TraceRecord = z.strictObject({
  /** ns since the first record (host wall clock at 1 µs resolution; see the traces README). */
  t: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  kind: z.enum(['pio', 'mmio']),
  op: z.enum(['r', 'w']),
  addr: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  size: z.union([z.literal(1), z.literal(2), z.literal(4)]),
  value: z.number().int().nonnegative().max(0xffff_ffff),
  /** QEMU's MemoryRegion name; `io` is an unassigned port. */
  mr: z.string(),
}).refine((r) => r.kind !== 'pio' || r.addr <= 0xffff, { message: 'a port number is at most 0xffff', path: ['addr'] })
  .refine((r) => r.value < 2 ** (8 * r.size), { message: 'value is wider than size', path: ['value'] });

export type TraceRecord = z.infer<typeof TraceRecord>;

/** A user's trace file could not be used; the message is the one line to print. */
export class TraceError extends Error {
  override readonly name = 'TraceError';
}

async function isGzip(path: string): Promise<boolean> {
  const file = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await file.close();
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
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
  try {
    for await (const text of createInterface({ input: source, crlfDelay: Number.POSITIVE_INFINITY })) {
      count++;
      yield text;
    }
  } catch (error) {
    throw new TraceError(`${path}: unreadable after line ${count} (${describe(streamError ?? error)}); the file may be truncated`);
  } finally {
    source.destroy();
    file.destroy();
  }
}

export async function readTrace(path: string): Promise<TraceRecord[]> {
  const records: TraceRecord[] = [];
  let line = 0;
  let last = 0;
  for await (const text of linesOf(path)) {
    line++;
    if (text.trim() === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new TraceError(`${path} line ${line}: not JSON`);
    }
    const parsed = TraceRecord.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue === undefined || issue.path.length === 0 ? '' : `${issue.path.join('.')}: `;
      throw new TraceError(`${path} line ${line}: not a trace record: ${where}${issue?.message ?? 'invalid'}`);
    }
    if (parsed.data.t < last) throw new TraceError(`${path} line ${line}: t goes backwards (${parsed.data.t} after ${last})`);
    last = parsed.data.t;
    records.push(parsed.data);
  }
  if (records.length === 0) throw new TraceError(`${path}: no trace records`);
  return records;
}

/**
 * The exit a recorded access would cause if its device sat in the device
 * host. A trace does not record the guest's IF flag, so the header says
 * neither IF nor ready-for-injection.
 */
export function exitOf(record: TraceRecord, vcpu = 0): Exit {
  const header = { vcpu, time: record.t, ifFlag: false, readyForInterruptInjection: false };
  const write = record.op === 'w';
  const data = new Uint8Array(write ? record.size : 0);
  if (write) for (let i = 0, v = record.value; i < record.size; i++, v = Math.floor(v / 256)) data[i] = v & 0xff;
  return record.kind === 'pio'
    ? { kind: 'io', ...header, direction: write ? 'out' : 'in', port: record.addr, size: record.size, count: 1, data }
    : { kind: 'mmio', ...header, address: record.addr, length: record.size, isWrite: write, data };
}
