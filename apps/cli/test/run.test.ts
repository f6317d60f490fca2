import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ProfileRun } from '../src/profile-run.ts';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const cwd = fileURLToPath(new URL('..', import.meta.url));
const splitvisor = (args: string[], input?: string) =>
  spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { cwd, encoding: 'utf8', ...(input === undefined ? {} : { input }) });

describe('splitvisor run', () => {
  it('reports one profile: exits by device and domain, overhead, interrupts and their latency, byte-identical when repeated', () => {
    const args = ['run', '--profile', 'kvm-split', '--workload', 'lapic-tick', '--duration', '20ms', '--json'];
    const first = splitvisor(args);
    const second = splitvisor(args);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toBe(second.stdout);
    const { run } = JSON.parse(first.stdout) as { run: ProfileRun };
    expect(run).toMatchObject({ profile: 'kvm-split', irqchip: 'split', mode: 'modelled', interrupts: 20 });
    expect(Object.keys(run.exitsByDevice.lapic ?? {})).toEqual(['kernel']); // the LAPIC stays in the kernel under split
    expect(Object.keys(run.crossingsByDevice.lapic ?? {})).toEqual(['monitor', 'kernel']);
    expect(run.interruptLatencyNs.count).toBe(20);
    const table = splitvisor(['run', '--profile', 'qemu-tcg', '--duration', '10ms']);
    expect(table.status).toBe(0);
    expect(table.stdout).toMatch(/Interrupt latency \(line rise → CPU takes it, guest ns\): p50 \d+/);
  }, 60_000);

  it('runs live with the device host in a worker, giving the guest what the modelled run gives it', () => {
    const live = splitvisor(['run', '--profile', 'qemu-tcg', '--duration', '10ms', '--live', '--json']);
    const modelled = splitvisor(['run', '--profile', 'qemu-tcg', '--duration', '10ms', '--json']);
    expect(live.status, live.stderr).toBe(0);
    const a = (JSON.parse(live.stdout) as { run: ProfileRun }).run;
    const b = (JSON.parse(modelled.stdout) as { run: ProfileRun }).run;
    // The latency is measured at the irqchip's CPU line, and the timers' lateness in their domain, which here live in
    // the worker: only the modelled run has them.
    const seen = (r: ProfileRun) => ({ ...r, mode: 'x', wallNs: undefined, interruptLatencyNs: undefined, timerLatenessNs: undefined });
    expect(seen(a)).toEqual(seen(b));
    expect(a.wallNs?.io?.count).toBeGreaterThan(0);
  }, 60_000);

  it('needs a profile, and a disk image that is there, and says so in one line', () => {
    for (const [args, pattern] of [
      [['run'], /--profile/],
      [['run', '--profile', 'kvm-irqchip', '--disk', 'no/such.img'], /^splitvisor: cannot open disk image no\/such\.img/],
    ] as const) {
      const run = splitvisor([...args]);
      expect(run.status).not.toBe(0);
      expect(run.stdout).toBe('');
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(pattern);
    }
  }, 30_000);
});

describe('splitvisor qtest', () => {
  it('programs the PIT for a periodic irq 0 and sees IRQ raise 0 after clock_step, as QEMU\'s qtest would print it', () => {
    const session = [
      'irq_intercept_in ioapic',
      'outb 0x43 0x34', // counter 0, LSB then MSB, mode 2
      'outb 0x40 0xa9',
      'outb 0x40 0x04', // 04A9h = 1193: 1 kHz
      // The count loads on the CLK pulse after its write and OUT rises as the first period ends, 1 + 1193 CLKs on:
      // 1.000686 ms (8254 datasheet; QEMU, counting from the write itself, raises it at 0.999847 ms).
      'clock_step 1001000',
      'clock_step',
      'inb 0x61',
      'frobnicate',
      'outb 0x40',
    ].join('\n');
    const run = splitvisor(['qtest', '--profile', 'kvm-irqchip'], `${session}\n`);
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines.slice(0, 4)).toEqual(['OK', 'OK', 'OK', 'OK']);
    const step = lines.indexOf('OK 1001000');
    expect(step).toBeGreaterThan(3);
    expect(lines.slice(4, step)).toContain('IRQ raise 0');
    expect(lines.some((l) => l.startsWith('FAIL Unknown command'))).toBe(true);
    expect(lines.at(-1)).toMatch(/^ERR/);
  }, 30_000);
});
