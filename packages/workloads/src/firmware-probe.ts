/**
 * What SeaBIOS 1.16 asks of QEMU's firmware devices during POST, before
 * anything else of the board (src/fw/paravirt.c, src/hw/serialio.c,
 * src/x86.h, src/boot.c), against ports the board must answer as QEMU's
 * `pc` does:
 *
 * 1. `qemu_debug_preinit`: a read of the debug port, 402h; only E9h
 *    (QEMU_DEBUGCON_READBACK, an isa-debugcon there) turns the log on. Every
 *    `dprintf` after is one `outb` to 402h per character.
 * 2. The banner, "SeaBIOS (version …)".
 * 3. `set_a20(1)`: port 92h read, bit 1 ORed in and written back when it
 *    was clear (the seabios-post trace: a read of 00h, a write of 02h; every
 *    later mode switch reads it again).
 * 4. `qemu_cfg_detect`: key 0 to the selector (510h, a 16-bit write), four
 *    data reads (511h) that must spell "QEMU" — without them, no fw_cfg
 *    and nothing of what follows; "Found QEMU fw_cfg"; key 1, FW_CFG_ID's
 *    four bytes.
 * 5. `qemu_early_e820`: the file directory (key 19h: a big-endian count,
 *    then 64-byte entries) read entry by entry until `etc/e820`; that file's
 *    20-byte entries, a "qemu/e820: … [RAM]" line for each RAM range, whose
 *    end sizes RAM ("fw_cfg file etc/e820 not found" without it).
 * 6. `qemu_cfg_init`: the file directory again, every entry.
 * 7. `qemu_get_present_cpus_count` and "etc/max-cpus": FW_CFG_NB_CPUS (5)
 *    and FW_CFG_MAX_CPUS (0Fh), two bytes each; "Found n cpu(s) max
 *    supported m cpu(s)".
 * 8. `loadBootOrder`: the `bootorder` file, read whole.
 * 9. `boot_fail` with `-boot reboot-timeout` set ("etc/boot-fail-wait"):
 *    "No bootable device.  Retrying in n seconds.", the wait, and POST again
 *    (the reset itself is left out: no CPU acts on one here).
 *
 * Every fw_cfg read goes through the data port — SeaBIOS's path before it
 * has read FW_CFG_ID, and for everything when the ID lacks the DMA bit; with
 * the bit SeaBIOS reads the rest by DMA, which needs a descriptor in guest
 * RAM that a scripted guest has no way to write.
 */
import type { GuestProgram } from '@splitvisor/scripted-guest';
import { ScriptedGuest } from '@splitvisor/scripted-guest';
import { GUEST_TSC_HZ } from './lapic-tick.ts';
import type { GuestRoutine } from './linux-8259.ts';
import type { WorkloadDefinition } from './workload.ts';
import { numberParameter } from './workload.ts';

/** SeaBIOS's debug port (src/hw/serialio.c DebugOutputPort) and the read that says a debug console is there. */
const DEBUG_PORT = 0x402;
const DEBUGCON_READBACK = 0xe9;
/** System Control Port A and its A20 bit (src/x86.h PORT_A20, A20_ENABLE_BIT). */
const PORT_A20 = 0x92;
const A20_ENABLE_BIT = 0x02;
/** fw_cfg's ports (src/fw/paravirt.h PORT_QEMU_CFG_CTL, PORT_QEMU_CFG_DATA) and the keys read. */
const CFG_CTL = 0x510;
const CFG_DATA = 0x511;
const CFG_SIGNATURE = 0x00;
const CFG_ID = 0x01;
const CFG_NB_CPUS = 0x05;
const CFG_MAX_CPUS = 0x0f;
const CFG_FILE_DIR = 0x19;
/** A file directory entry (struct QemuCfgFile) and an e820 entry (struct e820_reservation). */
const CFG_FILE_BYTES = 64;
const E820_ENTRY_BYTES = 20;
const E820_RAM = 1;

/** The version the banner names: the shared seabios-post trace's. */
export const SEABIOS_VERSION = '1.16.2';

export interface FirmwareProbeOptions {
  /** The reboot timeout SeaBIOS waits before POST again, ms (QEMU's -boot reboot-timeout; default 1). */
  readonly rebootMs?: number;
}

export interface FirmwareProbe {
  readonly guest: ScriptedGuest;
  /** POSTs completed. */
  readonly posts: () => number;
  /** Characters written to the debug port. */
  readonly logBytes: () => number;
  /** RAM as the e820 file gave it (the end of the highest RAM range), bytes; 0 without fw_cfg. */
  readonly ramBytes: () => number;
  /** CPUs as FW_CFG_NB_CPUS gave them; 0 without fw_cfg. */
  readonly cpus: () => number;
  /** Files in fw_cfg's directory. */
  readonly files: () => number;
  /** The boot order fw_cfg gave, one device path an entry. */
  readonly bootOrder: () => readonly string[];
}

/** A number as SeaBIOS's %016llx prints it. */
const hex16 = (value: number): string => value.toString(16).padStart(16, '0');

export function firmwareProbe(options: FirmwareProbeOptions = {}): FirmwareProbe {
  const rebootCycles = Math.round(((options.rebootMs ?? 1) * GUEST_TSC_HZ) / 1000);
  let posts = 0;
  let logBytes = 0;
  let ramBytes = 0;
  let cpus = 0;
  let files = 0;
  let bootOrder: string[] = [];
  let debug = false;

  function* dprintf(text: string): GuestRoutine<void> {
    if (!debug) return;
    for (const c of text) {
      yield { op: 'out', port: DEBUG_PORT, value: c.charCodeAt(0) & 0xff };
      logBytes++;
    }
  }

  function* select(key: number): GuestRoutine<void> {
    yield { op: 'out', port: CFG_CTL, value: key, size: 2 };
  }

  function* bytes(count: number): GuestRoutine<number[]> {
    const read: number[] = [];
    for (let i = 0; i < count; i++) read.push(yield { op: 'in', port: CFG_DATA });
    return read;
  }

  const little = (b: readonly number[]) => b.reduceRight((v, byte) => v * 256 + byte, 0);
  const big = (b: readonly number[]) => b.reduce((v, byte) => v * 256 + byte, 0);
  /** A directory entry's name: its bytes from 8 up to the NUL. */
  const name = (b: readonly number[]) => String.fromCharCode(...b.slice(8)).split('\0')[0] ?? '';

  /** One directory entry: its size, key and name. */
  function* fileEntry(): GuestRoutine<{ size: number; key: number; name: string }> {
    const entry = yield* bytes(CFG_FILE_BYTES);
    return { size: big(entry.slice(0, 4)), key: big(entry.slice(4, 6)), name: name(entry) };
  }

  function* earlyE820(): GuestRoutine<void> {
    yield* select(CFG_FILE_DIR);
    const count = big(yield* bytes(4));
    let found: { size: number; key: number } | undefined;
    for (let i = 0; i < count && found === undefined; i++) {
      const entry = yield* fileEntry();
      if (entry.name === 'etc/e820') found = entry;
    }
    if (found === undefined) {
      yield* dprintf('qemu/e820: fw_cfg file etc/e820 not found\n');
      return;
    }
    yield* select(found.key);
    for (let i = 0; i < Math.floor(found.size / E820_ENTRY_BYTES); i++) {
      const entry = yield* bytes(E820_ENTRY_BYTES);
      const [address, length, type] = [little(entry.slice(0, 8)), little(entry.slice(8, 16)), little(entry.slice(16))];
      if (type !== E820_RAM) continue;
      yield* dprintf(`qemu/e820: addr 0x${hex16(address)} len 0x${hex16(length)} [RAM]\n`);
      ramBytes = Math.max(ramBytes, address + length);
    }
  }

  function* post(): GuestRoutine<void> {
    debug = (yield { op: 'in', port: DEBUG_PORT }) === DEBUGCON_READBACK;
    yield* dprintf(`SeaBIOS (version ${SEABIOS_VERSION})\n`);
    const a20 = yield { op: 'in', port: PORT_A20 };
    if ((a20 & A20_ENABLE_BIT) === 0) yield { op: 'out', port: PORT_A20, value: (a20 | A20_ENABLE_BIT) & 0xff };
    yield* select(CFG_SIGNATURE);
    if (String.fromCharCode(...(yield* bytes(4))) !== 'QEMU') return;
    yield* dprintf('Found QEMU fw_cfg\n');
    yield* select(CFG_ID);
    yield* bytes(4);
    yield* earlyE820();
    yield* select(CFG_FILE_DIR);
    files = big(yield* bytes(4));
    const entries: { size: number; key: number; name: string }[] = [];
    for (let i = 0; i < files; i++) entries.push(yield* fileEntry());
    yield* select(CFG_NB_CPUS);
    cpus = little(yield* bytes(2));
    yield* select(CFG_MAX_CPUS);
    const max = little(yield* bytes(2));
    yield* dprintf(`Found ${cpus} cpu(s) max supported ${max} cpu(s)\n`);
    const order = entries.find((e) => e.name === 'bootorder');
    if (order !== undefined && order.size > 0) {
      yield* select(order.key);
      const text = String.fromCharCode(...(yield* bytes(order.size)));
      bootOrder = (text.split('\0')[0] ?? '').split('\n').filter((path) => path !== '');
    }
  }

  const main = function* firmware(): GuestProgram {
    for (;;) {
      yield* post();
      yield* dprintf(`No bootable device.  Retrying in ${Math.floor((options.rebootMs ?? 1) / 1000)} seconds.\n`);
      posts++;
      yield { op: 'compute', cycles: rebootCycles };
    }
  };

  return {
    guest: new ScriptedGuest(main()),
    posts: () => posts,
    logBytes: () => logBytes,
    ramBytes: () => ramBytes,
    cpus: () => cpus,
    files: () => files,
    bootOrder: () => bootOrder,
  };
}

export const FIRMWARE_PROBE: WorkloadDefinition = {
  name: 'firmware-probe',
  description: "SeaBIOS's POST on QEMU's firmware devices: the debug console probe and log, the A20 gate at port 92h, fw_cfg's signature, ID, file directory, etc/e820, CPU counts and boot order through the data port; then a reboot timeout and POST again",
  follows: 'SeaBIOS 1.16 src/hw/serialio.c qemu_debug_preinit; src/x86.h set_a20; src/fw/paravirt.c qemu_cfg_detect, qemu_early_e820, qemu_cfg_init, qemu_get_present_cpus_count; src/boot.c loadBootOrder, boot_fail',
  parameters: [{ name: 'reboot-ms', description: 'the reboot timeout between POSTs (-boot reboot-timeout), ms', default: 1, min: 1, max: 60_000 }],
  create: (p) => {
    const run = firmwareProbe({ rebootMs: numberParameter(p, 'reboot-ms') });
    return {
      guest: run.guest,
      progress: () => ({ posts: run.posts(), logBytes: run.logBytes(), ramMiB: Math.floor(run.ramBytes() / 2 ** 20), cpus: run.cpus(), files: run.files() }),
    };
  },
};
