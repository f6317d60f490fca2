/**
 * libata's SFF (taskfile) port as the ATA PIO workloads drive it: the
 * register sequences of Linux's drivers/ata/libata-sff.c (5.x), for a port
 * with a control block (altstatus at 3F6h) and no bus-master status to
 * clear — ata_sff_port_ops, which sets no sff_irq_clear — on the PC's
 * primary channel (1F0h–1F7h, 3F6h, irq 14 through the 8259 pair):
 *
 * * ata_sff_check_status — one read of Status (it acknowledges INTRQ);
 *   ata_sff_altstatus / ata_sff_sync — one read of Alternate Status;
 *   ata_sff_pause — that read, then ndelay(400).
 * * ata_wait_idle / ata_sff_busy_wait — udelay(10), Status, while BSY (or
 *   BSY|DRQ) stays set, 0FFh not seen and tries are left.
 * * ata_sff_qc_issue — ata_dev_select(wait): ata_wait_idle, Device = A0h and
 *   a pause (ata_sff_dev_select), ata_wait_idle; then ata_tf_to_host:
 *   ata_sff_tf_load (Device Control only when tf.ctl differs from the last
 *   written, followed by ata_wait_idle; for LBA48 the HOB bytes of Features,
 *   Sector Count, LBA low/mid/high; then Features, Sector Count, LBA
 *   low/mid/high; Device; ata_wait_idle) and ata_sff_exec_command (Command,
 *   then a pause). A polled command (ata_qc_set_polling) has nIEN in its
 *   tf.ctl. PIO data-out and polled commands continue in the PIO task.
 * * ata_sff_pio_task — ata_sff_busy_wait(BSY, 5), and on BSY a 2 ms sleep
 *   and ata_sff_busy_wait(BSY, 10), or a requeue; then ata_sff_hsm_move,
 *   again while it asks to poll.
 * * ata_sff_interrupt → __ata_sff_port_intr — ignored (an idle irq) when no
 *   command expects one; ata_sff_irq_status: Alternate Status (busy: not
 *   ours), then Status to clear INTRQ; then ata_sff_hsm_move.
 * * ata_sff_hsm_move for ATA PIO and non-data: HSM_ST_FIRST sends the first
 *   block of a write; HSM_ST checks DRQ/ERR/DF and moves one block
 *   (ata_pio_sectors → ata_pio_sector → ata_sff_data_xfer, then
 *   ata_sff_sync), and after a read's last block waits idle and completes;
 *   HSM_ST_LAST completes if the status is good (ata_ok: DRDY, no BSY, DF,
 *   DRQ or ERR); errors go to HSM_ST_ERR. A command completed from the PIO
 *   task turns interrupts back on first (ata_hsm_qc_complete →
 *   ata_sff_irq_on: Device Control without nIEN, ata_wait_idle).
 * * ata_sff_data_xfer — ioread16_rep / iowrite16_rep of the data port: one
 *   `rep insw` / `rep outsw` of 256 words. A scripted guest has no string
 *   I/O, so each word is its own 16-bit `in` or `out` — one exit per word,
 *   as QEMU's TCG and a VMM that emulates each iteration see it (KVM itself
 *   batches a `rep ins` into one exit per page when it can).
 * * Error handling, reduced to its register traffic: a command that fails is
 *   counted, then what libata's EH does to the port before it carries on —
 *   ata_sff_freeze (Device Control with nIEN, Status), the autopsy's
 *   ata_sff_tf_read (Status, Error, Sector Count, LBA low/mid/high, Device)
 *   and ata_sff_thaw (Status, ata_sff_irq_on). No reset and no retry: the
 *   workload moves on to its next command.
 *
 * Commands are built as libata-core.c builds them: ata_tf_init (tf.ctl from
 * the port, Device A0h) and ata_build_rw_tf (LBA28 while lba_28_ok, else
 * LBA48 with the HOB bytes; Device gets the LBA bit and, for LBA28, address
 * bits 27–24); ata_rwcmd_protocol's PIO commands READ/WRITE SECTORS (EXT).
 * ata_dev_read_id's IDENTIFY DEVICE is polled; the capacity and the
 * feature bits the workloads need come from its words 60–61, 83, 100–103
 * (ata_id_n_sectors, ata_id_has_lba48, ata_id_has_flush_ext).
 */
import type { GuestOp, GuestProgram } from '@splitvisor/scripted-guest';
import { ScriptedGuest } from '@splitvisor/scripted-guest';
import { GUEST_TSC_HZ } from './lapic-tick.ts';
import { legacyPic, legacyVector } from './linux-8259.ts';
import type { Workload, WorkloadParameter, WorkloadParameters } from './workload.ts';
import { numberParameter, stringParameter } from './workload.ts';

/** Guest cycles of udelay(`us`) / ndelay: a busy wait on the guest's TSC. */
export function udelayCycles(us: number): number {
  return Math.round((us * GUEST_TSC_HZ) / 1_000_000);
}

/** A generator step returning a value (a read register, a status). */
type Step<T> = Generator<GuestOp, T, number>;

/** The primary channel's Command Block and Control Block on the PC (see @splitvisor/vmm's board). */
export const ATA_REG = {
  data: 0x1f0, error: 0x1f1, feature: 0x1f1, nsect: 0x1f2, lbal: 0x1f3, lbam: 0x1f4, lbah: 0x1f5,
  device: 0x1f6, status: 0x1f7, command: 0x1f7, altstatus: 0x3f6, ctl: 0x3f6,
} as const;
export const ATA_IRQ = 14;
/** irq 14's vector through the 8259 pair as the workloads program it (28h + 6). */
export const ATA_VECTOR: number = legacyVector(ATA_IRQ);

/** Status bits (ATA/ATAPI-6 §7.15.6). */
export const ATA_BUSY = 0x80;
export const ATA_DRDY = 0x40;
export const ATA_DF = 0x20;
export const ATA_DRQ = 0x08;
export const ATA_ERR = 0x01;
/** Device Control: bit 3 (obsolete, set by libata), nIEN (bit 1). */
export const ATA_DEVCTL_OBS = 0x08;
export const ATA_NIEN = 0x02;
/** Device: bits 7 and 5 (obsolete, set), LBA (bit 6). */
export const ATA_DEVICE_OBS = 0xa0;
export const ATA_LBA = 0x40;

export const ATA_CMD = {
  READ: 0x20, READ_EXT: 0x24, WRITE: 0x30, WRITE_EXT: 0x34, FLUSH: 0xe7, FLUSH_EXT: 0xea, ID_ATA: 0xec,
} as const;

/** ata_sff_busy_wait's poll delay, ata_sff_pause's 400 ns, the PIO task's sleep and its requeue delay (ATA_SHORT_PAUSE, 16 ms). */
const POLL_DELAY_CYCLES = udelayCycles(10);
const PAUSE_CYCLES = udelayCycles(0.4);
const PIO_TASK_SLEEP_CYCLES = udelayCycles(2_000);
const SHORT_PAUSE_CYCLES = udelayCycles(16_000);
export const SECTOR_WORDS = 256;

export interface Taskfile {
  command: number;
  feature: number;
  nsect: number;
  lbal: number;
  lbam: number;
  lbah: number;
  device: number;
  hobFeature: number;
  hobNsect: number;
  hobLbal: number;
  hobLbam: number;
  hobLbah: number;
  ctl: number;
  /** ATA_TFLAG_ISADDR, ATA_TFLAG_DEVICE, ATA_TFLAG_LBA48, ATA_TFLAG_WRITE, ATA_TFLAG_POLLING. */
  isAddr: boolean;
  hasDevice: boolean;
  lba48: boolean;
  write: boolean;
  polling: boolean;
}

export interface QueuedCommand {
  readonly tf: Taskfile;
  readonly protocol: 'pio' | 'nodata';
  /** Sectors the command moves (PIO). */
  readonly sectors: number;
  /** Reads: each sector as it arrives; writes: fills each sector before it is sent (index from 0). */
  readonly data?: (index: number, words: Uint16Array) => void;
  done: boolean;
  /** AC_ERR_DEV / AC_ERR_HSM seen: the command failed. */
  failed: boolean;
  /** The status that ended it (or the error path's). */
  status: number;
}

/** What ata_dev_read_id's IDENTIFY tells the workloads. */
export interface AtaIdentity {
  readonly sectors: number;
  readonly lba48: boolean;
  readonly flushExt: boolean;
}

type HsmState = 'idle' | 'first' | 'st' | 'last' | 'err';

/** ata_ok: DRDY set, none of BSY, DF, DRQ, ERR. */
function ataOk(status: number): boolean {
  return (status & (ATA_BUSY | ATA_DRDY | ATA_DF | ATA_DRQ | ATA_ERR)) === ATA_DRDY;
}

/** lba_28_ok: the end of the transfer below 0FFFFFFFh and at most 256 sectors. */
export function lba28Ok(block: number, sectors: number): boolean {
  return block + sectors < 0x0fff_ffff && sectors <= 256;
}

/** lba_48_ok: the end within 48 bits and at most 65536 sectors. */
export function lba48Ok(block: number, sectors: number): boolean {
  return block + sectors - 1 < 2 ** 48 && sectors <= 65_536;
}

export class LibataSffPort {
  /** ap->ctl and ap->last_ctl (after probing: interrupts on). */
  private ctl = ATA_DEVCTL_OBS;
  private lastCtl = -1;
  private hsm: HsmState = 'idle';
  private qc: QueuedCommand | undefined;
  private current = 0;
  private readonly buffer = new Uint16Array(SECTOR_WORDS);
  /** The PIO task is queued (a write's first block, or a polled command). */
  pioTaskQueued = false;
  /** Sectors moved through the data port, interrupts handled, irqs no command expected, failed commands. */
  sectors = 0;
  interrupts = 0;
  idleIrqs = 0;
  errors = 0;

  /** ata_tf_init: a taskfile with the port's ctl and device 0 selected. */
  taskfile(): Taskfile {
    return {
      command: 0, feature: 0, nsect: 0, lbal: 0, lbam: 0, lbah: 0, device: ATA_DEVICE_OBS,
      hobFeature: 0, hobNsect: 0, hobLbal: 0, hobLbam: 0, hobLbah: 0, ctl: this.ctl,
      isAddr: false, hasDevice: false, lba48: false, write: false, polling: false,
    };
  }

  /** ata_build_rw_tf + ata_rwcmd_protocol (PIO, not multiple); undefined where libata answers -ERANGE. */
  rwTaskfile(block: number, sectors: number, write: boolean, identity: AtaIdentity, forceLba48: boolean): Taskfile | undefined {
    const tf = this.taskfile();
    tf.isAddr = true;
    tf.hasDevice = true;
    tf.write = write;
    if (!forceLba48 && lba28Ok(block, sectors)) {
      tf.device |= Math.floor(block / 2 ** 24) & 0x0f;
    } else if (lba48Ok(block, sectors) && identity.lba48) {
      tf.lba48 = true;
      tf.hobNsect = (sectors >> 8) & 0xff;
      tf.hobLbah = Math.floor(block / 2 ** 40) & 0xff;
      tf.hobLbam = Math.floor(block / 2 ** 32) & 0xff;
      tf.hobLbal = Math.floor(block / 2 ** 24) & 0xff;
    } else {
      return undefined;
    }
    tf.nsect = sectors & 0xff;
    tf.lbah = (block >>> 16) & 0xff;
    tf.lbam = (block >>> 8) & 0xff;
    tf.lbal = block & 0xff;
    tf.device |= ATA_LBA;
    tf.command = write ? (tf.lba48 ? ATA_CMD.WRITE_EXT : ATA_CMD.WRITE) : (tf.lba48 ? ATA_CMD.READ_EXT : ATA_CMD.READ);
    return tf;
  }

  command(tf: Taskfile, protocol: 'pio' | 'nodata', sectors: number, data?: (index: number, words: Uint16Array) => void): QueuedCommand {
    return data === undefined
      ? { tf, protocol, sectors, done: false, failed: false, status: 0 }
      : { tf, protocol, sectors, data, done: false, failed: false, status: 0 };
  }

  *checkStatus(): Step<number> {
    return yield { op: 'in', port: ATA_REG.status };
  }

  *altstatus(): Step<number> {
    return yield { op: 'in', port: ATA_REG.altstatus };
  }

  /** ata_sff_pause: flush with an Alternate Status read, then 400 ns. */
  *pause(): GuestProgram {
    yield { op: 'in', port: ATA_REG.altstatus };
    yield { op: 'compute', cycles: PAUSE_CYCLES };
  }

  /** ata_sff_busy_wait(bits, max). */
  *busyWait(bits: number, max: number): Step<number> {
    let status: number;
    let left = max;
    do {
      yield { op: 'compute', cycles: POLL_DELAY_CYCLES };
      status = yield { op: 'in', port: ATA_REG.status };
      left--;
    } while (status !== 0xff && (status & bits) !== 0 && left > 0);
    return status;
  }

  /** ata_wait_idle. */
  *waitIdle(): Step<number> {
    return yield* this.busyWait(ATA_BUSY | ATA_DRQ, 1000);
  }

  /** ata_sff_irq_on. */
  *irqOn(): GuestProgram {
    this.ctl &= ~ATA_NIEN;
    this.lastCtl = this.ctl;
    yield { op: 'out', port: ATA_REG.ctl, value: this.ctl };
    yield* this.waitIdle();
  }

  /** ata_sff_thaw: clear and re-enable interrupts. */
  *thaw(): GuestProgram {
    yield* this.checkStatus();
    yield* this.irqOn();
  }

  /** ata_sff_freeze. */
  *freeze(): GuestProgram {
    this.ctl |= ATA_NIEN;
    this.lastCtl = this.ctl;
    yield { op: 'out', port: ATA_REG.ctl, value: this.ctl };
    yield* this.checkStatus();
  }

  /** ata_sff_tf_read (LBA28 registers). */
  *tfRead(): GuestProgram {
    yield* this.checkStatus();
    for (const port of [ATA_REG.error, ATA_REG.nsect, ATA_REG.lbal, ATA_REG.lbam, ATA_REG.lbah, ATA_REG.device]) yield { op: 'in', port };
  }

  /** What EH does to the port after a failed command (see the header): freeze, read the taskfile, thaw. */
  *recover(): GuestProgram {
    yield* this.freeze();
    yield* this.tfRead();
    yield* this.thaw();
  }

  /** ata_dev_select(ap, 0, wait = 1, can_sleep = 0). */
  private *devSelect(): GuestProgram {
    yield* this.waitIdle();
    yield { op: 'out', port: ATA_REG.device, value: ATA_DEVICE_OBS };
    yield* this.pause();
    yield* this.waitIdle();
  }

  /** ata_sff_tf_load. */
  private *tfLoad(tf: Taskfile): GuestProgram {
    if (tf.ctl !== this.lastCtl) {
      yield { op: 'out', port: ATA_REG.ctl, value: tf.ctl };
      this.lastCtl = tf.ctl;
      yield* this.waitIdle();
    }
    if (tf.isAddr && tf.lba48) {
      yield { op: 'out', port: ATA_REG.feature, value: tf.hobFeature };
      yield { op: 'out', port: ATA_REG.nsect, value: tf.hobNsect };
      yield { op: 'out', port: ATA_REG.lbal, value: tf.hobLbal };
      yield { op: 'out', port: ATA_REG.lbam, value: tf.hobLbam };
      yield { op: 'out', port: ATA_REG.lbah, value: tf.hobLbah };
    }
    if (tf.isAddr) {
      yield { op: 'out', port: ATA_REG.feature, value: tf.feature };
      yield { op: 'out', port: ATA_REG.nsect, value: tf.nsect };
      yield { op: 'out', port: ATA_REG.lbal, value: tf.lbal };
      yield { op: 'out', port: ATA_REG.lbam, value: tf.lbam };
      yield { op: 'out', port: ATA_REG.lbah, value: tf.lbah };
    }
    if (tf.hasDevice) yield { op: 'out', port: ATA_REG.device, value: tf.device };
    yield* this.waitIdle();
  }

  /** ata_sff_qc_issue (the caller holds the host lock: interrupts off). */
  *issue(qc: QueuedCommand): GuestProgram {
    this.qc = qc;
    this.current = 0;
    if (qc.tf.polling) qc.tf.ctl |= ATA_NIEN; // ata_qc_set_polling
    yield* this.devSelect();
    yield* this.tfLoad(qc.tf);
    yield { op: 'out', port: ATA_REG.command, value: qc.tf.command };
    yield* this.pause();
    if (qc.protocol === 'nodata') {
      this.hsm = 'last';
      this.pioTaskQueued = qc.tf.polling;
    } else if (qc.tf.write) {
      this.hsm = 'first';
      this.pioTaskQueued = true;
    } else {
      this.hsm = 'st';
      this.pioTaskQueued = qc.tf.polling;
    }
  }

  /** ata_sff_pio_task (interrupts off). Returns false when it requeued itself (BSY persisted): run it again later. */
  *pioTask(): Step<boolean> {
    this.pioTaskQueued = false;
    const qc = this.qc;
    if (qc === undefined || qc.done) return true;
    for (;;) {
      let status = yield* this.busyWait(ATA_BUSY, 5);
      if ((status & ATA_BUSY) !== 0) {
        yield { op: 'compute', cycles: PIO_TASK_SLEEP_CYCLES };
        status = yield* this.busyWait(ATA_BUSY, 10);
        if ((status & ATA_BUSY) !== 0) {
          this.pioTaskQueued = true;
          return false;
        }
      }
      const pollNext = yield* this.hsmMove(qc, status, true);
      if (!pollNext) return true;
    }
  }

  /** How long a requeued PIO task waits (ATA_SHORT_PAUSE). */
  readonly requeueCycles: number = SHORT_PAUSE_CYCLES;

  /** __ata_sff_port_intr for the active command, as ata_sff_interrupt calls it. */
  *interrupt(): GuestProgram {
    const qc = this.qc;
    if (qc === undefined || qc.done || qc.tf.polling || this.hsm === 'idle' || this.hsm === 'first') {
      this.idleIrqs++;
      return;
    }
    const alt = yield* this.altstatus();
    if ((alt & ATA_BUSY) !== 0) {
      this.idleIrqs++;
      return;
    }
    const status = yield* this.checkStatus();
    if ((status & ATA_BUSY) !== 0) {
      this.idleIrqs++;
      return;
    }
    this.interrupts++;
    yield* this.hsmMove(qc, status, false);
  }

  /** ata_pio_sectors for a single-sector block, then ata_sff_sync. */
  private *pioSectors(qc: QueuedCommand): GuestProgram {
    if (this.current === qc.sectors - 1) this.hsm = 'last';
    const words = this.buffer;
    if (qc.tf.write) {
      qc.data?.(this.current, words);
      for (let i = 0; i < SECTOR_WORDS; i++) yield { op: 'out', port: ATA_REG.data, value: words[i] ?? 0, size: 2 };
    } else {
      for (let i = 0; i < SECTOR_WORDS; i++) words[i] = yield { op: 'in', port: ATA_REG.data, size: 2 };
      qc.data?.(this.current, words);
    }
    this.current++;
    this.sectors++;
    yield* this.altstatus();
  }

  /** ata_sff_hsm_move; returns poll_next. */
  private *hsmMove(qc: QueuedCommand, initial: number, inWq: boolean): Step<boolean> {
    let status = initial;
    for (;;) {
      switch (this.hsm) {
        case 'first':
          if ((status & ATA_DRQ) === 0 || (status & (ATA_ERR | ATA_DF)) !== 0) {
            this.hsm = 'err';
            continue;
          }
          this.hsm = 'st';
          yield* this.pioSectors(qc);
          return qc.tf.polling;
        case 'st':
          if ((status & ATA_DRQ) === 0) {
            this.hsm = 'err';
            continue;
          }
          if ((status & (ATA_ERR | ATA_DF)) !== 0) {
            if (!qc.tf.write) {
              yield* this.pioSectors(qc);
              status = yield* this.waitIdle();
            }
            this.hsm = 'err';
            continue;
          }
          yield* this.pioSectors(qc);
          if ((this.hsm as HsmState) === 'last' && !qc.tf.write) { // pioSectors moved it
            status = yield* this.waitIdle();
            continue;
          }
          return true;
        case 'last':
          if (!ataOk(status)) {
            this.hsm = 'err';
            continue;
          }
          this.hsm = 'idle';
          yield* this.complete(qc, status, false, inWq);
          return false;
        case 'err':
          this.hsm = 'idle';
          yield* this.complete(qc, status, true, inWq);
          return false;
        case 'idle':
          return false;
      }
    }
  }

  /** ata_hsm_qc_complete: from the PIO task, interrupts go back on first. */
  private *complete(qc: QueuedCommand, status: number, failed: boolean, inWq: boolean): GuestProgram {
    if (inWq && !failed) yield* this.irqOn();
    qc.status = status;
    qc.failed = failed;
    qc.done = true;
    if (failed) this.errors++;
  }
}

/** The IDENTIFY words the workloads use (ATA/ATAPI-6 §8.15, table 27). */
export function parseIdentity(id: Uint16Array): AtaIdentity {
  const w = (i: number): number => id[i] ?? 0;
  const commandSet2 = w(83);
  const valid2 = (commandSet2 & 0xc000) === 0x4000;
  const lba48Sectors = w(100) + w(101) * 2 ** 16 + w(102) * 2 ** 32 + w(103) * 2 ** 48;
  const lba48 = valid2 && lba48Sectors > 0 && (commandSet2 & (1 << 10)) !== 0;
  const lba28Sectors = w(60) + w(61) * 2 ** 16;
  return { sectors: lba48 ? lba48Sectors : lba28Sectors, lba48, flushExt: lba48 && (commandSet2 & (1 << 13)) !== 0 };
}

/**
 * What the workloads share around the port: the issuing thread takes the host lock (interrupts off) to issue,
 * runs the PIO task when one is queued (a kworker, interrupts off), then sleeps until the command completes —
 * the idle loop's `cli`, a check, `sti; hlt` (safe_halt) — and after a failure runs EH's register traffic.
 */
export function* execute(port: LibataSffPort, qc: QueuedCommand): GuestProgram {
  yield { op: 'cli' };
  yield* port.issue(qc);
  yield { op: 'sti' };
  while (port.pioTaskQueued) {
    yield { op: 'cli' };
    const ran = yield* port.pioTask();
    yield { op: 'sti' };
    if (!ran) yield { op: 'compute', cycles: port.requeueCycles };
  }
  for (;;) {
    yield { op: 'cli' };
    if (qc.done) break;
    yield { op: 'sti' };
    yield { op: 'hlt' };
  }
  yield { op: 'sti' };
  if (qc.failed) yield* port.recover();
}

/** ata_dev_read_id: a polled IDENTIFY DEVICE; undefined when it failed. */
export function* identify(port: LibataSffPort): Step<AtaIdentity | undefined> {
  const id = new Uint16Array(SECTOR_WORDS);
  const tf = port.taskfile();
  tf.command = ATA_CMD.ID_ATA;
  tf.isAddr = true;
  tf.hasDevice = true;
  tf.polling = true;
  const qc = port.command(tf, 'pio', 1, (_, words) => { id.set(words); });
  yield* execute(port, qc);
  if (qc.failed) return undefined;
  const identity = parseIdentity(id);
  return identity.sectors > 0 ? identity : undefined;
}

/** What each ATA workload's guest reports. */
export interface AtaGuest {
  readonly guest: ScriptedGuest;
  readonly port: LibataSffPort;
  /** What IDENTIFY reported (undefined before it completes, or when there is no disk). */
  readonly identity: () => AtaIdentity | undefined;
}

/**
 * The guest around an ATA workload's `body`: the 8259 pair initialised with irq 14 requested (init_8259A,
 * request_irq; see linux-8259.ts), interrupts on, the port thawed as probing leaves it (ata_sff_thaw), IDENTIFY DEVICE
 * (ata_dev_read_id), then `body` with the disk's identity; irq 14 runs handle_level_irq around ata_sff_interrupt.
 * Without a disk (IDENTIFY fails), the guest counts the error and idles.
 */
export function ataGuest(body: (port: LibataSffPort, identity: AtaIdentity) => GuestProgram): AtaGuest {
  const port = new LibataSffPort();
  const pic = legacyPic();
  let identity: AtaIdentity | undefined;
  const guest = new ScriptedGuest((function* main(): GuestProgram {
    yield* pic.init();
    yield* pic.enable(ATA_IRQ); // request_irq
    yield { op: 'sti' };
    yield* port.thaw();
    identity = yield* identify(port);
    if (identity === undefined) {
      for (;;) yield { op: 'hlt' };
    }
    yield* body(port, identity);
  })()).on(ATA_VECTOR, pic.handler(ATA_IRQ, function* ataInterrupt(): GuestProgram {
    yield* port.interrupt();
  }));
  return { guest, port, identity: () => identity };
}

/** What a PIO transfer workload (ata-pio-read, ata-pio-write) counts. */
export interface AtaTransfer {
  readonly guest: ScriptedGuest;
  readonly identity: () => AtaIdentity | undefined;
  readonly commands: () => number;
  readonly sectors: () => number;
  readonly interrupts: () => number;
  readonly errors: () => number;
}

/** The options the PIO transfer workloads share. */
export interface AtaTransferOptions {
  /** Sectors per command, 1–256 (default 8). */
  readonly sectors?: number;
  /** LBA28 where libata would use it (default), or the EXT commands always. */
  readonly addressing?: 'auto' | 'lba48';
  /** Interrupt-driven PIO (default) or polled (nIEN set, the PIO task polls Status). */
  readonly pio?: 'irq' | 'polling';
  /** Commands before the guest stops (default: it never does). */
  readonly commands?: number;
  /** Cycles of block-layer work before each command (default 20,000: 10 µs). */
  readonly requestCycles?: number;
}

/**
 * The program both PIO transfer workloads run: after ataGuest's set-up,
 * READ or WRITE SECTORS (EXT) of `sectors` sectors at consecutive LBAs from
 * 0, wrapping at the end of the disk (a command never runs past it), each
 * after `requestCycles` of block-layer work. `block` gets each 256-word
 * block as it crosses the data port: read from it, or to fill for a write.
 * `sectors` counts a read's sectors as they arrive, a write's once its
 * command completed without error.
 */
export function pioTransfer(options: AtaTransferOptions, isWrite: boolean, block: (lba: number, words: Uint16Array) => void): AtaTransfer {
  const perCommand = options.sectors ?? 8;
  if (!Number.isInteger(perCommand) || perCommand < 1 || perCommand > 256) throw new RangeError(`sectors per command must be 1–256, not ${perCommand}`);
  const limit = options.commands ?? Number.POSITIVE_INFINITY;
  const requestCycles = options.requestCycles ?? 20_000;
  const forceLba48 = options.addressing === 'lba48';
  const polling = options.pio === 'polling';
  let commands = 0;
  let sectors = 0;
  const ata = ataGuest(function* transfers(port, identity): GuestProgram {
    let lba = 0;
    while (commands < limit) {
      yield { op: 'compute', cycles: requestCycles };
      const count = Math.min(perCommand, identity.sectors - lba);
      const tf = port.rwTaskfile(lba, count, isWrite, identity, forceLba48);
      if (tf === undefined) {
        port.errors++; // -ERANGE: the request fails without reaching the disk
      } else {
        tf.polling = polling;
        const start = lba;
        const qc = port.command(tf, 'pio', count, (index, words) => {
          if (!isWrite) sectors++;
          block(start + index, words);
        });
        yield* execute(port, qc);
        if (isWrite && !qc.failed) sectors += count;
      }
      commands++;
      lba += count;
      if (lba >= identity.sectors) lba = 0;
    }
  });
  return {
    guest: ata.guest,
    identity: ata.identity,
    commands: () => commands,
    sectors: () => sectors,
    interrupts: () => ata.port.interrupts,
    errors: () => ata.port.errors,
  };
}

/** The parameters of a PIO transfer workload whose command is `command` (READ SECTORS, WRITE SECTORS). */
export function transferParameters(command: string): readonly WorkloadParameter[] {
  return [
    { name: 'sectors', description: `sectors per ${command} command`, default: 8, min: 1, max: 256 },
    { name: 'addressing', description: `LBA28 where libata uses it ('auto') or ${command} EXT always ('lba48')`, default: 'auto', choices: ['auto', 'lba48'] },
    { name: 'pio', description: "interrupt-driven PIO ('irq') or polled, nIEN set ('polling')", default: 'irq', choices: ['irq', 'polling'] },
    { name: 'commands', description: 'commands before the guest stops (0: as many as the run allows)', default: 0, min: 0 },
  ];
}

/** A PIO transfer workload from its checked parameters, on a blank 16 MiB disk (the size the shared traces' QEMU had). */
export function transferWorkload(p: WorkloadParameters, start: (options: AtaTransferOptions) => AtaTransfer): Workload {
  const commands = numberParameter(p, 'commands');
  const run = start({
    sectors: numberParameter(p, 'sectors'),
    addressing: stringParameter(p, 'addressing') === 'lba48' ? 'lba48' : 'auto',
    pio: stringParameter(p, 'pio') === 'polling' ? 'polling' : 'irq',
    ...(commands === 0 ? {} : { commands }),
  });
  return {
    guest: run.guest,
    board: { diskBytes: 16 * 1024 * 1024 },
    progress: () => ({ commands: run.commands(), sectors: run.sectors(), interrupts: run.interrupts(), errors: run.errors(), diskSectors: run.identity()?.sectors ?? 0 }),
  };
}
