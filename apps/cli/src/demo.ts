/**
 * The end-to-end demo, until the monitor and the devices land: replay a
 * recorded trace's accesses as kvm_run exits across the boundary to a device
 * host without devices, once per transport, and measure what the crossings
 * cost. Every figure it prints is measured in this run.
 */
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Message } from '@splitvisor/abi';
import type { ChannelEnd } from '@splitvisor/channel';
import { createDirectChannel, spawnWorkerChannel } from '@splitvisor/channel';
import { TALLY_DEVICE, emptyDeviceHost } from './empty-devhost.ts';
import type { TraceRecord } from './trace.ts';
import { exitOf } from './trace.ts';

export type TransportName = 'direct' | 'worker';

export interface RegionRow {
  readonly region: string;
  readonly reads: number;
  readonly writes: number;
}

export interface TransportRun {
  readonly transport: TransportName;
  readonly exits: number;
  readonly wallMs: number;
  readonly usPerExit: number;
  /** Frame bytes the kernel side wrote to the ring (0 for direct, which passes objects). */
  readonly bytesSent: number;
  /** What the device host counted: equals the trace's accesses when nothing was lost. */
  readonly hostSaw: { readonly io: number; readonly mmio: number; readonly reads: number };
}

export interface DemoReport {
  readonly trace: string;
  readonly accesses: number;
  readonly spanMs: number;
  readonly regions: readonly RegionRow[];
  readonly runs: readonly TransportRun[];
}

/** The worker entry beside this module: built `.js` in dist, `.ts` when run from source. */
function devhostEntry(): URL {
  const built = new URL('./devhost-worker.js', import.meta.url);
  return existsSync(built) ? built : new URL('./devhost-worker.ts', import.meta.url);
}

export function regionsOf(records: readonly TraceRecord[]): RegionRow[] {
  const rows = new Map<string, { reads: number; writes: number }>();
  for (const record of records) {
    const row = rows.get(record.mr) ?? { reads: 0, writes: 0 };
    if (record.op === 'r') row.reads++;
    else row.writes++;
    rows.set(record.mr, row);
  }
  return [...rows].map(([region, row]) => ({ region, ...row }))
    .sort((a, b) => b.reads + b.writes - (a.reads + a.writes) || a.region.localeCompare(b.region));
}

function replay(end: ChannelEnd, exits: readonly Message[]): number {
  const start = performance.now();
  for (const exit of exits) {
    const reply = end.call(exit);
    if (reply.kind !== 'run') throw new Error(`device host answered an exit with ${reply.kind}`);
  }
  return performance.now() - start;
}

function tally(end: ChannelEnd): TransportRun['hostSaw'] {
  const reply = end.call({ kind: 'get-device-state', device: TALLY_DEVICE });
  if (reply.kind !== 'device-state') throw new Error(`device host answered the tally with ${reply.kind}`);
  const { io, mmio, reads } = reply.state;
  return { io: Number(io), mmio: Number(mmio), reads: Number(reads) };
}

async function runOn(transport: TransportName, exits: readonly Message[]): Promise<TransportRun> {
  let end: ChannelEnd;
  let shutdown: () => Promise<unknown>;
  if (transport === 'direct') {
    const [kernel, devhost] = createDirectChannel({ names: ['kernel', 'devhost'], codec: true });
    devhost.setHandler(emptyDeviceHost());
    end = kernel;
    shutdown = () => {
      kernel.close();
      return Promise.resolve();
    };
  } else {
    const channel = spawnWorkerChannel(devhostEntry(), { name: 'kernel', peer: 'devhost' });
    end = channel.end;
    shutdown = () => channel.shutdown();
    // Wait for the worker to be up, so thread start-up is not charged to the first exit.
    tally(end);
  }
  try {
    const wallMs = replay(end, exits);
    return {
      transport, exits: exits.length, wallMs, usPerExit: (wallMs * 1000) / exits.length,
      bytesSent: end.stats.bytesSent, hostSaw: tally(end),
    };
  } finally {
    await shutdown();
  }
}

export async function runDemo(trace: string, records: readonly TraceRecord[], transports: readonly TransportName[]): Promise<DemoReport> {
  const exits = records.map((record) => exitOf(record));
  const runs: TransportRun[] = [];
  for (const transport of transports) runs.push(await runOn(transport, exits));
  const first = records[0]?.t ?? 0;
  const last = records[records.length - 1]?.t ?? 0;
  return { trace, accesses: records.length, spanMs: (last - first) / 1e6, regions: regionsOf(records), runs };
}

export function printDemo(report: DemoReport): void {
  console.log(`splitvisor demo — ${report.accesses} recorded accesses (${report.spanMs.toFixed(0)} ms of guest time) from ${report.trace}`);
  console.log('Each access is sent as a kvm_run exit to a device host with no devices yet (reads answer all-ones),');
  console.log('so this measures the boundary alone: the heavyweight exit every access would cost in userspace.\n');
  console.log('Accesses by QEMU region (the devices the next issues model):');
  console.table(report.regions.slice(0, 12).map((r) => ({ region: r.region, reads: r.reads, writes: r.writes })));
  console.log('Boundary crossings, measured now on this machine:');
  console.table(report.runs.map((run) => ({
    transport: run.transport,
    exits: run.exits,
    'wall ms': Number(run.wallMs.toFixed(1)),
    'µs per exit': Number(run.usPerExit.toFixed(2)),
    'ring bytes sent': run.bytesSent,
    'host saw (io+mmio)': run.hostSaw.io + run.hostSaw.mmio,
  })));
}
