// pnpm bench: Debian's SeaBIOS (bios-256k.bin) POST — from the reset vector to "Booting from 0000:7c00" on its debug
// console (port 402h), a disk with a boot sector attached — on splitvisor (kvm-irqchip, modelled) with the x86 CPU's
// decoded-instruction cache on and off, and on QEMU TCG (`qemu-system-x86_64 -accel tcg`, Debian's qemu-system-x86,
// installed here when missing) in the same run, rounds alternating.
//
// splitvisor's wall time runs from the VM's construction to the line (the process and its modules already loaded);
// QEMU's from its spawn to the line reaching us through its debug console on a pipe (its own start-up included: it
// cannot be separated from outside). Guest MIPS is the CPU's instructions over that wall time. Twice: without a VGA
// BIOS (QEMU -nodefaults has no VGA; splitvisor's std-VGA has no option ROM), and with Debian's vgabios-stdvga.bin
// (QEMU -vga std; splitvisor's behind the std-VGA's ROM BAR), which SeaBIOS copies out of the BAR and runs. Neither
// has the pc machine's default CD-ROM (QEMU -nodefaults; splitvisor's `cdrom` absent).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { report } from '@splitvisor/bench';
import { profile, validatePlacement } from '@splitvisor/placement';
import { Vm, checkBiosImage, firmwareCpu } from '../src/index.ts';

const BIOS = '/usr/share/seabios/bios-256k.bin';
const VGA_BIOS = '/usr/share/seabios/vgabios-stdvga.bin';
const QEMU = 'qemu-system-x86_64';
const ROUNDS = 5;
/** SeaBIOS's line as it jumps to the boot sector: the end of POST. */
const BOOTING = 'Booting from 0000:7c00';
const LINE = 'splitvisor: booted from disk';
const RAM_BYTES = 32 << 20;

/**
 * The boot sector (SeaBIOS boots only a disk whose first sector ends in 55AAh), assembled by nasm from:
 *   xor ax, ax / mov ds, ax / mov dx, 3fbh / mov al, 3 / out dx, al / mov si, msg
 *   next: lodsb / test al, al / jz done / mov ah, al / mov dx, 3fdh
 *   poll: in al, dx / test al, 20h / jz poll / mov dx, 3f8h / mov al, ah / out dx, al / jmp next
 *   done: cli / hlt / jmp done
 *   msg: db "splitvisor: booted from disk", 13, 10, 0
 */
const BOOT_SECTOR = Buffer.from(
  '31c08ed8bafb03b003eebe287cac84c0741288c4bafd03eca82074fbbaf80388e0eeebe9faf4ebfc'
  + Buffer.from(`${LINE}\r\n\0`).toString('hex'), 'hex');

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1] ?? Number.NaN;
}

function haveQemu(): boolean {
  return spawnSync(QEMU, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** QEMU TCG from Debian's qemu-system-x86, and SeaBIOS: installed with apt-get when missing. */
function install(): void {
  const missing = [...(haveQemu() ? [] : ['qemu-system-x86']), ...(existsSync(BIOS) ? [] : ['seabios'])];
  if (missing.length === 0) return;
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  const run = (args: string[]) => execFileSync(sudo[0] ?? args[0] ?? '', [...sudo.slice(1), ...(sudo.length > 0 ? args : args.slice(1))], { stdio: ['ignore', 'ignore', 'inherit'] });
  run(['apt-get', 'update', '-qq']);
  run(['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...missing]);
}

/** One POST on splitvisor: wall ms from the VM's construction to SeaBIOS's BOOTING line, and the instructions run. */
async function splitvisorPost(image: Uint8Array, disk: string, decodeCache: boolean, vgaBios?: Uint8Array): Promise<{ ms: number; instructions: number }> {
  // QEMU's -nodefaults leaves out the pc machine's default CD-ROM: the board here leaves its out too.
  const kvm = profile('kvm-irqchip');
  const checked = validatePlacement(kvm === undefined ? kvm : { ...kvm, devices: { ...kvm.devices, cdrom: 'absent' } });
  if (!checked.ok) throw new Error(checked.problems.join('; '));
  const placement = checked.placement;
  const start = performance.now();
  const ram = new SharedArrayBuffer(RAM_BYTES);
  const cpu = firmwareCpu(image, ram, { decodeCache });
  const vm = new Vm(placement, cpu, { mode: 'modelled', ram, board: { memoryBytes: RAM_BYTES, diskImage: disk, diskReadOnly: true, ...(vgaBios === undefined ? {} : { vgaBios }) } });
  try {
    for (let t = 1e6; t <= 5e9; t += 1e6) {
      vm.run(t);
      if (vm.debugConsole().includes(BOOTING)) return { ms: performance.now() - start, instructions: cpu.instructions };
      if (cpu.fault !== undefined) throw new Error(`SeaBIOS stopped the CPU: ${cpu.fault.reason}`);
    }
    throw new Error('SeaBIOS did not boot the disk within 5 s of guest time');
  } finally {
    await vm.close();
  }
}

/** One POST on QEMU TCG: wall ms from its spawn to SeaBIOS's BOOTING line on the debug console (a pipe to us). */
function qemuPost(disk: string, vga: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const qemu = spawn(QEMU, [
      '-M', 'pc', '-accel', 'tcg', '-m', String(RAM_BYTES >> 20), '-bios', BIOS, '-nodefaults', ...(vga ? ['-vga', 'std'] : []), '-display', 'none', '-no-reboot',
      '-drive', `file=${disk},format=raw,if=ide,snapshot=on`, '-chardev', 'stdio,id=debug', '-device', 'isa-debugcon,iobase=0x402,chardev=debug',
    ], { stdio: ['ignore', 'pipe', 'ignore'] });
    let log = '';
    let done = false;
    qemu.stdout.setEncoding('latin1');
    qemu.stdout.on('data', (chunk: string) => {
      log += chunk;
      if (!done && log.includes(BOOTING)) {
        done = true;
        resolve(performance.now() - start);
        qemu.kill('SIGKILL');
      }
    });
    qemu.on('error', reject);
    qemu.on('exit', (code) => { if (!done) reject(new Error(`QEMU exited (${code}) before SeaBIOS booted the disk`)); });
  });
}

install();
const dir = mkdtempSync(join(tmpdir(), 'splitvisor-firmware-bench-'));
try {
  const disk = join(dir, 'boot.img');
  const image = Buffer.alloc(1 << 20);
  BOOT_SECTOR.copy(image);
  image.writeUInt16LE(0xaa55, 510);
  writeFileSync(disk, image);
  const bios = checkBiosImage(new Uint8Array(readFileSync(BIOS)), BIOS);
  const vgaBios = new Uint8Array(readFileSync(VGA_BIOS));
  await splitvisorPost(bios, disk, true); // warm-up: the modules' code compiled
  for (const vga of [false, true]) {
    const rom = vga ? vgaBios : undefined;
    const cached: { ms: number; instructions: number }[] = [];
    const uncached: { ms: number; instructions: number }[] = [];
    const qemu: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      cached.push(await splitvisorPost(bios, disk, true, rom));
      uncached.push(await splitvisorPost(bios, disk, false, rom));
      qemu.push(await qemuPost(disk, vga));
    }
    const row = (name: string, runs: readonly { ms: number; instructions: number }[]) => {
      const ms = median(runs.map((r) => r.ms));
      const instructions = runs[0]?.instructions ?? 0;
      return { name, medianNs: ms * 1e6, note: `${(instructions / 1e6).toFixed(2)} M instructions, ${(instructions / ms / 1e3).toFixed(1)} guest MIPS` };
    };
    const baseline = `QEMU TCG (qemu-system-x86_64 -accel tcg${vga ? ' -vga std' : ''}), from its spawn`;
    report(`SeaBIOS POST, reset vector to "${BOOTING}", ${vga ? 'with the VGA BIOS' : 'no VGA BIOS'}: wall time`, [
      { name: baseline, medianNs: median(qemu) * 1e6 },
      row('splitvisor kvm-irqchip, decoded-instruction cache', cached),
      row('splitvisor kvm-irqchip, every instruction decoded', uncached),
    ], baseline);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
