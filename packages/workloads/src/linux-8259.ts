/**
 * The 8259 pair and the periodic tick as Linux drives them on the legacy
 * (pre-APIC) interrupt path, shared by the workloads that idle or take ISA
 * interrupts through the PIC:
 *
 * * arch/x86/kernel/i8259.c `init_8259A`: both IMRs masked, ICW1–ICW4 to the
 *   master (vectors 20h–27h, slave on IR2) and the slave (28h–2Fh, cascade
 *   identity 2), then the cached masks written back.
 * * `unmask_8259A_irq` (request_irq's startup): the irq's bit cleared in the
 *   cached mask and the IMR rewritten; a slave irq also needs irq 2, the
 *   cascade Linux enables at boot.
 * * kernel/irq/chip.c `handle_level_irq`, which the legacy PIC's irqs use:
 *   `mask_and_ack_8259A` before the handler (a dummy IMR read, the irq masked
 *   in the IMR, a specific EOI — to the slave and then for IR2 to the master
 *   when the irq is 8 or above), the handler, and `unmask_8259A_irq` after.
 * * drivers/clocksource/i8253.c `init_pit_timer` in periodic mode: counter 0,
 *   mode 2, LATCH = PIT_TICK_RATE / HZ, low byte then high byte — the tick an
 *   idle kernel sleeps on (kernel/sched/idle.c: `hlt` until the next interrupt).
 *
 * The vectors are pit-tick's (20h + irq on the master, 28h + irq − 8 on the
 * slave), not the 30h base of 64-bit Linux, so that every workload in this
 * package takes the timer on the same vector.
 */
import type { GuestOp, GuestProgram } from '@splitvisor/scripted-guest';
import { GUEST_TSC_HZ } from './lapic-tick.ts';

/** A guest routine that returns a value to its caller (`yield*`). */
export type GuestRoutine<T> = Generator<GuestOp, T, number>;

const PIC_MASTER_CMD = 0x20;
const PIC_MASTER_IMR = 0x21;
const PIC_SLAVE_CMD = 0xa0;
const PIC_SLAVE_IMR = 0xa1;
/** The master's input the slave's INT drives. */
const PIC_CASCADE_IR = 2;
/** OCW2: specific EOI, the level in bits 2–0. */
const OCW2_SPECIFIC_EOI = 0x60;

export const PIC_MASTER_VECTOR = 0x20;
export const PIC_SLAVE_VECTOR = 0x28;

/** The vector an ISA irq arrives on through the 8259 pair as init_8259A programs it. */
export function legacyVector(irq: number): number {
  return irq < 8 ? PIC_MASTER_VECTOR + irq : PIC_SLAVE_VECTOR + irq - 8;
}

export interface LegacyPic {
  /** init_8259A: everything masked, edge-triggered, normal EOI. */
  init(): GuestProgram;
  /** unmask_8259A_irq (a slave irq's cascade on irq 2 too, as Linux enables it at boot). */
  enable(irq: number): GuestProgram;
  /** An interrupt handler for `irq` in handle_level_irq's flow: mask and ack, `body`, unmask. */
  handler(irq: number, body: () => GuestProgram): () => GuestProgram;
}

export function legacyPic(): LegacyPic {
  /** Linux's cached_irq_mask: bits 7–0 the master's IMR, 15–8 the slave's. */
  let cachedMask = 0xffff;
  const master = (): number => cachedMask & 0xff;
  const slave = (): number => cachedMask >> 8;

  function* unmask(irq: number): GuestProgram {
    cachedMask &= ~(1 << irq);
    if (irq >= 8) yield { op: 'out', port: PIC_SLAVE_IMR, value: slave() };
    else yield { op: 'out', port: PIC_MASTER_IMR, value: master() };
  }

  function* maskAndAck(irq: number): GuestProgram {
    cachedMask |= 1 << irq;
    if (irq >= 8) {
      yield { op: 'in', port: PIC_SLAVE_IMR }; // the dummy read Linux keeps ("do we need this?")
      yield { op: 'out', port: PIC_SLAVE_IMR, value: slave() };
      yield { op: 'out', port: PIC_SLAVE_CMD, value: OCW2_SPECIFIC_EOI + (irq & 7) };
      yield { op: 'out', port: PIC_MASTER_CMD, value: OCW2_SPECIFIC_EOI + PIC_CASCADE_IR };
    } else {
      yield { op: 'in', port: PIC_MASTER_IMR };
      yield { op: 'out', port: PIC_MASTER_IMR, value: master() };
      yield { op: 'out', port: PIC_MASTER_CMD, value: OCW2_SPECIFIC_EOI + irq };
    }
  }

  return {
    *init(): GuestProgram {
      yield { op: 'out', port: PIC_MASTER_IMR, value: 0xff };
      yield { op: 'out', port: PIC_SLAVE_IMR, value: 0xff };
      // ICW1 (edge, cascade, ICW4 needed), ICW2 (vector base), ICW3 (slave on IR2 / identity 2), ICW4 (8086, normal EOI).
      for (const [port, value] of [
        [PIC_MASTER_CMD, 0x11], [PIC_MASTER_IMR, PIC_MASTER_VECTOR], [PIC_MASTER_IMR, 1 << PIC_CASCADE_IR], [PIC_MASTER_IMR, 0x01],
        [PIC_SLAVE_CMD, 0x11], [PIC_SLAVE_IMR, PIC_SLAVE_VECTOR], [PIC_SLAVE_IMR, PIC_CASCADE_IR], [PIC_SLAVE_IMR, 0x01],
      ] as const) yield { op: 'out', port, value };
      yield { op: 'compute', cycles: 200_000 }; // udelay(100): wait for the 8259s to initialise
      yield { op: 'out', port: PIC_MASTER_IMR, value: master() };
      yield { op: 'out', port: PIC_SLAVE_IMR, value: slave() };
    },
    *enable(irq: number): GuestProgram {
      if (irq >= 8 && (cachedMask & (1 << PIC_CASCADE_IR)) !== 0) yield* unmask(PIC_CASCADE_IR);
      yield* unmask(irq);
    },
    handler: (irq, body) => function* legacyIrq(): GuestProgram {
      yield* maskAndAck(irq);
      yield* body();
      yield* unmask(irq);
    },
  };
}

const PIT_TICK_RATE = 1_193_182;
/** The tick rate the paced workloads sleep on (CONFIG_HZ=1000). */
export const IDLE_HZ = 1000;

export interface JiffiesClock {
  /** init_pit_timer (periodic) and the timer irq unmasked; the caller has run `pic.init()`. */
  start(): GuestProgram;
  /**
   * The time since boot in ns, from the TSC (sched_clock: what printk stamps lines with and what timers expire
   * by — not the tick count, which loses the ticks that come while interrupts are off).
   */
  now(): GuestRoutine<number>;
  /** Idles (`hlt`, woken by the tick) until the TSC says `deadlineNs`; interrupts must be on. */
  sleepUntil(deadlineNs: number): GuestProgram;
  /** Timer interrupts taken. */
  jiffies(): number;
  /** The timer interrupt's vector and handler, for the guest's `.on`. */
  readonly vector: number;
  readonly handler: () => GuestProgram;
}

/** The PIT's periodic tick on irq 0 through `pic`, counting jiffies; its handler spends `handlerCycles`. */
export function jiffiesClock(pic: LegacyPic, handlerCycles = 2_000): JiffiesClock {
  let jiffies = 0;
  const latch = Math.round(PIT_TICK_RATE / IDLE_HZ);
  function* now(): GuestRoutine<number> {
    return ((yield { op: 'rdtsc' }) * 1e9) / GUEST_TSC_HZ;
  }
  return {
    vector: legacyVector(0),
    handler: pic.handler(0, function* tick(): GuestProgram {
      jiffies++;
      yield { op: 'compute', cycles: handlerCycles };
    }),
    *start(): GuestProgram {
      for (const [port, value] of [[0x43, 0x34], [0x40, latch & 0xff], [0x40, latch >> 8]] as const) yield { op: 'out', port, value };
      yield* pic.enable(0);
    },
    now,
    *sleepUntil(deadlineNs: number): GuestProgram {
      while ((yield* now()) < deadlineNs) yield { op: 'hlt' };
    },
    jiffies: () => jiffies,
  };
}
