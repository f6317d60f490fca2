/**
 * `splitvisor report` and `--html FILE`: one self-contained HTML page — no
 * script, no font, nothing fetched — with the charts as inline SVG and the
 * numbers beside them as tables. The page is written to a temporary name
 * beside the target and renamed into place, so a failed report leaves no
 * half-written file.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Chart } from './charts.ts';
import { exitsChart, experimentChart, latenessChart, overheadChart, timelineChart } from './charts.ts';
import type { ResultRun } from './result-file.ts';
import { ResultFile } from './result-file.ts';

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #1d1d1f; padding: 0 1rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; } h3 { font-size: 1rem; }
figure { margin: 1rem 0; overflow-x: auto; } figcaption { color: #555; margin-bottom: .4rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid #ddd; padding: .25rem .6rem; text-align: right; } th:first-child, td:first-child { text-align: left; }
.note { color: #555; }`;

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function htmlTable(rows: readonly Readonly<Record<string, string | number>>[]): string {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: string | number | undefined) => escape(typeof v === 'number' ? v.toLocaleString('en-US', { maximumFractionDigits: 3 }) : v ?? '');
  return `<table><thead><tr>${columns.map((c) => `<th>${escape(c)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${columns.map((c) => `<td>${cell(r[c])}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

function figure(chart: Chart): string {
  return `<figure id="${chart.id}" data-marks="${chart.marks}"><figcaption>${escape(chart.title)}</figcaption>${chart.svg}</figure>`;
}

function runsTable(runs: readonly ResultRun[]): string {
  return htmlTable(runs.map((r) => ({
    profile: r.profile, irqchip: r.irqchip, 'cost model': r.costModel, exits: r.exits, 'into kernel': r.lightweightExits, 'into user': r.heavyweightExits,
    'overhead cycles': r.overheadCycles, '% of guest time': Number(r.overheadPercent.toFixed(3)),
    'irq latency p50 / p99 ns': r.interruptLatencyNs.count === 0 ? 'n/a' : `${r.interruptLatencyNs.p50} / ${r.interruptLatencyNs.p99}`,
  })));
}

/** A workload as a heading names it: with the parameters and guest time it was given, when the result records them (a sweep's comparisons differ in nothing else). */
function workloadLabel(workload: { readonly workload: string; readonly parameters?: unknown; readonly durationNs?: unknown; readonly costModel?: unknown }): string {
  const given = typeof workload.parameters === 'object' && workload.parameters !== null ? Object.entries(workload.parameters).map(([name, value]) => ` ${name}=${String(value)}`).join('') : '';
  const time = typeof workload.durationNs === 'number' ? `, ${workload.durationNs / 1e6} ms` : '';
  const model = typeof workload.costModel === 'string' ? `, cost model ${workload.costModel}` : '';
  return `${workload.workload}${given}${time}${model}`;
}

/** The report's sections for `results`, in the order given; every chart's id is unique in the page. */
async function sections(results: readonly { readonly file: string; readonly result: ResultFile }[]): Promise<string[]> {
  const out: string[] = [];
  let n = 0;
  const id = (what: string) => `chart-${++n}-${what}`;
  for (const { file, result } of results) {
    if (result.kind === 'experiment') {
      out.push(`<h2>experiment ${escape(result.experiment)}</h2><p class="note">From ${escape(result.seed)} (${escape(file)})</p>`);
      for (const table of result.tables) {
        const chart = await experimentChart(table.title, table.rows, id('experiment'));
        out.push(`<h3>${escape(table.title)}</h3>${chart === undefined ? '' : figure(chart)}${htmlTable(table.rows)}`);
      }
      continue;
    }
    if (result.kind === 'replay') {
      out.push(`<h2>replay of ${escape(result.trace)} under ${escape(result.profile)}</h2><p class="note">${escape(file)}</p>`);
      out.push(htmlTable([{ profile: result.profile, irqchip: result.irqchip, 'cost model': result.costModel, exits: result.exits, 'into kernel': result.lightweightExits, 'into user': result.heavyweightExits, 'overhead cycles': result.overheadCycles, '% of guest time': result.overheadPercent }]));
      out.push(figure(await exitsChart([result], id('exits'))));
      out.push('<h3>Fidelity: reads identical to QEMU\'s, by device</h3>', htmlTable(result.fidelity.map((f) => ({ device: f.device, region: f.mr, reads: f.reads, identical: f.identical, mismatches: f.mismatches, '% identical': f.identicalPercent }))));
      continue;
    }
    const runs = result.kind === 'run' ? [result.run] : result.runs;
    const title = result.kind === 'run' ? `run — ${result.run.profile}` : `compare — ${runs.map((r) => r.profile).join(', ')}`;
    out.push(`<h2>${escape(title)}, workload ${escape(workloadLabel(result.workload))}</h2><p class="note">${escape(file)}</p>`, runsTable(runs));
    out.push(figure(await exitsChart(runs, id('exits'))), figure(await overheadChart(runs, id('overhead'))));
    const lateness = await latenessChart(runs, id('lateness'));
    if (lateness !== undefined) out.push(figure(lateness));
    else if (runs.some((r) => Object.keys(r.timerLatenessNs).length > 0)) out.push('<p class="note">Every timer ran at its deadline (no lateness to draw).</p>');
    for (const run of runs) if (run.timeline !== undefined) out.push(figure(await timelineChart(run.profile, run.timeline, id('timeline'))));
  }
  return out;
}

/** The page for `results`. */
export async function reportHtml(results: readonly { readonly file: string; readonly result: ResultFile }[]): Promise<string> {
  const body = await sections(results);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>splitvisor report</title><style>${STYLE}</style></head>
<body><h1>splitvisor report</h1>
<p class="note">Where each device's exits are handled under each placement, and what they cost. Exits are counted once, by the domain that handled them; kicks are crossings into the device host with no exit of their own.</p>
${body.join('\n')}
</body></html>
`;
}

/** `--html FILE`: a command's result drawn as a page, through the same checks `report` makes of a file; its path said (on stderr beside JSON). */
export async function writeResultHtml(flags: { readonly html?: string; readonly json?: boolean }, result: object): Promise<void> {
  if (flags.html === undefined) return;
  const checked = ResultFile.parse(JSON.parse(JSON.stringify(result)));
  const path = await writeReport([{ file: `splitvisor ${process.argv.slice(2).join(' ')}`, result: checked }], flags.html);
  (flags.json === true ? console.error : console.log)(`HTML report: ${path}`);
}

/** Writes the page for `results` to `file`, whole or not at all; returns its absolute path. */
export async function writeReport(results: readonly { readonly file: string; readonly result: ResultFile }[], file: string): Promise<string> {
  const html = await reportHtml(results);
  const target = resolve(file);
  mkdirSync(dirname(target), { recursive: true });
  const temporary = `${target}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, html);
    renameSync(temporary, target);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
  return target;
}
