// The HTML report in a real browser: Debian's chromium, headless, opens the page `splitvisor report` wrote from
// a comparison, a run with a timeline and an experiment — no console error, every chart an SVG of non-zero size
// with as many bars and lines as its input has — and saves a screenshot (.vitest/report.png). A result of another
// version, a cut-short file or something else is refused in one line, and no page is written.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResultFile } from '../src/result-file.ts';
import { resultSchema } from '../src/result-file.ts';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const artifacts = fileURLToPath(new URL('../.vitest/', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const dir = mkdtempSync(join(tmpdir(), 'splitvisor-report-'));
const splitvisor = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });

/** A command's --json output, kept as a result file. */
function result(name: string, ...args: string[]): { file: string; json: ResultFile } {
  const run = splitvisor(...args, '--json');
  if (run.status !== 0) throw new Error(`${args.join(' ')}: ${run.stderr}`);
  const file = join(dir, `${name}.json`);
  writeFileSync(file, run.stdout);
  return { file, json: JSON.parse(run.stdout) as ResultFile };
}

let compare: ReturnType<typeof result>;
let timeline: ReturnType<typeof result>;
let experiment: ReturnType<typeof result>;
let replay: ReturnType<typeof result>;
const SEABIOS = fileURLToPath(new URL('../../../../shared/traces/seabios-post.jsonl.gz', import.meta.url));
const page = join(dir, 'report.html');

beforeAll(() => {
  // plex86 with events delivered at a 300 Hz host tick: its PIT runs late, so the lateness histograms have bars.
  const plex86 = JSON.parse(splitvisor('profiles', '--show', 'plex86').stdout) as Record<string, unknown>;
  const hostTick = join(dir, 'host-tick.json');
  writeFileSync(hostTick, JSON.stringify({ ...plex86, name: 'plex86-host-tick', delivery: { kind: 'host-tick', hz: 300 } }));
  compare = result('compare', 'compare', '--profiles', 'kvm-irqchip,kvm-userspace-pit,kvm-split', '--placement', hostTick, '--workload', 'linux-idle-pit', '--duration', '20ms');
  timeline = result('run', 'run', '--profile', 'kvm-userspace-pit', '--workload', 'linux-idle-pit', '--duration', '5ms', '--timeline', '0ms..3ms');
  experiment = result('experiment', 'experiment', 'xen-vtimer', '--duration', '50ms');
  replay = result('replay', 'replay', SEABIOS, '--profile', 'kvm-irqchip', '--disk', 'blank', '--floppy', 'blank', '--limit', '3000');
  const report = splitvisor('report', compare.file, timeline.file, replay.file, experiment.file, '-o', page);
  if (report.status !== 0) throw new Error(report.stderr);
}, 120_000);

afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

/** The little of the browser's DOM the test reads (the package's types are node's, not the DOM's). */
interface PageElement {
  readonly id: string;
  querySelector(selector: string): { getBoundingClientRect(): { readonly width: number; readonly height: number } } | null;
  querySelectorAll(selector: string): { readonly length: number };
}

/** Runs in the page: each figure's id, its SVG's drawn size, and its bars and lines. */
function measureCharts(): { id: string; width: number; height: number; bars: number; lines: number }[] {
  const { document } = globalThis as unknown as { document: { querySelectorAll(selector: string): Iterable<PageElement> } };
  return [...document.querySelectorAll('figure')].map((f) => {
    const box = f.querySelector('svg')?.getBoundingClientRect();
    return { id: f.id, width: box?.width ?? 0, height: box?.height ?? 0, bars: f.querySelectorAll('g.mark-rect path').length, lines: f.querySelectorAll('g.mark-line path').length };
  });
}

/** Bars a run's exits chart draws: one per device and domain that handled any, and one per device with kicks. */
function exitBars(runs: readonly { exitsByDevice: Record<string, Record<string, number>>; kicksByDevice: Record<string, Record<string, number>> }[]): number {
  return runs.reduce((n, r) => n + Object.values(r.exitsByDevice).flatMap((c) => Object.values(c)).filter((v) => v > 0).length
    + Object.values(r.kicksByDevice).filter((c) => (c.user ?? 0) > 0).length, 0);
}

describe('the HTML report', () => {
  it('is one self-contained page: nothing fetched, no script', () => {
    const html = readFileSync(page, 'utf8');
    expect(html).not.toMatch(/<script|<link|@import|src="http|href="http/);
    expect(html).toMatch(/^<!doctype html>/);
  });

  it('looks right in chromium: no console error, every chart drawn with the bars and lines its input has', async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is not installed (.ci/run installs Debian's chromium with apt-get)`).toBe(true);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox'] });
    try {
      const tab = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors: string[] = [];
      tab.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
      tab.on('pageerror', (error) => { errors.push(String(error)); });
      await tab.goto(pathToFileURL(page).href);
      const charts = await tab.evaluate(measureCharts);
      mkdirSync(artifacts, { recursive: true });
      await tab.screenshot({ path: join(artifacts, 'report.png'), fullPage: true });
      expect(errors).toEqual([]);
      for (const chart of charts) {
        expect(chart.width, chart.id).toBeGreaterThan(100);
        expect(chart.height, chart.id).toBeGreaterThan(50);
      }
      const kinds = (what: string) => charts.filter((c) => c.id.endsWith(`-${what}`));
      if (compare.json.kind !== 'compare' || timeline.json.kind !== 'run' || replay.json.kind !== 'replay' || experiment.json.kind !== 'experiment') throw new Error('unexpected result kinds');
      const [compareExits, runExits, replayExits] = kinds('exits');
      expect(compareExits?.bars).toBe(exitBars(compare.json.runs));
      expect(runExits?.bars).toBe(exitBars([timeline.json.run]));
      expect(replayExits?.bars).toBe(exitBars([replay.json]));
      expect(kinds('overhead').map((c) => c.bars)).toEqual([4, 1]);
      // One bar per histogram bucket of every timer under every placement.
      expect(kinds('lateness').map((c) => c.bars)).toEqual([compare.json.runs.reduce((n, r) => n + Object.values(r.timerLatenessNs).reduce((m, p) => m + p.bins.length, 0), 0)]);
      expect(kinds('timeline')).toHaveLength(1);
      expect(kinds('timeline')[0]?.bars).toBeGreaterThan(timeline.json.run.timeline?.events.length === undefined ? 0 : 3);
      // The sweep: one line per varying numeric column and strategy.
      const sweep = experiment.json.tables.find((t) => t.title.startsWith('The sweep'));
      const strategies = new Set(sweep?.rows.map((r) => r.strategy)).size;
      const varying = Object.keys(sweep?.rows[0] ?? {}).slice(1).filter((c) => sweep?.rows.every((r) => typeof r[c] === 'number') === true && new Set(sweep.rows.map((r) => r[c])).size > 1).length;
      expect(kinds('experiment').map((c) => c.lines)).toContain(varying * strategies);
    } finally {
      await browser.close();
    }
  }, 120_000);

  it('is drawn from the format its JSON Schema (generated from the zod types, versioned) describes', () => {
    const committed = JSON.parse(readFileSync(fileURLToPath(new URL('../schema/result-v1.json', import.meta.url)), 'utf8')) as unknown;
    expect(committed).toEqual(resultSchema());
    expect(compare.json).toMatchObject({ format: 'splitvisor-result', version: 1, kind: 'compare' });
  });
});

describe('splitvisor report, given bad input', () => {
  it.each([
    ['a result of another version', (text: string) => text.replace('"version": 1', '"version": 2'), /: a result of format version 2; this splitvisor reads version 1$/],
    ['a cut-short file', (text: string) => text.slice(0, text.length / 2), /: not JSON, or cut short \(/],
    ['a file that is not a result', () => '{"hello": "world"}', /: not a splitvisor result \(what run, compare, replay or experiment print with --json\)$/],
    ['a result missing its runs', (text: string) => text.replace('"runs"', '"rums"'), /: runs: /],
  ])('refuses %s in one line, writing no page', (_what, spoil, message) => {
    const bad = join(dir, `bad-${_what.replace(/\W+/g, '-')}.json`);
    writeFileSync(bad, spoil(readFileSync(compare.file, 'utf8')));
    const out = join(dir, `bad-${_what.replace(/\W+/g, '-')}.html`);
    const run = splitvisor('report', compare.file, bad, '-o', out);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^splitvisor: ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}${message.source.replace(/^\^/, '')}`))]);
    expect(existsSync(out)).toBe(false);
  }, 30_000);
});
