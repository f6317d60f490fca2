// `splitvisor run --firmware bios-256k.bin --disk boot.img`: Debian's SeaBIOS (the seabios package; .ci/run installs
// it) run by the x86 CPU from the reset vector, through POST to the boot of a disk whose boot sector — assembled here
// by nasm — writes a line to COM1 and halts; and the firmware a user gives wrongly: one line, a non-zero exit.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const cwd = fileURLToPath(new URL('..', import.meta.url));
const splitvisor = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });

const BIOS = '/usr/share/seabios/bios-256k.bin';
const LINE = 'splitvisor: booted from disk';
const dir = mkdtempSync(join(tmpdir(), 'splitvisor-firmware-'));
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

/** A 1 MiB disk whose boot sector sets COM1 to 8N1, prints LINE there (waiting for THRE before each byte) and halts. */
function bootDisk(): string {
  const source = join(dir, 'boot.asm');
  writeFileSync(source, `
bits 16
org 0x7c00
  xor ax, ax
  mov ds, ax
  mov dx, 0x3fb        ; LCR: 8 data bits, no parity, 1 stop bit (the UART transmits only the word length's bits)
  mov al, 3
  out dx, al
  mov si, msg
next:
  lodsb
  test al, al
  jz done
  mov ah, al
  mov dx, 0x3fd        ; LSR
poll:
  in al, dx
  test al, 0x20        ; THRE
  jz poll
  mov dx, 0x3f8
  mov al, ah
  out dx, al
  jmp next
done:
  cli
  hlt
  jmp done
msg: db "${LINE}", 13, 10, 0
times 510 - ($ - $$) db 0
dw 0xaa55
`);
  const sector = join(dir, 'boot.bin');
  execFileSync('nasm', ['-f', 'bin', '-o', sector, source]);
  const image = Buffer.alloc(1 << 20);
  readFileSync(sector).copy(image);
  const path = join(dir, 'boot.img');
  writeFileSync(path, image);
  return path;
}

/**
 * An El Torito CD (the "El Torito" Bootable CD-ROM Format Specification 1.0; ECMA-119 for the volume descriptors)
 * whose no-emulation boot image is the boot sector above: a Primary Volume Descriptor at block 16, the Boot Record
 * Volume Descriptor at 17 pointing at the boot catalog (block 19), the set terminator at 18, the catalog's validation
 * entry (x86, its words summing to 0, key 55h AAh) and its bootable default entry (no emulation, load segment 0 =
 * 07C0h, four 512-byte sectors from block 20), then the image at block 20.
 */
function bootCd(): string {
  const block = (n: number) => n * 2048;
  const iso = Buffer.alloc(block(21));
  const descriptor = (at: number, type: number) => {
    iso[block(at)] = type;
    iso.write('CD001', block(at) + 1, 'latin1');
    iso[block(at) + 6] = 1;
  };
  descriptor(16, 1);
  iso.writeUInt32LE(21, block(16) + 80); // the volume space size, both byte orders
  iso.writeUInt32BE(21, block(16) + 84);
  descriptor(17, 0);
  iso.write('EL TORITO SPECIFICATION', block(17) + 7, 'latin1');
  iso.writeUInt32LE(19, block(17) + 0x47);
  descriptor(18, 255);
  const catalog = block(19);
  iso[catalog] = 1; // the validation entry's header; platform 0: 80x86
  iso[catalog + 0x1e] = 0x55;
  iso[catalog + 0x1f] = 0xaa;
  let sum = 0;
  for (let i = 0; i < 32; i += 2) sum += iso.readUInt16LE(catalog + i);
  iso.writeUInt16LE(-sum & 0xffff, catalog + 0x1c);
  iso[catalog + 0x20] = 0x88; // bootable; media type 0: no emulation; load segment 0: the default 07C0h
  iso.writeUInt16LE(4, catalog + 0x26);
  iso.writeUInt32LE(20, catalog + 0x28);
  readFileSync(join(dirname(bootDisk()), 'boot.bin')).copy(iso, block(20));
  const path = join(dir, 'boot.iso');
  writeFileSync(path, iso);
  return path;
}

interface FirmwareRun {
  readonly run: { readonly console: string; readonly debugConsole: string; readonly progress: Record<string, number> };
}

describe('SeaBIOS on splitvisor', () => {
  it('is installed (Debian package seabios)', () => {
    expect(existsSync(BIOS), BIOS).toBe(true);
  });

  it.each(['kvm-irqchip', 'kvm-split', 'kvm-userspace-irqchip', 'kvm-kernel-counters', 'kvm-userspace-pit', 'qemu-tcg', 'plex86', 'all-kernel', 'all-monitor'])('%s: POST, then the disk\'s boot sector writes its line to COM1 and halts', (profile) => {
    const disk = bootDisk();
    const run = splitvisor(['run', '--profile', profile, '--firmware', BIOS, '--disk', `${disk}:ro`, '--duration', '2s', '--json']);
    expect(run.status, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as FirmwareRun;
    expect(result.run.debugConsole).toContain('Booting from Hard Disk...');
    expect(result.run.console).toContain(LINE);
    expect(result.run.progress).toMatchObject({ halted: 1 });
  }, 900_000); // plex86 runs the guest clock on its cycles alone: SeaBIOS's delays are instructions run, minutes of them

  it('stops with one line naming an image that is no BIOS, is missing, or whose CPU triple-faults', () => {
    const small = join(dir, 'small.bin');
    writeFileSync(small, Buffer.alloc(1000));
    const noJump = join(dir, 'zeros.bin');
    writeFileSync(noJump, Buffer.alloc(64 * 1024));
    // A ROM whose reset vector jumps to itself after loading an IDT of limit 0 and raising INT3: a triple fault.
    const triple = Buffer.alloc(64 * 1024);
    const at = triple.length - 16;
    triple.set([0x0f, 0x01, 0x1e, 0xf8, 0xff, 0xcc], at - 32); // lidt [FFF8h] (zeros: limit 0); int3
    triple.set([0xe9, 0xdd, 0xff], at); // jmp near to the code 32 bytes back (FFF0h + 3 − 35)
    const triplePath = join(dir, 'triple.bin');
    writeFileSync(triplePath, triple);
    for (const [file, line] of [
      [small, /^splitvisor: --firmware .*small\.bin: a BIOS image is whole 64 KiB units up to 16 MiB; this one is 1000 bytes$/],
      [noJump, /^splitvisor: --firmware .*zeros\.bin: not a PC BIOS image \(no jump at its reset vector/],
      [join(dir, 'absent.bin'), /^splitvisor: --firmware .*absent\.bin: no such file$/],
      [triplePath, /^splitvisor: the firmware stopped the CPU at f000:0000ffd5: triple fault: .*; eax=.* eip=.*; last instructions at /],
    ] as const) {
      const run = splitvisor(['run', '--profile', 'qemu-tcg', '--duration', '1ms', '--firmware', file]);
      expect(run.status, run.stderr).not.toBe(0);
      expect(run.stdout).toBe('');
      expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(run.stderr.trimEnd()).toMatch(line);
    }
  });

  it("boots a CD: the El Torito disc in the secondary channel's CD-ROM, the boot image writing its line to COM1", () => {
    const cd = bootCd();
    const run = splitvisor(['run', '--profile', 'kvm-irqchip', '--firmware', BIOS, '--vga-bios', 'none', '--cdrom', cd, '--duration', '1s', '--json']);
    expect(run.status, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as FirmwareRun;
    expect(result.run.debugConsole).toContain('DVD/CD [ata1-0: SPLITVISOR DVD-ROM ATAPI-4 DVD/CD]');
    expect(result.run.debugConsole).not.toContain('MEDIUM NOT PRESENT');
    expect(result.run.debugConsole).toContain('Booting from DVD/CD...');
    expect(result.run.console).toContain(LINE);
    expect(result.run.progress).toMatchObject({ halted: 1 });
    // An image that is not whole 2048-byte blocks: one line, nothing run.
    const odd = join(dir, 'odd.iso');
    writeFileSync(odd, Buffer.alloc(2560));
    const bad = splitvisor(['run', '--profile', 'kvm-irqchip', '--firmware', BIOS, '--cdrom', odd, '--duration', '1ms']);
    expect(bad.status).not.toBe(0);
    expect(bad.stdout).toBe('');
    expect(bad.stderr.trimEnd()).toMatch(/^splitvisor: CD-ROM image .*odd\.iso is 2560 bytes, which is not a non-zero multiple of 2048$/);
  }, 120_000);

  it("runs the VGA's option ROM from beside the firmware and --option-rom's from fw_cfg, and stops with one line on a bad one", () => {
    const disk = bootDisk();
    const run = splitvisor(['run', '--profile', 'kvm-irqchip', '--firmware', BIOS, '--disk', `${disk}:ro`, '--duration', '200ms', '--json']);
    expect(run.status, run.stderr).toBe(0);
    const { debugConsole } = (JSON.parse(run.stdout) as FirmwareRun).run;
    expect(debugConsole).toContain('Running option rom at c000:0003\nStart SeaVGABIOS');
    expect(debugConsole).toContain('set VGA mode 3');
    const none = splitvisor(['run', '--profile', 'kvm-irqchip', '--firmware', BIOS, '--vga-bios', 'none', '--disk', `${disk}:ro`, '--duration', '200ms', '--json']);
    expect(none.status, none.stderr).toBe(0);
    expect((JSON.parse(none.stdout) as FirmwareRun).run.debugConsole).not.toContain('SeaVGABIOS');
    const notRom = join(dir, 'not-rom.bin');
    writeFileSync(notRom, Buffer.alloc(4096));
    // A ROM (55h AAh, 1 × 512 bytes, its bytes summing to 0) whose entry returns at once, under three names.
    const header = Buffer.alloc(512);
    header.set([0x55, 0xaa, 1, 0xcb]);
    header[511] = -(0x55 + 0xaa + 1 + 0xcb) & 0xff;
    const rom = join(dir, 'rom.bin');
    const sameName = join(dir, 'other', 'rom.bin');
    const longName = join(dir, `${'a'.repeat(48)}.bin`);
    mkdirSync(join(dir, 'other'), { recursive: true });
    for (const file of [rom, sameName, longName]) writeFileSync(file, header);
    const withRom = splitvisor(['run', '--profile', 'kvm-irqchip', '--firmware', BIOS, '--vga-bios', 'none', '--option-rom', rom, '--disk', `${disk}:ro`, '--duration', '200ms', '--json']);
    expect(withRom.status, withRom.stderr).toBe(0);
    expect((JSON.parse(withRom.stdout) as FirmwareRun).run.debugConsole).toMatch(/Searching bootorder for: \/rom@genroms\/rom\.bin\n(.*\n)*Running option rom at [0-9a-f]{4}:0003\n/);
    for (const [args, line] of [
      [['--firmware', BIOS, '--vga-bios', notRom], /^splitvisor: --vga-bios .*not-rom\.bin: /],
      [['--firmware', BIOS, '--vga-bios', join(dir, 'absent.bin')], /^splitvisor: --vga-bios .*absent\.bin: no such file$/],
      [['--vga-bios', notRom], /^splitvisor: --vga-bios gives the VGA an option ROM for firmware to run: give --firmware too$/],
      [['--firmware', BIOS, '--option-rom', notRom], /^splitvisor: --option-rom .*not-rom\.bin: not an option ROM \(it starts 00h 00h, not 55h AAh\)$/],
      [['--firmware', BIOS, '--option-rom', join(dir, 'absent.bin')], /^splitvisor: --option-rom .*absent\.bin: no such file$/],
      [['--firmware', BIOS, '--option-rom', longName], /^splitvisor: --option-rom .*: fw_cfg would name it genroms\/a{48}\.bin, which must be at most 55 printable ASCII characters$/],
      [['--firmware', BIOS, '--option-rom', rom, '--option-rom', sameName], /^splitvisor: --option-rom .*other\/rom\.bin: another option ROM is named rom\.bin too, and fw_cfg holds one genroms\/rom\.bin$/],
      [['--option-rom', rom], /^splitvisor: --option-rom gives firmware an option ROM to run: give --firmware too$/],
    ] as const) {
      const bad = splitvisor(['run', '--profile', 'qemu-tcg', '--duration', '1ms', ...args]);
      expect(bad.status, bad.stderr).not.toBe(0);
      expect(bad.stdout).toBe('');
      expect(bad.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(bad.stderr.trimEnd()).toMatch(line);
    }
  }, 120_000);
});
