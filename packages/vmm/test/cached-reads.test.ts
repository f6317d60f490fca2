// Seed 003's coupled in-port cache — and every I/O fast path at once — with the correctness bar they must meet:
// for every workload and every shared trace, the guest reads
// exactly the same bytes, in the same order, with `io.cachedReads` on as with it off — the kernel answers a
// status register from the value the device host published only while nothing could have changed it (no host
// timer due since, no write that could change it waiting in the coalesced ring). What it saves is heavyweight
// exits, counted here per workload.
import { fileURLToPath } from 'node:url';
import type { Placement } from '@splitvisor/placement';
import { IdleCpu } from '@splitvisor/scripted-guest';
import { readTraceSync } from '@splitvisor/traces';
import { WORKLOAD_DEFINITIONS, createWorkload } from '@splitvisor/workloads';
import { describe, expect, it } from 'vitest';
import { Vm } from '../src/index.ts';
import { boardFor } from './workload-board.ts';
import { placement } from './profiles.ts';
import { recording } from './recording-cpu.ts';

const RUN_NS = 10_000_000;

/** Every I/O fast path at once: the coalesced ring, the cache, kernel counters, the devices' programs and posted writes. */
const ALL: Placement['io'] = { coalescedWrites: true, cachedReads: true, kernelCounters: true, programs: true, postedWrites: true };
const NONE: Placement['io'] = { coalescedWrites: false, cachedReads: false, kernelCounters: false, programs: false, postedWrites: false };

function run(workload: string, profile: string, cachedReads: boolean, io?: Placement['io']) {
  const base = placement(profile);
  const where: Placement = { ...base, io: io ?? { ...base.io, cachedReads } };
  const made = createWorkload(workload);
  const seen: number[] = [];
  const vm = new Vm(where, recording(made.guest, seen), { board: boardFor(made), ...(made.aps === undefined ? {} : { aps: made.aps }) });
  vm.run(RUN_NS);
  const heavyweight = vm.counts.rows().filter((r) => r.to === 'user' && r.from !== 'user').reduce((n, r) => n + r.count, 0);
  const result = { seen, progress: made.progress(), heavyweight, served: vm.kernelActivity().cachedReads.served };
  void vm.close();
  return result;
}

/** pit-calibration apart: it spins on port 61h, which no cache serves, millions of times in 30 ms. */
const WORKLOADS = WORKLOAD_DEFINITIONS.map((w) => w.name).filter((name) => name !== 'pit-calibration');
/** The devices with status registers in userspace: QEMU/TCG's placement, and KVM's with its in-kernel irqchip. */
const PROFILES = ['qemu-tcg', 'kvm-irqchip'];

describe.each(WORKLOADS)('%s', (workload) => {
  it.each(PROFILES)('%s: the guest reads the same bytes with the cache as without', (profile) => {
    const off = run(workload, profile, false);
    const on = run(workload, profile, true);
    expect(on.seen).toEqual(off.seen);
    expect(on.progress).toEqual(off.progress);
    expect(off.served).toBe(0);
    expect(on.heavyweight).toBe(off.heavyweight - on.served);
  });

  it.each(PROFILES)('%s: the guest reads the same bytes with every I/O fast path at once as with none', (profile) => {
    const none = run(workload, profile, false, NONE);
    const all = run(workload, profile, true, ALL);
    expect(all.seen).toEqual(none.seen);
    expect(all.progress).toEqual(none.progress);
    expect(all.heavyweight).toBeLessThanOrEqual(none.heavyweight);
  });
});

describe('what the cache saves', () => {
  it('answers the status registers the workloads poll: ATA alternate status, the i8042\'s, the 16550\'s LSR on a quiet line', () => {
    const saved = (workload: string) => run(workload, 'kvm-irqchip', true).served;
    expect(saved('ata-pio-read')).toBeGreaterThan(1_000); // 10 ms: thousands, each a heavyweight exit fewer
    expect(saved('keyboard-typing')).toBeGreaterThan(0);
    expect(saved('serial-console')).toBeGreaterThan(0);
  });

  it('reaches only the devices the placement names', () => {
    const only = { ...NONE, cachedReads: ['keyboard'] } satisfies Placement['io'];
    expect(run('keyboard-typing', 'kvm-irqchip', true, only).served).toBeGreaterThan(0);
    expect(run('ata-pio-read', 'kvm-irqchip', true, only).served).toBe(0); // the disk is not named: its alternate status goes out
  });
});

/** A shared trace (`../shared/traces`), replayed open loop at its recorded times: what each read returned. */
function replayed(trace: string, profile: string, cachedReads: boolean, io?: Placement['io']) {
  const base = placement(profile);
  const vm = new Vm({ ...base, io: io ?? { ...base.io, cachedReads } }, new IdleCpu(), {
    board: { memoryBytes: 256 * 1024 * 1024, diskBlankBytes: 16 * 1024 * 1024, floppyBlankBytes: 80 * 2 * 18 * 512 },
  });
  const seen: number[] = [];
  for (const r of readTraceSync(fileURLToPath(new URL(`../../../../shared/traces/${trace}.jsonl.gz`, import.meta.url)))) {
    vm.advanceTo(r.t);
    const isRead = r.op === 'r';
    const value = r.kind === 'pio' ? vm.io(isRead ? 'in' : 'out', r.addr, r.size, r.value) : Number(vm.mmio(!isRead, r.addr, r.size, BigInt(r.value)));
    if (isRead) seen.push(value);
  }
  const served = vm.kernelActivity().cachedReads.served;
  void vm.close();
  return { seen, served };
}

describe.each(['seabios-post', 'linux-boot-serial', 'linux-boot-vga'])('the %s trace', (trace) => {
  it('reads the same values with the cache as without, and some from it', () => {
    const off = replayed(trace, 'kvm-irqchip', false);
    const on = replayed(trace, 'kvm-irqchip', true);
    expect(on.seen).toEqual(off.seen);
    expect(on.served).toBeGreaterThan(0);
    // And with every fast path at once, the programs of the PIT, RTC, i8042 and VGA in the kernel too (QEMU/TCG's placement).
    const none = replayed(trace, 'qemu-tcg', false, NONE);
    expect(replayed(trace, 'qemu-tcg', true, ALL).seen).toEqual(none.seen);
  }, 240_000); // four replays of a whole Linux boot: 10 s alone here, past a minute on a loaded CI machine
});
