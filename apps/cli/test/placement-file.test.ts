// A placement is configuration: `profiles --show NAME` prints a profile as a file, the user edits it, and every
// command that takes --profile takes --placement FILE; a bad file is one line naming the file, the field and the
// problem, a non-zero exit, and nothing on stdout.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const cwd = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'splitvisor-placement-'));

function splitvisor(...args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { cwd, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `profiles --show NAME`, parsed, edited by `edit`, written to a file of its own. */
type ShownPlacement = { name: string; devices: Record<string, string>; lostTicks?: Record<string, string> };

function placementFile(name: string, file: string, edit: (placement: ShownPlacement) => void = () => undefined): string {
  const shown = splitvisor('profiles', '--show', name);
  expect(shown.status).toBe(0);
  const placement = JSON.parse(shown.stdout) as ShownPlacement;
  edit(placement);
  const path = join(dir, file);
  writeFileSync(path, JSON.stringify(placement, null, 2));
  return path;
}

const RUN = ['--workload', 'linux-idle-pit', '--duration', '20ms', '--json'];

describe('a placement file', () => {
  it('round-trips: a profile shown as a file runs exactly as the profile does', () => {
    const file = placementFile('kvm-split', 'kvm-split.json');
    const byFile = splitvisor('run', '--placement', file, ...RUN);
    const byName = splitvisor('run', '--profile', 'kvm-split', ...RUN);
    expect(byFile.status).toBe(0);
    expect(byFile.stdout).toBe(byName.stdout);
  }, 60_000);

  it('runs an edited placement: the PIT moved to userspace costs what kvm-userspace-pit costs', () => {
    const file = placementFile('kvm-irqchip', 'pit-in-user.json', (p) => {
      p.name = 'my-pit-in-user';
      p.devices.pit = 'user';
      delete p.lostTicks; // QEMU's own 8254 has no reinjection: it takes the hardware's policy
    });
    const mine = JSON.parse(splitvisor('run', '--placement', file, ...RUN).stdout) as { run: { profile: string; exitsByDevice: unknown; heavyweightExits: number } };
    const theirs = JSON.parse(splitvisor('run', '--profile', 'kvm-userspace-pit', ...RUN).stdout) as { run: { exitsByDevice: unknown; heavyweightExits: number } };
    expect(mine.run.profile).toBe('my-pit-in-user');
    expect(mine.run.exitsByDevice).toEqual(theirs.run.exitsByDevice);
    expect(mine.run.heavyweightExits).toBe(theirs.run.heavyweightExits);
    expect(mine.run.heavyweightExits).toBeGreaterThan(0);
    const compared = JSON.parse(splitvisor('compare', '--placement', file, ...RUN).stdout) as { runs: { profile: string }[] };
    expect(compared.runs.map((r) => r.profile)).toEqual(['my-pit-in-user']); // only the file when no --profiles are given
  }, 90_000);

  it('refuses a bad file with one line naming the file, the field and the problem, and writes nothing', () => {
    const invalid = placementFile('kvm-irqchip', 'invalid.json', (p) => { p.devices.pit = 'hypervisor'; });
    // Moved out of the kernel, the PIT keeps KVM's reinjection, which needs the irqchip's ack notifier.
    const paced = placementFile('kvm-irqchip', 'paced.json', (p) => { p.devices.pit = 'user'; });
    const noTimer = placementFile('kvm-irqchip', 'no-timer.json', (p) => { p.lostTicks = { serial: 'delay' }; });
    const unknownPolicy = placementFile('kvm-irqchip', 'unknown-policy.json', (p) => { p.lostTicks = { rtc: 'delay' }; });
    const tickless = placementFile('kvm-irqchip', 'tickless.json', (p) => { Object.assign(p, { delivery: { kind: 'host-tick', hz: 0 } }); });
    const notJson = join(dir, 'not.json');
    writeFileSync(notJson, '{ "name": ');
    const cases: [string[], RegExp][] = [
      [['run', '--placement', join(dir, 'missing.json'), ...RUN], /^splitvisor: cannot read placement file .*missing\.json: ENOENT/],
      [['run', '--placement', notJson, ...RUN], /^splitvisor: .*not\.json: not JSON/],
      [['run', '--placement', invalid, ...RUN], /^splitvisor: .*invalid\.json: devices\.pit: /],
      [['run', '--profile', 'kvm-irqchip', '--placement', invalid, ...RUN], /^splitvisor: give --profile NAME or --placement FILE, not both/],
      [['run', ...RUN], /^splitvisor: give --profile NAME .* or --placement FILE/],
      [['compare', '--placement', invalid, ...RUN], /^splitvisor: .*invalid\.json: devices\.pit: /],
      [['replay', 'no-trace-needed.jsonl', '--placement', invalid], /^splitvisor: .*invalid\.json: devices\.pit: /],
      [['profiles', '--show', 'no-such-profile'], /^splitvisor: unknown profile "no-such-profile"/],
      [['run', '--placement', paced, ...RUN], /^splitvisor: .*paced\.json: lostTicks\.pit: delay paces ticks by the irqchip's ack notifier, .* this pit is in user$/],
      [['run', '--placement', noTimer, ...RUN], /^splitvisor: .*no-timer\.json: lostTicks\.serial: serial has no periodic timer \(lost-tick policies are for pit, rtc, hpet, lapic\)$/],
      [['run', '--placement', tickless, ...RUN], /^splitvisor: .*tickless\.json: delivery\.hz: Too small: expected number to be >=1$/],
      [['run', '--placement', unknownPolicy, ...RUN], /^splitvisor: .*unknown-policy\.json: lostTicks\.rtc: unknown policy "delay" \(rtc takes discard, slew\)$/],
    ];
    for (const [args, message] of cases) {
      const { status, stdout, stderr } = splitvisor(...args);
      expect(status, args.join(' ')).not.toBe(0);
      expect(stdout, args.join(' ')).toBe('');
      expect(stderr.trim().split('\n'), args.join(' ')).toEqual([expect.stringMatching(message)]);
    }
  }, 120_000);
});
