// Posted writes (KVM's ioeventfd, generalised; crosvm's one-way proxied writes): a write to a device in the device
// host goes one way and the guest runs on. What the guest sees must not change — its reads, its console, its
// progress — whether the device host answers in this thread (modelled) or in its worker (live), where the answer
// comes back while the guest runs; what changes is that the vCPU no longer waits for the write's completion.
import type { Placement } from '@splitvisor/placement';
import { createWorkload } from '@splitvisor/workloads';
import { describe, expect, it } from 'vitest';
import type { VmMode } from '../src/index.ts';
import { Vm } from '../src/index.ts';
import { placement } from './profiles.ts';
import { recording } from './recording-cpu.ts';
import { boardFor } from './workload-board.ts';

const RUN_NS = 20_000_000;

function withPosting(profile: string, postedWrites: Placement['io']['postedWrites']): Placement {
  const base = placement(profile);
  return { ...base, io: { ...base.io, postedWrites } };
}

async function run(workload: string, where: Placement, mode: VmMode = 'modelled') {
  const made = createWorkload(workload);
  const seen: number[] = [];
  const vm = new Vm(where, recording(made.guest, seen), { mode, board: boardFor(made) });
  try {
    vm.run(RUN_NS);
    const rows = vm.counts.rows();
    const count = (test: (r: (typeof rows)[number]) => boolean) => rows.filter(test).reduce((n, r) => n + r.count, 0);
    return {
      seen, progress: made.progress(), console: mode === 'modelled' ? vm.console() : '',
      heavyweight: count((r) => r.to === 'user' && r.from !== 'user'), posted: count((r) => r.reason === 'posted'),
      host: vm.hostActivity(),
    };
  } finally {
    await vm.close();
  }
}

/** `workload` under `profile` with its writes waited for and posted: the guest sees the same, and some were posted. */
async function bothWays(workload: string, profile: string) {
  const waited = await run(workload, withPosting(profile, false));
  const posted = await run(workload, withPosting(profile, true));
  expect(posted.seen).toEqual(waited.seen);
  expect(posted.progress).toEqual(waited.progress);
  expect(posted.console).toEqual(waited.console);
  expect(posted.posted).toBeGreaterThan(0);
  return { waited, posted };
}

describe('posted writes', () => {
  it.each(['serial-console', 'vga-text-console', 'keyboard-typing', 'ata-pio-write'])(
    '%s: the guest sees the same with its writes posted, each one a heavyweight exit fewer (in-kernel irqchip)',
    async (workload) => {
      const { waited, posted } = await bothWays(workload, 'kvm-irqchip');
      expect(waited.posted).toBe(0);
      expect(posted.heavyweight).toBe(waited.heavyweight - posted.posted);
      expect(posted.host?.posted).toBe(posted.posted); // the device host applied every one
    },
  );

  it.each(['serial-console', 'keyboard-typing'])('%s: with a userspace irqchip (nothing injected on a posted write\'s answer: the vCPU moved on), the guest sees the same', async (workload) => {
    await bothWays(workload, 'qemu-tcg');
  });

  it('reaches only the devices the placement names', async () => {
    const vgaOnly = await run('serial-console', withPosting('kvm-irqchip', ['vga']));
    expect(vgaOnly.posted).toBe(0);
    expect((await run('serial-console', withPosting('kvm-irqchip', ['serial']))).posted).toBeGreaterThan(0);
  });

  it('live, its answers coming back while the guest runs: the guest makes the same progress as when it waits', async () => {
    const waited = await run('serial-console', withPosting('kvm-irqchip', false), 'live');
    const posted = await run('serial-console', withPosting('kvm-irqchip', true), 'live');
    expect(posted.posted).toBeGreaterThan(0);
    expect(posted.progress).toEqual(waited.progress);
    expect(posted.seen).toEqual(waited.seen);
  }, 60_000);
});
