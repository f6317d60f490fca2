// Seed 001's picture of a run: rows H K M G, time left to right — each exit a column in every domain it crossed,
// a halt filling the row of the domain that waits, the window chosen by --timeline.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { RunTimeline } from '../src/timeline.ts';
import { renderTimeline, timelineWindow } from '../src/timeline.ts';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const splitvisor = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { encoding: 'utf8' });

/** An exit at `t` through `domains` (outward) and straight back. */
function exitAt(t: number, reason: 'io' | 'hlt', ...domains: ('monitor' | 'kernel' | 'user')[]) {
  const path = ['guest', ...domains] as const;
  const out = path.slice(1).map((to, i) => ({ time: t, from: path[i] ?? 'guest', to, reason, device: reason === 'io' ? 'pic' : null }));
  const back = [...path].reverse().slice(1).map((to, i) => ({ time: t, from: [...path].reverse()[i] ?? 'guest', to, reason: 'resume' as const, device: null }));
  return [...out, ...back];
}

describe('the timeline', () => {
  it('marks an exit in one column of each domain it crossed, and a halt in the domain that waits until the next crossing', () => {
    const timeline: RunTimeline = {
      fromNs: 0, toNs: 100, startsIn: 'guest', dropped: 0,
      events: [...exitAt(10, 'io', 'monitor', 'kernel', 'user'), ...exitAt(50, 'hlt', 'monitor', 'kernel'), ...exitAt(80, 'io', 'monitor')],
    };
    const [h, k, m, g] = renderTimeline(timeline, 10);
    // Ten columns of 10 ns: the exit at 10 ns in column 1, the halt at 50 ns waiting in the kernel to the exit at 80 ns.
    expect(h).toBe('H  H        ');
    expect(k).toBe('K  K   KKKK ');
    expect(m).toBe('M  M   M  M ');
    expect(g).toBe('G GGGGGG  GG');
  });

  it('parses a window of guest time and refuses one that ends before it starts', () => {
    expect(timelineWindow('0ms..2ms')).toEqual({ fromNs: 0, toNs: 2e6 });
    expect(timelineWindow('0.5ms..2.5ms')).toEqual({ fromNs: 0.5e6, toNs: 2.5e6 });
    expect(() => timelineWindow('3ms..1ms')).toThrow(/ends \(1ms\) before it starts \(3ms\)/);
    expect(() => timelineWindow('soon')).toThrow(/expected a window such as 0ms\.\.2ms/);
  });

  it('draws an idle Linux under kvm-irqchip waiting in the kernel between ticks', () => {
    const { stdout, status } = splitvisor('run', '--profile', 'kvm-irqchip', '--workload', 'linux-idle-pit', '--duration', '5ms', '--timeline', '1.5ms..4.5ms');
    expect(status).toBe(0);
    const lines = stdout.split('\n');
    const at = lines.findIndex((l) => l.startsWith('Timeline of the bootstrap processor'));
    const [h, k, m, g] = lines.slice(at + 1, at + 5);
    expect(h?.trim()).toBe('H'); // nothing in the device host: the in-kernel PIT and irqchip
    expect((k?.match(/K/g) ?? []).length).toBeGreaterThan(90); // halted in the kernel nearly all the time
    expect((g?.match(/G/g) ?? []).length).toBeGreaterThan(3); // the guest runs at each of the three ticks
    expect((m?.match(/M/g) ?? []).length).toBe((g?.match(/G/g) ?? []).length);
  }, 30_000);
});
