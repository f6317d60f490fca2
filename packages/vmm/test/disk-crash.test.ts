// Disk data is not lost (issue 18): a child process runs a write-heavy workload on a VM whose ATA disk is an image
// file — batches of writes, each ended with FLUSH CACHE — and is killed with SIGKILL at a moment chosen from the
// trial's seed (after the child has reported that many batches; the child runs on meanwhile, so the kill lands
// anywhere: mid-write, mid-flush, between batches). Then, for every sector of the image:
//   - one written before the last flush the child saw complete holds the last such write, unless a write after that
//     flush wrote it too, in which case it holds one of those later writes;
//   - one no write named holds the bytes the image was created with.
// Every sector's bytes name the write that put them there, so a torn or misplaced sector shows too. Seeds are fixed;
// the first failing trial's seed is printed.
//
// A SIGKILL loses what the process held — the drive's write cache — and nothing the kernel was given, so this checks
// that FLUSH CACHE has written the cache back before it completes (fsync, for a host crash, is the backend's and is
// tested there).
//
// Cost: starting a child under tsx loads every package through its loader (about a second of CPU each); the child
// is bundled once instead (esbuild, as tsx itself uses it), and a bundled child starts in a fraction of that.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JournalEntry } from './fixtures/disk-crash-plan.ts';
import { IMAGE_SECTORS, initialImage, initialSector, mix, plannedBatch, random, readJournal, writtenSector } from './fixtures/disk-crash-plan.ts';

const TRIALS = 50;
const BASE_SEED = 0x5eed_0018;
/** Batches a child runs if nobody kills it: far more than it reaches before the kill. */
const BATCHES = 2000;
/** The kill comes after the child's `ready` and up to this many batches' lines. */
const KILL_WITHIN = 40;
const CONCURRENCY = 2;

const dir = mkdtempSync(join(tmpdir(), 'splitvisor-crash-'));
const bundle = join(dir, 'disk-crash-child.mjs');

interface Esbuild {
  build(options: Record<string, unknown>): Promise<unknown>;
}

/** esbuild as tsx (this package's TypeScript loader) depends on it. */
async function esbuild(): Promise<Esbuild> {
  const fromTsx = createRequire(createRequire(import.meta.url).resolve('tsx/package.json'));
  return (await import(pathToFileURL(fromTsx.resolve('esbuild')).href)) as Esbuild;
}

beforeAll(async () => {
  await (await esbuild()).build({
    entryPoints: [fileURLToPath(new URL('fixtures/disk-crash-child.ts', import.meta.url))],
    bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: bundle, logLevel: 'error',
    // Packages that reach for `require` (through createRequire) find one in the bundle too.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  });
}, 60_000);

afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

interface Trial {
  readonly index: number;
  readonly seed: number;
  readonly killAfter: number;
  readonly killed: boolean;
  readonly journal: readonly JournalEntry[];
  readonly image: Uint8Array;
  readonly failure?: string;
}

async function runTrial(index: number): Promise<Trial> {
  const seed = mix(BASE_SEED, index);
  const killAfter = Math.floor(random(mix(seed, 0x4b11))() * (KILL_WITHIN + 1));
  const image = join(dir, `trial-${index}.img`);
  const journalPath = join(dir, `trial-${index}.journal`);
  writeFileSync(image, initialImage(seed));
  writeFileSync(journalPath, '');
  const child = spawn(process.execPath, [bundle, image, journalPath, String(seed), String(BATCHES)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let lines = 0;
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (text: string) => {
    // `ready`, then one line per flushed batch: the kill goes with line killAfter + 1.
    lines += text.split('\n').length - 1;
    if (lines > killAfter && child.exitCode === null) child.kill('SIGKILL');
  });
  child.stderr.on('data', (text: string) => { stderr += text; });
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  const killed = signal === 'SIGKILL';
  const failure = killed || code === 0 ? undefined : `the child failed (exit ${code}, ${signal}): ${stderr.trim()}`;
  return {
    index, seed, killAfter, killed, journal: readJournal(readFileSync(journalPath, 'utf8')), image: readFileSync(image),
    ...(failure === undefined ? {} : { failure }),
  };
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** What a sector's bytes say they are. */
function describeSector(bytes: Uint8Array): string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, 20);
  const word = (i: number) => view.getUint32(4 * i, true);
  if (word(0) === 0x5256_5753) return `batch ${word(2)} write ${word(3)}'s sector ${word(4)}`;
  if (word(0) === 0x4e49_5653) return `the image's first sector ${word(2)}`;
  return 'bytes of no write';
}

interface Verdict {
  readonly problems: readonly string[];
  readonly flushed: number;
  /** Sectors holding a write made after the last flush (written back early, or by a flush the kill cut short). */
  readonly newerThanFlush: number;
}

/** The promise, sector by sector, for what the journal says the child did. */
function verdict(trial: Trial): Verdict {
  const { seed, journal } = trial;
  const announced = Math.max(-1, ...journal.flatMap((e) => (e.kind === 'batch' ? [e.k] : [])));
  const flushed = Math.max(-1, ...journal.flatMap((e) => (e.kind === 'flushed' ? [e.k] : [])));
  const problems: string[] = [];
  if (journal.some((e) => e.kind === 'done') && flushed !== BATCHES - 1) problems.push(`done after ${flushed + 1} of ${BATCHES} batches`);
  /** Per sector: the write that holds it as of the last flush (undefined: the image's own), and the writes after. */
  const durable = new Map<number, Uint8Array>();
  const later = new Map<number, Uint8Array[]>();
  for (let k = 0; k <= announced; k++) {
    plannedBatch(seed, k).writes.forEach((write, j) => {
      for (let lba = write.lba; lba < write.lba + write.count; lba++) {
        const bytes = writtenSector(seed, k, j, lba);
        if (k <= flushed) durable.set(lba, bytes);
        else later.set(lba, [...(later.get(lba) ?? []), bytes]);
      }
    });
  }
  let newerThanFlush = 0;
  for (let lba = 0; lba < IMAGE_SECTORS; lba++) {
    const actual = trial.image.subarray(lba * 512, (lba + 1) * 512);
    const atFlush = durable.get(lba) ?? initialSector(seed, lba);
    if (equal(actual, atFlush)) continue;
    if ((later.get(lba) ?? []).some((bytes) => equal(actual, bytes))) {
      newerThanFlush++;
      continue;
    }
    const since = later.get(lba)?.length ?? 0;
    problems.push(`sector ${lba} holds ${describeSector(actual)}; as of the flush of batch ${flushed} it was ${describeSector(atFlush)}`
      + (since === 0 ? '' : `, or one of ${since} later writes`));
  }
  return { problems, flushed, newerThanFlush };
}

describe('a VM killed with SIGKILL while writing to its disk image', () => {
  it(`keeps every sector written before the last completed flush, and changes no sector the guest did not write (${TRIALS} trials)`, async () => {
    const trials: Trial[] = [];
    let next = 0;
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < TRIALS) trials.push(await runTrial(next++));
    }));
    trials.sort((a, b) => a.index - b.index);
    const verdicts = trials.map((trial) => ({ trial, ...verdict(trial) }));
    const killed = trials.filter((t) => t.killed).length;
    const flushedAtKill = verdicts.filter((v) => v.trial.killed).map((v) => v.flushed + 1);
    console.log(`${TRIALS} trials, ${killed} killed: batches flushed before the kill ${Math.min(...flushedAtKill)}–${Math.max(...flushedAtKill)} `
      + `(${flushedAtKill.filter((n) => n === 0).length} before the first flush); ${verdicts.reduce((n, v) => n + v.newerThanFlush, 0)} sectors `
      + `held a write newer than the last flush (cache written back early, or a flush cut short)`);
    for (const v of verdicts) {
      const { trial } = v;
      const where = `trial ${trial.index} (seed ${trial.seed.toString(16)}h, kill after line ${trial.killAfter}, ${v.flushed + 1} batches flushed)`;
      expect(trial.failure, where).toBeUndefined();
      expect(v.problems.slice(0, 5), where).toEqual([]);
    }
    // The kill, not the end of the workload, stopped (nearly) every child: each trial tests a crash.
    expect(killed).toBeGreaterThanOrEqual(TRIALS - 2);
  }, 120_000);
});
