// A VMM built for one placement: each domain's bundle holds only the devices placed there — proved from the
// bundles themselves (what the bundler says it put in each, and the chips' class names in the code), not from
// the manifest the build wrote; the built VMM runs as `splitvisor run` does; the same sources and placement
// give byte-identical bundles; a bad profile or placement file is one line and leaves nothing behind.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle, BuiltVmm } from '../src/build-vmm.ts';
import { BUNDLES, buildVmm, inputsOf } from '../src/build-vmm.ts';
import { choosePlacement, profileAsFile } from '../src/placement-file.ts';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const cwd = fileURLToPath(new URL('..', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'splitvisor-build-'));
const built = new Map<string, BuiltVmm>();

function splitvisor(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { cwd, encoding: 'utf8' });
}

/** The device models' packages, and the irqchip's chips by their files. */
const DEVICE_CODE: Record<string, RegExp> = {
  'pit': /\/pit\/dist\//,
  'rtc': /\/rtc\/dist\//,
  'serial': /\/serial\/dist\//,
  'vga': /\/vga\/dist\//,
  'keyboard': /\/keyboard\/dist\//,
  'floppy': /\/floppy\/dist\//,
  'dma': /\/dma\/dist\//,
  'disk': /\/disk\/dist\//,
  'counters': /\/counters\/dist\//,
  'debugcon': /\/debugcon\/dist\//,
  'port92': /\/port92\/dist\//,
  'fw-cfg': /\/fw-cfg\/dist\//,
  'pci': /\/pci\/dist\//,
  'parallel': /\/parallel\/dist\//,
  '8259': /\/irqchip\/dist\/i8259\//,
  'ioapic': /\/irqchip\/dist\/ioapic\/ioapic\.js$/,
  'lapic': /\/irqchip\/dist\/lapic\/local-apic\.js$/,
};

/** The device code the bundler put in `bundle` of `profile`'s build. */
function deviceCodeIn(profile: string, bundle: Bundle): string[] {
  const inputs = inputsOf(built.get(profile)?.metafiles[bundle] ?? { inputs: {}, outputs: {} });
  return Object.entries(DEVICE_CODE).filter(([, file]) => inputs.some((input) => file.test(input))).map(([name]) => name);
}

/** The chips' class names in the bundle's code (kept: the build keeps names). */
function classesIn(profile: string, bundle: Bundle): string[] {
  const code = readFileSync(join(out, profile, bundle), 'utf8');
  return ['I8254', 'PicPair', 'Ioapic', 'LocalApic', 'Vga', 'Mc146818', 'Ns16550a', 'I82077aa'].filter((name) => code.includes(`"${name}"`));
}

beforeAll(async () => {
  for (const profile of ['kvm-split', 'qemu-tcg', 'all-kernel']) built.set(profile, await buildVmm(choosePlacement(profile), { out }));
}, 120_000);

afterAll(() => {
  rmSync(out, { recursive: true, force: true });
});

describe('a VMM built for one placement', () => {
  it('kvm-split: the kernel holds the local APIC and no PIT, 8259, I/O APIC or VGA; the device host holds those', () => {
    expect(deviceCodeIn('kvm-split', 'kernel.js')).toEqual(['lapic']);
    expect(classesIn('kvm-split', 'kernel.js')).toEqual(['LocalApic']);
    expect(deviceCodeIn('kvm-split', 'devhost.js')).toEqual(expect.arrayContaining(['pit', '8259', 'ioapic', 'vga']));
    expect(deviceCodeIn('kvm-split', 'devhost.js')).not.toContain('lapic');
    expect(deviceCodeIn('kvm-split', 'monitor.js')).toEqual([]);
  });

  it('qemu-tcg: the kernel holds no device model; every one is in the device host', () => {
    expect(deviceCodeIn('qemu-tcg', 'kernel.js')).toEqual([]);
    expect(classesIn('qemu-tcg', 'kernel.js')).toEqual([]);
    expect(deviceCodeIn('qemu-tcg', 'devhost.js')).toEqual(Object.keys(DEVICE_CODE));
    expect(deviceCodeIn('qemu-tcg', 'devhost-worker.js')).toEqual([]); // the worker runs devhost.js beside it
  });

  it('all-kernel: every device in the kernel, none in the monitor or the device host', () => {
    expect(deviceCodeIn('all-kernel', 'kernel.js')).toEqual(Object.keys(DEVICE_CODE));
    expect(classesIn('all-kernel', 'kernel.js')).toHaveLength(8);
    expect(deviceCodeIn('all-kernel', 'monitor.js')).toEqual([]);
    expect(deviceCodeIn('all-kernel', 'devhost.js')).toEqual([]);
  });

  it('keeps every device model out of the monitor\'s process, whatever the placement', () => {
    for (const profile of built.keys()) {
      expect(deviceCodeIn(profile, 'vmm.js')).toEqual([]);
      expect(classesIn(profile, 'vmm.js')).toEqual([]);
    }
  });

  it('writes a manifest that agrees with the files: sizes and SHA-256 of each bundle, devices per domain, versions', () => {
    const { manifest, dir } = built.get('kvm-split') ?? expect.unreachable();
    expect(manifest.bundles.map((b) => b.file)).toEqual(BUNDLES);
    for (const bundle of manifest.bundles) {
      const bytes = readFileSync(join(dir, bundle.file));
      expect(bundle.bytes).toBe(bytes.length);
      expect(bundle.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(manifest.devices).toEqual({ kernel: ['lapic'], monitor: [], devhost: ['pic', 'ioapic', 'pit', 'pm-timer', 'hpet', 'rtc', 'keyboard', 'vga', 'floppy', 'dma', 'disk', 'serial', 'debugcon', 'port92', 'fw-cfg', 'pci', 'parallel', 'cdrom'] });
    expect(manifest.packages['@splitvisor/irqchip']).toMatch(/^\d+\.\d+\.\d+$/);
    expect(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'))).toEqual(manifest);
  });

  it('matches the README\'s bundle-size table within 10 %', () => {
    const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');
    for (const [profile, { manifest }] of built) {
      const row = new RegExp(`^\\| ${profile} \\| [a-z-]+ \\| ([\\d.]+) \\| ([\\d.]+) \\| ([\\d.]+) \\|$`, 'm').exec(readme);
      expect(row, profile).not.toBeNull();
      (['kernel.js', 'monitor.js', 'devhost.js'] as const).forEach((file, i) => {
        const kib = (manifest.bundles.find((b) => b.file === file)?.bytes ?? 0) / 1024;
        expect(Math.abs(Number(row?.[i + 1]) - kib) / kib, `${profile} ${file}: README ${row?.[i + 1]} KiB, built ${kib.toFixed(1)} KiB`).toBeLessThan(0.1);
      });
    }
  });

  it('builds byte-identical bundles from the same sources and placement', async () => {
    const again = mkdtempSync(join(tmpdir(), 'splitvisor-build-again-'));
    try {
      const second = await buildVmm(choosePlacement('kvm-split'), { out: again });
      for (const file of [...BUNDLES, 'manifest.json']) {
        expect(readFileSync(join(second.dir, file)).equals(readFileSync(join(out, 'kvm-split', file))), file).toBe(true);
      }
    } finally {
      rmSync(again, { recursive: true, force: true });
    }
  }, 60_000);

  it.each(['kvm-split', 'qemu-tcg'])('%s: node vmm.js --json prints what splitvisor run --profile prints', (profile) => {
    const args = ['--workload', 'serial-console', '--duration', '20ms', '--json'];
    const vmm = spawnSync(process.execPath, [join(out, profile, 'vmm.js'), ...args], { encoding: 'utf8' });
    const cli = splitvisor('run', '--profile', profile, ...args);
    expect(vmm.stderr).toBe('');
    expect(vmm.status).toBe(0);
    expect(cli.status).toBe(0);
    expect(vmm.stdout).toBe(cli.stdout);
    expect(JSON.parse(vmm.stdout)).toMatchObject({ run: { profile, heavyweightExits: expect.any(Number) } });
  }, 60_000);

  it('runs live with its device host bundle in a worker', () => {
    const vmm = spawnSync(process.execPath, [join(out, 'kvm-split', 'vmm.js'), '--workload', 'serial-console', '--duration', '5ms', '--live', '--json'], { encoding: 'utf8' });
    expect(vmm.stderr).toBe('');
    expect(vmm.status).toBe(0);
    const { run } = JSON.parse(vmm.stdout) as { run: { mode: string; heavyweightExits: number; wallNs: Record<string, unknown> } };
    expect(run.mode).toBe('live');
    expect(run.heavyweightExits).toBeGreaterThan(0);
    expect(Object.keys(run.wallNs).length).toBeGreaterThan(0);
  }, 60_000);
});

describe('splitvisor build, given bad input', () => {
  it.each([
    [['--profile', 'no-such-profile'], /^splitvisor: unknown profile "no-such-profile"/, 'no-such-profile'],
    [['--placement', 'BAD'], /^splitvisor: .*bad\.json: /, 'bad'],
    [['--placement', 'STRAY'], /^splitvisor: stray: rtc in the kernel cannot raise its irq line into an 8259 and I\/O APIC in userspace$/, 'stray'],
  ])('%j: one line, a non-zero exit, nothing left behind', (flags, message, name) => {
    const dir = mkdtempSync(join(tmpdir(), 'splitvisor-build-bad-'));
    try {
      const bad = join(dir, 'bad.json');
      writeFileSync(bad, '{ "name": "bad", "devices": { "pit": "nowhere" } }');
      // Valid as a file, but not wireable: a device in the kernel with the split irqchip's 8259 and I/O APIC in userspace.
      const stray = join(dir, 'stray.json');
      const file = JSON.parse(profileAsFile('kvm-split')) as { name: string; devices: Record<string, string> };
      writeFileSync(stray, JSON.stringify({ ...file, name: 'stray', devices: { ...file.devices, rtc: 'kernel' } }));
      const target = join(dir, 'out');
      const result = splitvisor('build', ...flags.map((f) => (f === 'BAD' ? bad : f === 'STRAY' ? stray : f)), '--out', target);
      expect(result.status).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(message)]);
      const left = (() => { try { return readdirSync(target); } catch { return []; } })();
      expect(left).toEqual([]);
      expect(left).not.toContain(name);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
