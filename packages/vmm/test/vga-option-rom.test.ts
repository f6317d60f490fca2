// The std VGA's option ROM behind its PCI expansion ROM BAR, and its video memory behind BAR0: the board puts each
// where the guest's configuration decodes it (`chipset-windows.ts`) — enabled, disabled, moved — in every domain
// that holds the VGA with the PCI host, through moves and snapshots; counts what it cannot follow or refuses. Then
// the real thing: Debian's SeaBIOS copies Debian's SeaVGABIOS out of the BAR and runs it, its log as on QEMU.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DeviceDomain } from '@splitvisor/abi';
import { TimerQueue } from '@splitvisor/clock';
import { FILE_NAME_MAX } from '@splitvisor/fw-cfg';
import type { Placement } from '@splitvisor/placement';
import { IdleCpu } from '@splitvisor/scripted-guest';
import { readTraceSync } from '@splitvisor/traces';
import { createWorkload } from '@splitvisor/workloads';
import type { VgaState } from '@splitvisor/vga';
import { Vga } from '@splitvisor/vga';
import { describe, expect, it } from 'vitest';
import type { ChipsetWindowsState, VmOptions } from '../src/index.ts';
import { CHIPSET_WINDOWS, Vm, VmError, checkBiosImage, checkOptionRom, firmwareCpu, genromFile } from '../src/index.ts';
import { placement } from './profiles.ts';

/** An option ROM of 3000 bytes (the header's 55h AAh, its length in 512-byte blocks, then a pattern): a 4 KiB BAR. */
const ROM = Uint8Array.from({ length: 3000 }, (_, i) => (i === 0 ? 0x55 : i === 1 ? 0xaa : i === 2 ? 6 : (i * 7 + 3) & 0xff));
const ROM_BAR = 0x1000;
const OPEN = 0xffff_ffff;

/** A dword of 00:02.0's configuration space, as SeaBIOS writes it: CONFIG_ADDRESS, then CONFIG_DATA. */
function vgaConfig(vm: Vm, register: number, value: number): void {
  vm.io('out', 0xcf8, 4, 0x8000_1000 | register);
  vm.io('out', 0xcfc, 4, value);
}
const readConfig = (vm: Vm, register: number) => {
  vm.io('out', 0xcf8, 4, 0x8000_1000 | register);
  return vm.io('in', 0xcfc, 4, 0);
};
/** The command register: memory space decode on or off. */
const memorySpace = (vm: Vm, on: boolean) => { vgaConfig(vm, 0x04, on ? 0x0002 : 0); };
const read32 = (vm: Vm, address: number) => Number(vm.mmio(false, address, 4, 0n));
/** The ROM's first dword, little-endian. */
const HEADER = 0x06aa55 | ((3 * 7 + 3) << 24);

const counts = (vm: Vm, key: 'vgaRom' | 'vgaFramebuffer') => {
  const state = vm.deviceState(CHIPSET_WINDOWS, 'pci') as ChipsetWindowsState;
  return { followed: state[`${key}Followed`], overlapping: state[`${key}Overlapping`], unfollowed: state[`${key}Unfollowed`] };
};
const moved = (name: string, devices: Partial<Placement['devices']>): Placement => ({ ...placement(name), devices: { ...placement(name).devices, ...devices } });

describe("the VGA's option ROM at its ROM BAR", () => {
  const together: readonly [string, Placement, VmOptions][] = [
    ['both in the kernel', placement('all-kernel'), {}],
    ['both in the monitor', placement('all-monitor'), {}],
    ['both in the device host in this thread', placement('qemu-tcg'), {}],
    ['both in the device host in a worker', placement('kvm-irqchip'), { mode: 'live' }],
    ['both in the device host in a jailed process', placement('kvm-irqchip'), { mode: 'live', transport: 'process' }],
    ['the PCI host in the monitor, the VGA in the device host in this thread', moved('kvm-irqchip', { pci: 'monitor' }), {}],
  ];
  it.each(together)('%s: answers there while memory space and the ROM enable decode it, nowhere otherwise, and moves with the BAR', async (_case, where, options) => {
    const vm = new Vm(where, new IdleCpu(), { ...options, board: { vgaBios: ROM } });
    try {
      vgaConfig(vm, 0x30, 0xffff_fffe); // sizing, as SeaBIOS: the ROM's size rounded up to a power of two
      expect(readConfig(vm, 0x30)).toBe((~(ROM_BAR - 1)) >>> 0);
      vgaConfig(vm, 0x30, 0xfebe_0000);
      memorySpace(vm, true);
      expect(read32(vm, 0xfebe_0000)).toBe(OPEN); // the ROM's own enable is clear
      vgaConfig(vm, 0x30, 0xfebe_0001);
      expect(read32(vm, 0xfebe_0000)).toBe(HEADER);
      expect([vm.mmio(false, 0xfebe_0002, 1, 0n), vm.mmio(false, 0xfebe_0000 + 2999, 1, 0n)]).toEqual([6n, BigInt((2999 * 7 + 3) & 0xff)]);
      expect(read32(vm, 0xfebe_0000 + 3000)).toBe(0); // past the image, within the BAR: zeros, as QEMU's romfile
      expect(read32(vm, 0xfebe_0000 + ROM_BAR)).toBe(OPEN);
      vm.mmio(true, 0xfebe_0000, 4, 0n); // a ROM: the write goes nowhere
      expect(read32(vm, 0xfebe_0000)).toBe(HEADER);
      vgaConfig(vm, 0x30, 0xfe00_0001);
      expect([read32(vm, 0xfebe_0000), read32(vm, 0xfe00_0000)]).toEqual([OPEN, HEADER]);
      memorySpace(vm, false);
      expect(read32(vm, 0xfe00_0000)).toBe(OPEN);
      memorySpace(vm, true);
      expect(read32(vm, 0xfe00_0000)).toBe(HEADER);
      vgaConfig(vm, 0x30, 0xfe00_0000); // SeaBIOS's last write, once the ROM is copied
      expect(read32(vm, 0xfe00_0000)).toBe(OPEN);
      expect(counts(vm, 'vgaRom')).toEqual({ followed: 5, overlapping: 0, unfollowed: 0 });
    } finally {
      await vm.close();
    }
  }, 60_000);

  it('is no window without an image: the BAR sizes QEMU\'s 64 KiB, and enabled it reads as an empty bus', () => {
    const vm = new Vm(placement('qemu-tcg'), new IdleCpu());
    try {
      vgaConfig(vm, 0x30, 0xffff_fffe);
      expect(readConfig(vm, 0x30)).toBe(0xffff_0000);
      vgaConfig(vm, 0x30, 0xfebe_0001);
      memorySpace(vm, true);
      expect(read32(vm, 0xfebe_0000)).toBe(OPEN);
      expect(counts(vm, 'vgaRom')).toEqual({ followed: 0, overlapping: 0, unfollowed: 0 });
    } finally {
      void vm.close();
    }
  });

  it("refuses a place over another device's MMIO or the VGA's own framebuffer, counts it, and leaves the ROM where it was", () => {
    for (const name of ['qemu-tcg', 'all-kernel']) {
      const vm = new Vm(placement(name), new IdleCpu(), { board: { vgaBios: ROM } });
      try {
        vgaConfig(vm, 0x10, 0xfd00_0000);
        vgaConfig(vm, 0x30, 0xfebe_0001);
        memorySpace(vm, true);
        vgaConfig(vm, 0x30, 0xfec0_0001); // over the I/O APIC
        expect([read32(vm, 0xfebe_0000), readConfig(vm, 0x30)], name).toEqual([HEADER, 0xfec0_0001]); // the guest's write stands
        vgaConfig(vm, 0x30, 0xfd00_1001); // inside the VGA's framebuffer BAR
        expect([read32(vm, 0xfebe_0000), read32(vm, 0xfd00_1000)], name).toEqual([HEADER, 0]);
        expect(counts(vm, 'vgaRom'), name).toEqual({ followed: 1, overlapping: 2, unfollowed: 0 });
      } finally {
        void vm.close();
      }
    }
  });

  const apart: readonly [string, Placement][] = [
    ['the PCI host in the monitor, the VGA in a live device host', moved('kvm-irqchip', { pci: 'monitor' })],
    ['the PCI host in a live device host, the VGA in the kernel', moved('kvm-irqchip', { vga: 'kernel' })],
  ];
  it.each(apart)('%s: the BAR is not followed, and each change is counted', async (_case, where) => {
    const vm = new Vm(where, new IdleCpu(), { mode: 'live', board: { vgaBios: ROM } });
    try {
      vgaConfig(vm, 0x30, 0xfebe_0001);
      memorySpace(vm, true);
      expect(read32(vm, 0xfebe_0000)).toBe(OPEN);
      expect(counts(vm, 'vgaRom')).toEqual({ followed: 0, overlapping: 0, unfollowed: 1 });
    } finally {
      await vm.close();
    }
  }, 60_000);

  it('goes with the VGA when it moves, and comes back where the BAR is in a snapshot restored under other placements', () => {
    // A guest that can be snapshotted, never run: the test makes the accesses.
    const vm = new Vm(placement('kvm-irqchip'), createWorkload('firmware-probe').guest, { snapshots: true, board: { vgaBios: ROM } });
    try {
      vgaConfig(vm, 0x30, 0xfebe_0001);
      memorySpace(vm, true);
      vm.move('vga', 'kernel');
      expect(read32(vm, 0xfebe_0000)).toBe(HEADER);
      vm.move('vga', 'user');
      expect(read32(vm, 0xfebe_0000)).toBe(HEADER);
      const snapshot = vm.snapshot();
      for (const name of ['all-monitor', 'all-kernel', 'qemu-tcg']) {
        const again = new Vm(placement(name), createWorkload('firmware-probe').guest, { snapshots: true, board: { vgaBios: ROM } });
        try {
          expect(read32(again, 0xfebe_0000), name).toBe(OPEN);
          again.restore(snapshot);
          expect(read32(again, 0xfebe_0000), name).toBe(HEADER);
        } finally {
          void again.close();
        }
      }
    } finally {
      void vm.close();
    }
  });
});

describe("the VGA's video memory at BAR0", () => {
  it('is the linear framebuffer wherever the guest puts the BAR, while memory space is decoded', async () => {
    for (const [name, options] of [['qemu-tcg', {}], ['all-kernel', {}], ['kvm-irqchip', { mode: 'live' }]] as const) {
      const vm = new Vm(placement(name), new IdleCpu(), options);
      try {
        vgaConfig(vm, 0x10, 0xfd00_0000);
        expect(read32(vm, 0xfd00_0000), name).toBe(OPEN);
        memorySpace(vm, true);
        vm.mmio(true, 0xfd00_0000 + 0xff_fffc, 4, 0x1234_5678n); // the last dword of 16 MiB
        expect(read32(vm, 0xfd00_0000 + 0xff_fffc), name).toBe(0x1234_5678);
        vgaConfig(vm, 0x10, 0xe000_0000);
        expect([read32(vm, 0xfd00_0000 + 0xff_fffc), read32(vm, 0xe000_0000 + 0xff_fffc)], name).toEqual([OPEN, 0x1234_5678]);
        expect(counts(vm, 'vgaFramebuffer'), name).toEqual({ followed: 2, overlapping: 0, unfollowed: 0 });
      } finally {
        await vm.close();
      }
    }
  }, 60_000);
});

describe('option ROM images', () => {
  it('are checked for the ROM header and a size a ROM BAR decodes, in one line', () => {
    expect(checkOptionRom(ROM, 'rom.bin')).toBe(ROM);
    expect(() => checkOptionRom(Uint8Array.of(0x4d, 0x5a, 0), 'a.exe')).toThrow('a.exe: not an option ROM (it starts 4Dh 5Ah, not 55h AAh)');
    expect(() => checkOptionRom(new Uint8Array(0), 'empty.bin')).toThrow('empty.bin: an option ROM is 1 byte to 16 MiB; this one is 0 bytes');
  });
});

const BIOS = '/usr/share/seabios/bios-256k.bin';
const VGA_BIOS = '/usr/share/seabios/vgabios-stdvga.bin';
const TRACE = fileURLToPath(new URL('../../../../shared/traces/seabios-post.jsonl.gz', import.meta.url));

/** The lines SeaBIOS and the VGA BIOS log from the VGA option ROM scan to the mode set (or the log's end), in `log`. */
function vgaBiosLines(log: string): string[] {
  const lines = log.split('\n');
  const from = lines.indexOf('Scan for VGA option rom');
  const to = lines.indexOf('set VGA mode 3', from);
  return from < 0 ? [] : lines.slice(from, to < 0 ? undefined : to + 1);
}

describe('SeaBIOS runs the VGA BIOS from the ROM BAR', () => {
  it.skipIf(!existsSync(BIOS) || !existsSync(VGA_BIOS))("Debian's SeaVGABIOS: its POST logs what it logs on QEMU, and leaves an 80 × 25 text mode", async () => {
    const ram = new SharedArrayBuffer(32 << 20);
    const cpu = firmwareCpu(checkBiosImage(new Uint8Array(readFileSync(BIOS)), BIOS), ram);
    const vgaBios = checkOptionRom(new Uint8Array(readFileSync(VGA_BIOS)), VGA_BIOS);
    // The CPU's MMIO reads of the ROM BAR's window (where SeaBIOS puts it: FEBE0000h, 64 KiB), counted on their way out.
    let romExits = 0;
    const counted = new Proxy(cpu, {
      get(target, key) {
        if (key === 'run') {
          return (...args: Parameters<typeof cpu.run>) => {
            const run = target.run(...args);
            if (run.exit.kind === 'mmio' && !run.exit.isWrite && run.exit.address >= 0xfebe_0000 && run.exit.address < 0xfebf_0000) romExits++;
            return run;
          };
        }
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const vm = new Vm(placement('qemu-tcg'), counted, { ram, board: { memoryBytes: ram.byteLength, vgaBios } });
    try {
      for (let t = 10e6; t <= 1e9 && !vm.debugConsole().includes('set VGA mode 3\n'); t += 10e6) {
        vm.run(t);
        expect(cpu.fault?.reason).toBeUndefined();
      }
      // SeaBIOS copies the ROM out of the BAR with `rep movsl`: a bad checksum is that copy's. The ROM is memory (a
      // read-only slot of the CPU's where the BAR is enabled), as QEMU's ROMs are: no read of it leaves the CPU.
      expect(romExits).toBe(0);
      expect(vm.debugConsole(), 'the ROM as SeaBIOS copied it to C0000h').not.toContain('Found option rom with bad checksum');
      // QEMU's (the shared trace's 402h writes), with the same firmware and ROM: every line, addresses included.
      const qemu = readTraceSync(TRACE).filter((r) => r.kind === 'pio' && r.op === 'w' && r.addr === 0x402).map((r) => String.fromCharCode(r.value)).join('');
      expect(vgaBiosLines(qemu)).toHaveLength(19);
      expect(vgaBiosLines(vm.debugConsole())).toEqual(vgaBiosLines(qemu));
      const domain = new DeviceDomain('user', { now: () => 0, timers: new TimerQueue() });
      const vga = new Vga(domain.context('vga', (output) => output), { memoryBytes: 16 << 20 });
      vga.setState(vm.deviceState('vga') as VgaState);
      expect(vga.displayMode()).toEqual({ kind: 'text', columns: 80, rows: 25, characterWidth: 9, characterHeight: 16 });
      expect(counts(vm, 'vgaRom')).toEqual({ followed: 2, overlapping: 0, unfollowed: 0 }); // enabled to copy it, then disabled
    } finally {
      await vm.close();
    }
  }, 120_000);
});

describe("an option ROM for fw_cfg's genroms/", () => {
  it('is named as fw_cfg can hold it: genroms/NAME in its 55 characters, printable ASCII; its image checked', () => {
    const longest = 'r'.repeat(FILE_NAME_MAX - 'genroms/'.length);
    expect(genromFile(longest, ROM, 'rom.bin')).toEqual({ name: longest, data: ROM });
    expect(() => genromFile(`${longest}r`, ROM, 'rom.bin')).toThrow(VmError);
    expect(() => genromFile('r\u00e9.bin', ROM, 'rom.bin')).toThrow(/printable ASCII/);
    expect(() => genromFile('rom.bin', new Uint8Array(512), 'rom.bin')).toThrow(/not an option ROM/);
  });
});
