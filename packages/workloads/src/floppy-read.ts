/**
 * Sequential reads from a 1.44 MB diskette in drive A, with the register
 * sequence of Linux's floppy driver (drivers/block/floppy.c) on the PC's
 * 82077AA (3F0h–3F7h, irq 6) and ISA DMA channel 2
 * (arch/x86/include/asm/floppy.h, asm/dma.h):
 *
 * * Every controller and DMA access is a `_p` access (fd_inb/fd_outb are
 *   inb_p/outb_p, dma_outb is outb_p): the access, then native_io_delay's
 *   `outb` to port 80h (the x86 default, CONFIG_IO_DELAY_0X80; `ioDelay:
 *   'none'` leaves it out, as io_delay=none does).
 * * output_byte: wait_til_ready (MSR until RQM), then, if the MSR shows the
 *   controller ready for a byte from the host (RQM without DIO or NDMA),
 *   the byte to the FIFO. result: per byte, wait_til_ready, and a FIFO read
 *   while the MSR says RQM|DIO|CB; an MSR with RQM alone ends the result
 *   phase (the byte count returned).
 * * floppy_interrupt (irq 6, through handle_level_irq on the 8259): the
 *   channel masked (fd_disable_dma: 0Ah ← 06h), result(), and when no
 *   result bytes came, SENSE INTERRUPT STATUS while its ST0 (masked 83h)
 *   does not name the drive, at most four times.
 * * The driver's start (floppy_grab_irq_and_dma, user_reset_fdc →
 *   reset_fdc): DOR 0Ch, the channel masked, a DSR software reset
 *   (80h | the data rate, 3 while none has been chosen), irq 6 and its
 *   SENSE INTERRUPT STATUS, then reset_interrupt's result(). (SeaBIOS has set
 *   up the 8237 pair before: both master-cleared, channel 4 in cascade mode
 *   and unmasked — without which channels 0–3 get no grant.) The version
 *   probe of floppy_init (DUMPREGS, VERSION, …) is not repeated.
 * * A request (redo_fd_request → floppy_start → floppy_ready), with the
 *   driver's state carried from one to the next: start_motor — DOR with the
 *   motor of drive A on (1Ch), written only when it changes; fdc_dtr — CCR
 *   (3F7h) ← 0 (500 kb/s) when the rate changes; disk_change — a DIR read;
 *   perpendicular_mode — PERPENDICULAR MODE 00h after a reset; fdc_specify —
 *   after a reset CONFIGURE (need_more_output's MSR check, then 00h, 1Ah,
 *   00h: FIFO on, threshold 10) and SPECIFY 03h C1h 10h (SRT 4 ms, HUT,
 *   HLT for the 1.44M drive at 500 kb/s, DMA mode), both only when changed;
 *   seek_floppy — a DIR read, RECALIBRATE after a reset, the seek to
 *   cylinder 1 that clears a new disk's change line, check_wp's SENSE DRIVE
 *   STATUS while the disk is to be verified, SEEK to the request's cylinder
 *   when the head is elsewhere — each seek or recalibrate ending with irq 6,
 *   SENSE INTERRUPT STATUS and floppy_ready again; then setup_rw_floppy:
 *   setup_DMA (fd_disable_dma; hard_dma_setup: clear flip-flop 0Ch, mode
 *   0Bh ← 46h (single, write to memory, channel 2), set_dma_addr — page
 *   81h, address low and high to 04h — set_dma_count — count − 1 low and
 *   high to 05h — and enable, 0Ah ← 02h, interrupts off under the DMA lock),
 *   READ DATA's nine bytes (E6h: MT, MFM, SK; drive and head; C, H, R;
 *   N = 2; EOT 18; GAP 1Bh; DTL FFh), and on irq 6 its seven result bytes.
 *
 * The reads: `sectors` sectors per command (at most the rest of the
 * cylinder, both heads: MT) at consecutive sectors from LBA 0, wrapping at
 * the end of the diskette, into a DMA buffer at 10000h. A READ DATA whose ST0
 * shows an abnormal end, a result phase that goes wrong or a command the
 * controller will not take is counted as an error; the driver's answer, a
 * controller reset, follows (and a recalibrate with the next request).
 * Left out, as they are sleeps with no register traffic: the motor spin-up
 * wait, the data-rate settle delay and the timeouts.
 */
import type { GuestOp, GuestProgram } from '@splitvisor/scripted-guest';
import { ScriptedGuest } from '@splitvisor/scripted-guest';
import { legacyPic, legacyVector } from './linux-8259.ts';
import type { WorkloadDefinition } from './workload.ts';
import { numberParameter, stringParameter } from './workload.ts';

type Step<T> = Generator<GuestOp, T, number>;

/** The controller's registers on the PC (@splitvisor/vmm's board). */
export const FD_REG = { dor: 0x3f2, status: 0x3f4, dsr: 0x3f4, data: 0x3f5, dir: 0x3f7, dcr: 0x3f7 } as const;
export const FLOPPY_IRQ = 6;
export const FLOPPY_VECTOR: number = legacyVector(FLOPPY_IRQ);
/** The DMA buffer the reads land in. */
export const FLOPPY_DMA_BUFFER = 0x1_0000;
/** 8237 #1's registers for channel 2, and its page register. */
export const DMA_REG = { address2: 0x04, count2: 0x05, mask: 0x0a, mode: 0x0b, clearFlipFlop: 0x0c, page2: 0x81 } as const;
const IO_DELAY_PORT = 0x80;

/** MSR bits (floppy.h STATUS_*). */
const STATUS_BUSY = 0x10;
const STATUS_DMA = 0x20;
const STATUS_DIR = 0x40;
const STATUS_READY = 0x80;
/** Commands (uapi fdreg.h). */
export const FD_CMD = {
  SPECIFY: 0x03, GETSTATUS: 0x04, RECALIBRATE: 0x07, SENSEI: 0x08, SEEK: 0x0f, PERPENDICULAR: 0x12, CONFIGURE: 0x13, READ: 0xe6,
} as const;
/** DMA_MODE_READ (44h: single mode, device to memory) for channel 2. */
export const DMA_MODE_READ_CH2 = 0x46;

/** The 1.44M format (floppy_type[7] "H1440"): 18 sectors, 2 heads, 80 tracks, gap 1Bh, rate 0. */
const SECTORS_PER_TRACK = 18;
const HEADS = 2;
const TRACKS = 80;
const GAP = 0x1b;
const SIZECODE = 2;
const DISK_SECTORS = SECTORS_PER_TRACK * HEADS * TRACKS;
/** fdc_specify for the 1.44M drive at 500 kb/s on an 82077, DMA mode. */
const SPEC1 = 0xc1;
const SPEC2 = 0x10;
/** fdc_configure's second parameter: FIFO on, threshold 10 (fifo_depth 0Ah). */
const CONFIGURE_FIFO = 0x1a;
const DRIVE = 0;
const MOTOR_ON = 0x10 << DRIVE;

export interface FloppyReadOptions {
  /** Sectors per READ DATA, 1–36 (default 18: a track). */
  readonly sectors?: number;
  /** native_io_delay's port-80h write after each controller and DMA access (default), or none. */
  readonly ioDelay?: '0x80' | 'none';
  /** READ DATA commands before the guest stops (default: it never does). */
  readonly reads?: number;
  /** Cycles of block-layer work before each request (default 20,000: 10 µs). */
  readonly requestCycles?: number;
  /** Told after each read that completed normally: the first LBA and the sector count now at FLOPPY_DMA_BUFFER. */
  readonly onRead?: (lba: number, sectors: number) => void;
}

export interface FloppyRead {
  readonly guest: ScriptedGuest;
  readonly reads: () => number;
  readonly sectors: () => number;
  readonly seeks: () => number;
  readonly interrupts: () => number;
  readonly resets: () => number;
  readonly errors: () => number;
}

export function floppyRead(options: FloppyReadOptions = {}): FloppyRead {
  const perRead = options.sectors ?? SECTORS_PER_TRACK;
  if (!Number.isInteger(perRead) || perRead < 1 || perRead > SECTORS_PER_TRACK * HEADS) throw new RangeError(`sectors per read must be 1–36, not ${perRead}`);
  const ioDelay = options.ioDelay !== 'none';
  const limit = options.reads ?? Number.POSITIVE_INFINITY;
  const requestCycles = options.requestCycles ?? 20_000;
  const { onRead } = options;
  const pic = legacyPic();
  const reply: number[] = [];
  let inr = 0;
  let expecting = false;
  let interrupted = false;
  let reads = 0;
  let sectors = 0;
  let seeks = 0;
  let interrupts = 0;
  let resets = 0;
  let errors = 0;
  /** The driver's state: fdc_state's dor, dtr, perp_mode, spec1/2, need_configure, reset; drive_state's track and flags. */
  let dor = 0x04;
  let dtr = -1;
  let perpMode = 1;
  let spec1 = -1;
  let spec2 = -1;
  let needConfigure = true;
  let needReset = false;
  let track = -2; // NEED_2_RECAL
  let verify = true; // FD_VERIFY
  let newChange = true; // FD_DISK_NEWCHANGE

  function* delay(value: number): GuestProgram {
    if (ioDelay) yield { op: 'out', port: IO_DELAY_PORT, value };
  }
  function* fdOut(port: number, value: number): GuestProgram {
    yield { op: 'out', port, value };
    yield* delay(value);
  }
  function* fdIn(port: number): Step<number> {
    const value = yield { op: 'in', port };
    yield* delay(value);
    return value;
  }
  const dmaOut = fdOut;

  /** wait_til_ready: the MSR until RQM (-1 after 10000 reads). */
  function* waitTilReady(): Step<number> {
    for (let i = 0; i < 10_000; i++) {
      const status = yield* fdIn(FD_REG.status);
      if ((status & STATUS_READY) !== 0) return status;
    }
    return -1;
  }
  /** output_byte: 0, or -1 when the controller would not take it (the driver then resets it). */
  function* outputByte(byte: number): Step<number> {
    const status = yield* waitTilReady();
    if (status >= 0 && (status & (STATUS_READY | STATUS_DIR | STATUS_DMA)) === STATUS_READY) {
      yield* fdOut(FD_REG.data, byte);
      return 0;
    }
    needReset = true;
    return -1;
  }
  /** result: the count of result bytes read into `reply`, or -1. */
  function* result(): Step<number> {
    reply.length = 0;
    for (let i = 0; i < 16; i++) {
      const raw = yield* waitTilReady();
      if (raw < 0) break;
      const status = raw & (STATUS_DIR | STATUS_READY | STATUS_BUSY | STATUS_DMA);
      if ((status & ~STATUS_BUSY) === STATUS_READY) return i;
      if (status !== (STATUS_DIR | STATUS_READY | STATUS_BUSY)) break;
      reply.push(yield* fdIn(FD_REG.data));
    }
    needReset = true;
    return -1;
  }
  /** need_more_output: MORE_OUTPUT (1) when the controller wants another byte, else result()'s count. */
  function* needMoreOutput(): Step<number> {
    const status = yield* waitTilReady();
    if (status < 0) return -1;
    if ((status & (STATUS_READY | STATUS_DIR | STATUS_DMA)) === STATUS_READY) return 1;
    const count = yield* result();
    return count === 1 ? 0 : count; // never MORE_OUTPUT
  }
  function* command(...bytes: number[]): Step<boolean> {
    let failed = 0;
    for (const byte of bytes) failed |= yield* outputByte(byte);
    return failed === 0;
  }
  /** The bottom half's wait for irq 6: the idle loop's `cli`, a check, `sti; hlt`. */
  function* waitForInterrupt(): GuestProgram {
    for (;;) {
      yield { op: 'cli' };
      if (interrupted) break;
      yield { op: 'sti' };
      yield { op: 'hlt' };
    }
    interrupted = false;
    yield { op: 'sti' };
  }
  /** A command that ends with irq 6, then the bottom half runs with the handler's `inr` and `reply`. */
  function* commandWithInterrupt(...bytes: number[]): Step<boolean> {
    expecting = true;
    interrupted = false;
    if (!(yield* command(...bytes))) {
      expecting = false;
      return false;
    }
    yield* waitForInterrupt();
    return true;
  }
  function* setDor(mask: number, data: number): GuestProgram {
    const next = (dor & mask) | data;
    if (next !== dor) {
      dor = next;
      yield* fdOut(FD_REG.dor, dor);
    }
  }
  /** reset_fdc, through the DSR (an 82077), and reset_interrupt's result(). */
  function* resetFdc(): GuestProgram {
    resets++;
    needReset = false;
    perpMode = 1;
    spec1 = -1;
    spec2 = -1;
    needConfigure = true;
    track = -2;
    expecting = true;
    interrupted = false;
    yield { op: 'cli' };
    yield* dmaOut(DMA_REG.mask, 0x04 | 2);
    yield { op: 'sti' };
    yield* fdOut(FD_REG.dsr, 0x80 | (dtr & 3));
    yield* waitForInterrupt();
    yield* result();
  }
  /** setup_DMA for a read of `bytes` into FLOPPY_DMA_BUFFER, interrupts off under the DMA lock. */
  function* setupDma(bytes: number): GuestProgram {
    yield { op: 'cli' };
    yield* dmaOut(DMA_REG.mask, 0x04 | 2); // fd_disable_dma
    yield* dmaOut(DMA_REG.clearFlipFlop, 0);
    yield* dmaOut(DMA_REG.mode, DMA_MODE_READ_CH2);
    yield* dmaOut(DMA_REG.page2, FLOPPY_DMA_BUFFER >>> 16);
    yield* dmaOut(DMA_REG.address2, FLOPPY_DMA_BUFFER & 0xff);
    yield* dmaOut(DMA_REG.address2, (FLOPPY_DMA_BUFFER >>> 8) & 0xff);
    yield* dmaOut(DMA_REG.count2, (bytes - 1) & 0xff);
    yield* dmaOut(DMA_REG.count2, ((bytes - 1) >>> 8) & 0xff);
    yield* dmaOut(DMA_REG.mask, 2); // enable_dma
    yield { op: 'sti' };
  }
  /** disk_change: the DIR's change line; a change marks the disk to be verified. */
  function* diskChange(): Step<boolean> {
    const dir = yield* fdIn(FD_REG.dir);
    if ((dir & 0x80) !== 0) {
      verify = true;
      return true;
    }
    newChange = false;
    return false;
  }
  /** A seek or recalibrate: its command, irq 6 and SENSE INTERRUPT STATUS; the new track, or undefined on failure. */
  function* seekCommand(...bytes: number[]): Step<number | undefined> {
    seeks++;
    if (!(yield* commandWithInterrupt(...bytes))) return undefined;
    if (inr !== 2 || ((reply[0] ?? 0) & 0xf8) !== 0x20) return undefined; // seek_interrupt / recal_interrupt
    return reply[1] ?? 0;
  }

  /** One request: floppy_ready until setup_rw_floppy's READ DATA completes. Returns whether it read. */
  function* request(lba: number, count: number): Step<boolean> {
    const cylinder = Math.floor(lba / (SECTORS_PER_TRACK * HEADS));
    const head = Math.floor(lba / SECTORS_PER_TRACK) % HEADS;
    const sector = (lba % SECTORS_PER_TRACK) + 1;
    for (;;) {
      if (needReset) yield* resetFdc();
      // floppy_ready
      yield* setDor(0xfc, DRIVE | MOTOR_ON); // start_motor
      if (dtr !== 0) { // fdc_dtr: rate 0, 500 kb/s
        yield* fdOut(FD_REG.dcr, 0);
        dtr = 0;
      }
      yield* diskChange();
      if (perpMode !== 0) { // perpendicular_mode: off for the 1.44M format
        yield* command(FD_CMD.PERPENDICULAR, 0);
        perpMode = 0;
      }
      if (needConfigure) { // fdc_specify → fdc_configure
        needConfigure = false;
        yield* outputByte(FD_CMD.CONFIGURE);
        if ((yield* needMoreOutput()) === 1) yield* command(0, CONFIGURE_FIFO, 0);
      }
      if (spec1 !== SPEC1 || spec2 !== SPEC2) {
        yield* command(FD_CMD.SPECIFY, SPEC1, SPEC2);
        spec1 = SPEC1;
        spec2 = SPEC2;
      }
      if (needReset) continue;
      // seek_floppy
      if (!newChange && (yield* diskChange())) {
        errors++; // no diskette: the request fails (the change line stays set)
        return false;
      }
      let target: number | undefined;
      if (track <= -1) {
        const landed = yield* seekCommand(FD_CMD.RECALIBRATE, DRIVE);
        if (landed === undefined) { errors++; needReset = true; return false; }
        track = landed;
        continue;
      } else if (newChange && track === cylinder) {
        target = cylinder === 0 ? 1 : cylinder - 1; // seek to clear the change line
      } else {
        if (verify) { // check_wp: SENSE DRIVE STATUS
          yield* command(FD_CMD.GETSTATUS, DRIVE);
          if ((yield* result()) !== 1) continue;
          verify = false;
        }
        if (cylinder !== track) target = cylinder;
      }
      if (target !== undefined) {
        const landed = yield* seekCommand(FD_CMD.SEEK, DRIVE, target);
        if (landed === undefined) { errors++; track = -2; return false; }
        if (track >= 0 && landed !== track) newChange = false; // seek_interrupt: an effective seek
        track = landed;
        continue;
      }
      // setup_rw_floppy
      yield* setupDma(count * 512);
      const sent = yield* commandWithInterrupt(FD_CMD.READ, DRIVE | (head << 2), cylinder, head, sector, SIZECODE, SECTORS_PER_TRACK, GAP, 0xff);
      if (!sent || inr !== 7) { errors++; needReset = true; return false; }
      if (((reply[0] ?? 0) & 0xc0) !== 0) { errors++; return false; } // rw_interrupt: an abnormal end
      return true;
    }
  }

  const guest = new ScriptedGuest((function* main(): GuestProgram {
    yield* pic.init();
    // SeaBIOS's dma_setup, before the kernel: master clear of both 8237s, channel 4 cascade, unmasked.
    for (const [port, value] of [[0x0d, 0], [0xda, 0], [0xd6, 0xc0], [0xd4, 0]] as const) yield { op: 'out', port, value };
    yield* pic.enable(FLOPPY_IRQ); // request_irq
    yield { op: 'sti' };
    yield* setDor(~0, 0x08); // floppy_grab_irq_and_dma: DMA and interrupts on
    yield* resetFdc();
    let lba = 0;
    while (reads < limit) {
      yield { op: 'compute', cycles: requestCycles };
      const count = Math.min(perRead, SECTORS_PER_TRACK * HEADS - (lba % (SECTORS_PER_TRACK * HEADS)));
      const ok = yield* request(lba, count);
      reads++;
      if (ok) {
        sectors += count;
        onRead?.(lba, count);
        lba = (lba + count) % DISK_SECTORS;
      }
    }
  })()).on(FLOPPY_VECTOR, pic.handler(FLOPPY_IRQ, function* floppyInterrupt(): GuestProgram {
    interrupts++;
    yield* dmaOut(DMA_REG.mask, 0x04 | 2); // fd_disable_dma
    inr = yield* result();
    if (inr === 0) {
      let max = 4;
      do {
        yield* outputByte(FD_CMD.SENSEI);
        inr = yield* result();
        max--;
      } while (((reply[0] ?? 0) & 0x83) !== DRIVE && inr === 2 && max > 0);
    }
    if (!expecting) {
      needReset = true; // an unexpected interrupt: the driver resets the controller
      return;
    }
    expecting = false;
    interrupted = true;
  }));
  return {
    guest, reads: () => reads, sectors: () => sectors, seeks: () => seeks, interrupts: () => interrupts, resets: () => resets, errors: () => errors,
  };
}

export const FLOPPY_READ: WorkloadDefinition = {
  name: 'floppy-read',
  description: "Linux's floppy driver reading a 1.44 MB diskette: seeks with SENSE INTERRUPT STATUS, 8237 channel 2 set up per read, READ DATA by DMA, results by MSR polling",
  follows: 'drivers/block/floppy.c floppy_ready, start_motor, fdc_dtr, disk_change, fdc_specify, seek_floppy, setup_rw_floppy, setup_DMA, output_byte, result, floppy_interrupt, reset_fdc; arch/x86/include/asm/floppy.h hard_dma_setup; asm/dma.h',
  parameters: [
    { name: 'sectors', description: 'sectors per READ DATA (at most a cylinder, both heads)', default: 18, min: 1, max: 36 },
    { name: 'io-delay', description: "native_io_delay after each _p access: port 80h ('0x80', the default) or none", default: '0x80', choices: ['0x80', 'none'] },
    { name: 'reads', description: 'READ DATA commands before the guest stops (0: as many as the run allows)', default: 0, min: 0 },
  ],
  create: (p) => {
    const reads = numberParameter(p, 'reads');
    const run = floppyRead({
      sectors: numberParameter(p, 'sectors'),
      ioDelay: stringParameter(p, 'io-delay') === 'none' ? 'none' : '0x80',
      ...(reads === 0 ? {} : { reads }),
    });
    return {
      guest: run.guest,
      board: { floppyBytes: 1_474_560 },
      progress: () => ({ reads: run.reads(), sectors: run.sectors(), seeks: run.seeks(), interrupts: run.interrupts(), resets: run.resets(), errors: run.errors() }),
    };
  },
};
