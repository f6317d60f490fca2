/**
 * A run's window drawn as seed 001 draws one (`../shared/seeds/001_*.txt`):
 * a row per domain — H the device host (the host's userspace), K the kernel,
 * M the monitor, G the guest — and time left to right, each column a slice
 * of the window marked in every domain the vCPU was in during it. An exit
 * is over in an instant of guest time, so it shows as one column in each
 * domain it crossed; a halt fills the row of the domain that waits, up to
 * the vCPU's next crossing.
 */
import type { TimelineEvent } from '@splitvisor/metrics';
import { InvalidArgumentError } from 'commander';
import { duration } from './run-flags.ts';

type Domain = TimelineEvent['to'];

export interface RunTimeline {
  readonly fromNs: number;
  readonly toNs: number;
  /** Where the vCPU was when the window opened. */
  readonly startsIn: Domain;
  /** When it opened halted, the domain that waits. */
  readonly startsHaltedIn?: Domain | undefined;
  /** The window's crossings, in order (a result file's reasons are plain strings). */
  readonly events: readonly (Omit<TimelineEvent, 'reason'> & { readonly reason: string })[];
  /** Crossings in the window past the ones kept. */
  readonly dropped: number;
}

const ROWS: readonly (readonly [Domain, string, string])[] = [['user', 'H', 'device host'], ['kernel', 'K', 'kernel'], ['monitor', 'M', 'monitor'], ['guest', 'G', 'guest']];

/** `0ms..2ms` → the window in ns (`..2ms`: from the start). */
export function timelineWindow(value: string): { fromNs: number; toNs: number } {
  const match = /^(.*?)\.\.(.+)$/.exec(value);
  if (match === null) throw new InvalidArgumentError('expected a window such as 0ms..2ms');
  const fromNs = /^0*(?:\.0*)?(?:ns|us|µs|ms|s)?$/.test(match[1] ?? '') ? 0 : duration(match[1] ?? '');
  const toNs = duration(match[2] ?? '');
  if (toNs <= fromNs) throw new InvalidArgumentError(`the window ends (${match[2] ?? ''}) before it starts (${match[1] ?? ''})`);
  return { fromNs, toNs };
}

function ms(ns: number): string {
  return `${Number((ns / 1e6).toPrecision(4))}ms`;
}

/** A stay of the vCPU in one domain, from `fromNs` to `toNs` (equal for an exit's instant). */
export interface Stay {
  readonly domain: Domain;
  readonly fromNs: number;
  readonly toNs: number;
}

/**
 * Where the vCPU was through the window. A halt's crossings are over in an
 * instant and the vCPU then waits, out of the guest, in the innermost domain
 * it reached, until its next crossing (the wake-up itself crosses nothing).
 */
export function stays(timeline: RunTimeline): Stay[] {
  const found: Stay[] = [];
  let at = timeline.startsIn;
  let since = timeline.fromNs;
  let halted: { readonly in: Domain; readonly at: number } | undefined = timeline.startsHaltedIn === undefined ? undefined : { in: timeline.startsHaltedIn, at: -1 };
  for (const event of timeline.events) {
    if (halted !== undefined && event.time > halted.at) {
      found.push({ domain: halted.in, fromNs: since, toNs: event.time });
      halted = undefined;
    } else found.push({ domain: at, fromNs: since, toNs: event.time });
    if (event.reason === 'hlt') halted = { in: event.to, at: event.time };
    at = event.to;
    since = event.time;
  }
  found.push({ domain: halted?.in ?? at, fromNs: since, toNs: timeline.toNs });
  return found;
}

/** The letter and the name of each domain's row, outermost first. */
export const TIMELINE_ROWS = ROWS;

/** The timeline's lines: the four rows, an axis, a legend. */
export function renderTimeline(timeline: RunTimeline, width = 100): string[] {
  const { fromNs, toNs } = timeline;
  const span = toNs - fromNs;
  const column = (t: number) => Math.min(width - 1, Math.max(0, Math.floor(((t - fromNs) / span) * width)));
  const marks = new Map<Domain, boolean[]>(ROWS.map(([domain]) => [domain, new Array<boolean>(width).fill(false)]));
  for (const stay of stays(timeline)) {
    const row = marks.get(stay.domain);
    if (row === undefined) continue;
    for (let c = column(stay.fromNs); c <= column(stay.toNs); c++) row[c] = true;
  }
  const lines = ROWS.map(([domain, letter]) => `${letter} ${(marks.get(domain) ?? []).map((on) => (on ? letter : ' ')).join('')}`);
  const axis = new Array<string>(width).fill('─');
  for (let c = 0; c < width; c += 25) axis[c] = '┬';
  lines.push(`  ${axis.join('')}`);
  const labels = new Array<string>(width + 2).fill(' ');
  for (let c = 0; c < width; c += 25) {
    const label = ms(fromNs + (span * c) / width);
    for (let i = 0; i < label.length && c + 2 + i < labels.length; i++) labels[c + 2 + i] = label[i] ?? ' ';
  }
  lines.push(`${labels.join('').trimEnd()}  (→ ${ms(toNs)})`);
  const byKind = new Map<string, number>();
  for (const e of timeline.events) {
    if (e.to === 'guest' || e.reason === 'resume') continue;
    const key = `${e.from}→${e.to} ${e.reason}${e.device === null ? '' : ` ${e.device}`}`;
    byKind.set(key, (byKind.get(key) ?? 0) + 1);
  }
  lines.push(`${ROWS.map(([, letter, name]) => `${letter} ${name}`).join(', ')}; one column is ${ms(span / width)}.`);
  lines.push(`Outward crossings in the window: ${[...byKind].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k} ×${n}`).join(', ') || 'none'}${timeline.dropped > 0 ? ` (and ${timeline.dropped} crossings past the first ${timeline.events.length} not drawn)` : ''}`);
  return lines;
}
