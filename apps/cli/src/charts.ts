/**
 * The report's charts, drawn by Vega-Lite (compiled to Vega, rendered to SVG
 * in this process: no browser, no network). Each chart is one question:
 * where each device's exits were handled, what each placement costs, how
 * late each timer ran, where a vCPU's time went, and an experiment's curves.
 */
import * as vega from 'vega';
import type { TopLevelSpec } from 'vega-lite';
import { compile } from 'vega-lite';
import type { ResultRun } from './result-file.ts';
import type { RunTimeline } from './timeline.ts';
import { TIMELINE_ROWS, stays } from './timeline.ts';

export interface Chart {
  /** What the chart answers. */
  readonly title: string;
  /** Its id in the page (the browser test finds each chart by it). */
  readonly id: string;
  /** How many marks (bars, rectangles, points) it draws for its input. */
  readonly marks: number;
  readonly svg: string;
}

const DOMAIN_COLOURS = { domain: ['monitor', 'kernel', 'user', 'kicks to user'], range: ['#4c78a8', '#54a24b', '#e45756', '#f2a65a'] };

async function render(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  return view.toSVG();
}

/** Each run's exits by device and the domain that handled them, the device host's kicks stacked on: one bar segment per cell. */
export async function exitsChart(runs: readonly Pick<ResultRun, 'profile' | 'exitsByDevice' | 'kicksByDevice'>[], id: string): Promise<Chart> {
  const values = runs.flatMap((run) => [
    ...Object.entries(run.exitsByDevice).flatMap(([device, cell]) => Object.entries(cell).map(([domain, exits]) => ({ profile: run.profile, device, domain, exits }))),
    ...Object.entries(run.kicksByDevice).flatMap(([device, cell]) => (cell.user === undefined ? [] : [{ profile: run.profile, device, domain: 'kicks to user', exits: cell.user }])),
  ]).filter((v) => v.exits > 0);
  const svg = await render({
    data: { values },
    facet: { column: { field: 'profile', type: 'nominal', title: null, sort: runs.map((r) => r.profile) } },
    spec: {
      width: 150, height: 180,
      mark: 'bar',
      encoding: {
        x: { field: 'device', type: 'nominal', title: null },
        y: { field: 'exits', type: 'quantitative', title: 'exits' },
        color: { field: 'domain', type: 'nominal', scale: DOMAIN_COLOURS, title: 'handled in' },
      },
    },
  });
  return { title: 'Exits by device, each once, by the domain that handled it (and the device host\'s kicks)', id, marks: values.length, svg };
}

/** Each run's modelled overhead: one bar a run. */
export async function overheadChart(runs: readonly Pick<ResultRun, 'profile' | 'overheadCycles' | 'costModel' | 'overheadPercent'>[], id: string): Promise<Chart> {
  const values = runs.map((run) => ({ profile: run.profile, cycles: run.overheadCycles, model: run.costModel, percent: run.overheadPercent }));
  const svg = await render({
    data: { values },
    width: Math.max(200, 60 * runs.length), height: 180,
    mark: 'bar',
    encoding: {
      x: { field: 'profile', type: 'nominal', sort: null, title: null },
      y: { field: 'cycles', type: 'quantitative', title: 'modelled overhead cycles' },
      color: { field: 'model', type: 'nominal', title: 'cost model' },
    },
  });
  return { title: 'Modelled overhead per placement (cycles of the run, in each run\'s cost model)', id, marks: values.length, svg };
}

/** Each timer's lateness under each run as its histogram: one bar per bucket that holds a timer run, by how late. */
export async function latenessChart(runs: readonly ResultRun[], id: string): Promise<Chart | undefined> {
  const values = runs.flatMap((run) => Object.entries(run.timerLatenessNs).flatMap(([device, p]) => p.bins.map(([fromNs, count]) => ({ profile: run.profile, device, late: fromNs === 0 ? 'on time' : `≥ ${fromNs.toLocaleString('en-US')} ns`, fromNs, count }))));
  // Every timer run at its deadline: nothing to draw (the page says so).
  if (values.every((v) => v.fromNs === 0)) return undefined;
  const order = [...new Set([...values].sort((a, b) => a.fromNs - b.fromNs).map((v) => v.late))];
  const svg = await render({
    data: { values },
    facet: { row: { field: 'device', type: 'nominal', title: null }, column: { field: 'profile', type: 'nominal', title: null, sort: runs.map((r) => r.profile) } },
    spec: {
      width: 180, height: 120,
      mark: 'bar',
      encoding: {
        x: { field: 'late', type: 'ordinal', sort: order, title: 'late by' },
        y: { field: 'count', type: 'quantitative', title: 'timer runs' },
      },
    },
  });
  return { title: 'Timer lateness histograms: how late each timer ran after its deadline (guest ns), by device and placement', id, marks: values.length, svg };
}

/** A run's window as seed 001 draws it: a row per domain, each stay a bar from when it began to when it ended. */
export async function timelineChart(profile: string, timeline: RunTimeline, id: string): Promise<Chart> {
  const span = timeline.toNs - timeline.fromNs;
  const letters = new Map(TIMELINE_ROWS.map(([domain, letter, name]) => [domain, `${letter} ${name}`]));
  // An exit is an instant of guest time: drawn a five-hundredth of the window wide, so that it shows.
  const values = stays(timeline).map((s) => ({ row: letters.get(s.domain) ?? s.domain, from: s.fromNs / 1e6, to: Math.max(s.toNs, s.fromNs + span / 500) / 1e6 }));
  const svg = await render({
    data: { values },
    width: 720, height: 120,
    mark: 'bar',
    encoding: {
      y: { field: 'row', type: 'nominal', sort: TIMELINE_ROWS.map(([domain]) => letters.get(domain) ?? domain), title: null },
      x: { field: 'from', type: 'quantitative', title: 'guest time, ms', scale: { domain: [timeline.fromNs / 1e6, timeline.toNs / 1e6] } },
      x2: { field: 'to' },
      color: { field: 'row', type: 'nominal', legend: null },
    },
  });
  return { title: `Timeline of ${profile}'s bootstrap processor, ${timeline.fromNs / 1e6}–${timeline.toNs / 1e6} ms (H device host, K kernel, M monitor, G guest)`, id, marks: values.length, svg };
}

/**
 * An experiment's table whose first column is a number: each of its other
 * numeric columns that varies as a line over it, one line per value of its
 * text columns (a strategy, a policy).
 */
export async function experimentChart(title: string, rows: readonly Readonly<Record<string, string | number>>[], id: string): Promise<Chart | undefined> {
  const columns = Object.keys(rows[0] ?? {});
  const [x, ...rest] = columns;
  if (x === undefined || rows.length < 2 || !rows.every((r) => typeof r[x] === 'number')) return undefined;
  const numeric = rest.filter((c) => rows.every((r) => typeof r[c] === 'number'));
  const series = numeric.filter((c) => new Set(rows.map((r) => r[c])).size > 1);
  const groups = rest.filter((c) => !numeric.includes(c));
  if (series.length === 0) return undefined;
  const values = rows.flatMap((r) => {
    const group = groups.map((g) => String(r[g])).join(', ');
    return series.map((s) => ({ x: r[x], series: group === '' ? s : `${s} (${group})`, value: r[s] }));
  });
  const svg = await render({
    data: { values },
    width: 480, height: 220,
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: x },
      y: { field: 'value', type: 'quantitative', title: null },
      color: { field: 'series', type: 'nominal', title: null },
    },
  });
  return { title, id, marks: values.length, svg };
}
