/**
 * An idle tickless Linux whose clock event device is the HPET's timer 0 in
 * legacy replacement mode, as arch/x86/kernel/hpet.c sets it up on a PC
 * without a usable LAPIC timer (or booted with `clocksource=hpet
 * lapic=notscdeadline` and the LAPIC timer off):
 *
 * * hpet_enable: GCAP_ID (the number of timers) and the period read; the
 *   configuration saved and cleared of ENABLE_CNF and LEG_RT_CNF; each
 *   timer's configuration read and cleared of its enable, level and FSB bits;
 *   hpet_restart_counter (counter stopped, zeroed in both halves, started).
 * * hpet_legacy_clockevent_register → hpet_enable_legacy_int: LEG_RT_CNF set,
 *   so timer 0 drives ISA irq 0 (the 8259's IR0 and I/O APIC input 2) and the
 *   PIT's output is cut off.
 * * hpet_clkevt_set_state_oneshot: timer 0's configuration read, periodic
 *   cleared, enabled, 32-bit mode.
 * * hpet_clkevt_set_next_event, before each `sti; hlt`: the main counter
 *   read, the comparator written with it plus the delta (32 bits), the
 *   counter read again to check the event is not already past (-ETIME, and
 *   the tick core retries with a larger delta — HPET_MIN_PROG_DELTA).
 * * The interrupt, on the legacy 8259 path (linux-8259.ts): mask and ack,
 *   the tick, unmask.
 *
 * Each event is aimed at the next boundary of the jiffy grid in HPET
 * counter ticks from the counter's start, so ticks neither drift nor get
 * lost: T seconds at HZ give T × HZ interrupts.
 */
import type { GuestProgram } from '@splitvisor/scripted-guest';
import { ScriptedGuest } from '@splitvisor/scripted-guest';
import { legacyPic, legacyVector } from './linux-8259.ts';
import type { WorkloadDefinition } from './workload.ts';
import { numberParameter, positiveInteger } from './workload.ts';

/** The HPET block on the PC board and its registers (IA-PC HPET 1.0a, 2.3). */
const HPET_BASE = 0xfed0_0000;
const HPET_ID = 0x000;
const HPET_PERIOD = 0x004;
const HPET_CFG = 0x010;
const HPET_COUNTER = 0x0f0;
const hpetTnCfg = (n: number) => 0x100 + 0x20 * n;
const hpetTnCmp = (n: number) => 0x108 + 0x20 * n;
const HPET_CFG_ENABLE = 0x001;
const HPET_CFG_LEGACY = 0x002;
const HPET_TN_LEVEL = 0x0002;
const HPET_TN_ENABLE = 0x0004;
const HPET_TN_PERIODIC = 0x0008;
const HPET_TN_32BIT = 0x0100;
const HPET_TN_FSB = 0x4000;
/** GCAP_ID bits 12:8: the number of the last timer. */
const HPET_ID_NUMBER_SHIFT = 8;
const HPET_ID_NUMBER_MASK = 0x1f;
/** femtoseconds per second: the period register is in fs. */
const FS_PER_S = 1e15;
/** The smallest delta hpet_clkevt_set_next_event accepts (HPET_MIN_CYCLES), in counter ticks. */
const HPET_MIN_CYCLES = 128;

export interface LinuxIdleHpetOptions {
  readonly hz?: number;
  /** Cycles the tick handler spends (default 2,000). */
  readonly handlerCycles?: number;
  /** Cycles of work between idles (default 50,000). */
  readonly workCycles?: number;
}

export function linuxIdleHpet(options: LinuxIdleHpetOptions = {}): { guest: ScriptedGuest; jiffies: () => number; retries: () => number } {
  const hz = positiveInteger('HZ', options.hz ?? 1000);
  const handlerCycles = options.handlerCycles ?? 2_000;
  const workCycles = options.workCycles ?? 50_000;
  const pic = legacyPic();
  let jiffies = 0;
  let retries = 0;
  /** Counter ticks per second, from the period register. */
  let counterHz = 0;
  const hpet = (register: number) => HPET_BASE + register;

  /** The counter value of the jiffy boundary after the last tick taken (the counter starts at 0). */
  const boundary = () => Math.ceil(((jiffies + 1) * counterHz) / hz);

  const guest = new ScriptedGuest((function* main(): GuestProgram {
    yield* pic.init();
    // hpet_enable
    const id = yield { op: 'read', address: hpet(HPET_ID) };
    const period = yield { op: 'read', address: hpet(HPET_PERIOD) };
    counterHz = period === 0 ? 0 : FS_PER_S / period;
    const cfg = yield { op: 'read', address: hpet(HPET_CFG) };
    yield { op: 'write', address: hpet(HPET_CFG), value: cfg & ~(HPET_CFG_ENABLE | HPET_CFG_LEGACY) };
    const timers = ((id >>> HPET_ID_NUMBER_SHIFT) & HPET_ID_NUMBER_MASK) + 1;
    for (let n = 0; n < timers; n++) {
      const tn = yield { op: 'read', address: hpet(hpetTnCfg(n)) };
      yield { op: 'write', address: hpet(hpetTnCfg(n)), value: tn & ~(HPET_TN_ENABLE | HPET_TN_LEVEL | HPET_TN_FSB) };
    }
    // hpet_restart_counter: stop, zero both halves, start.
    const stopped = yield { op: 'read', address: hpet(HPET_CFG) };
    yield { op: 'write', address: hpet(HPET_CFG), value: stopped & ~HPET_CFG_ENABLE };
    yield { op: 'write', address: hpet(HPET_COUNTER), value: 0 };
    yield { op: 'write', address: hpet(HPET_COUNTER + 4), value: 0 };
    const started = yield { op: 'read', address: hpet(HPET_CFG) };
    yield { op: 'write', address: hpet(HPET_CFG), value: started | HPET_CFG_ENABLE };
    // hpet_enable_legacy_int
    const legacy = yield { op: 'read', address: hpet(HPET_CFG) };
    yield { op: 'write', address: hpet(HPET_CFG), value: legacy | HPET_CFG_LEGACY };
    // hpet_clkevt_set_state_oneshot on timer 0
    const t0 = yield { op: 'read', address: hpet(hpetTnCfg(0)) };
    yield { op: 'write', address: hpet(hpetTnCfg(0)), value: (t0 & ~HPET_TN_PERIODIC) | HPET_TN_ENABLE | HPET_TN_32BIT };
    yield* pic.enable(0);
    yield { op: 'sti' };
    for (;;) {
      yield { op: 'compute', cycles: workCycles };
      yield { op: 'cli' };
      // hpet_clkevt_set_next_event, retried with a larger delta while the event is already past.
      let minimum = HPET_MIN_CYCLES;
      for (;;) {
        const count = yield { op: 'read', address: hpet(HPET_COUNTER) };
        const delta = Math.max(minimum, boundary() - count);
        const comparator = (count + delta) >>> 0;
        yield { op: 'write', address: hpet(hpetTnCmp(0)), value: comparator };
        const after = yield { op: 'read', address: hpet(HPET_COUNTER) };
        if (((comparator - after) | 0) >= HPET_MIN_CYCLES) break;
        retries++;
        minimum *= 2;
      }
      yield { op: 'sti' };
      yield { op: 'hlt' };
    }
  })()).on(legacyVector(0), pic.handler(0, function* tick(): GuestProgram {
    jiffies++;
    yield { op: 'compute', cycles: handlerCycles };
  }));
  return { guest, jiffies: () => jiffies, retries: () => retries };
}

export const LINUX_IDLE_HPET: WorkloadDefinition = {
  name: 'linux-idle-hpet',
  description: "an idle tickless Linux on the HPET's timer 0 in legacy replacement mode: one comparator re-arm (counter read, comparator write, counter read) before each sti; hlt, 8259 EOIs",
  follows: 'arch/x86/kernel/hpet.c hpet_enable, hpet_restart_counter, hpet_enable_legacy_int, hpet_clkevt_set_state_oneshot, hpet_clkevt_set_next_event',
  parameters: [{ name: 'hz', description: "the kernel's tick rate (CONFIG_HZ)", default: 1000, choices: [100, 250, 300, 1000] }],
  create: (p) => {
    const run = linuxIdleHpet({ hz: numberParameter(p, 'hz') });
    return { guest: run.guest, progress: () => ({ jiffies: run.jiffies(), retries: run.retries() }) };
  },
};
