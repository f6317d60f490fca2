// The board's lines to the CPU: the A20 gate, open while port 92h's bit 1 or the 8042's output-port bit 1 is set,
// and INIT, from port 92h's fast reset and the 8042's reset pulse — real-mode code on the x86 CPU under the VM,
// with port 92h and the 8042 in the device host, the kernel and the monitor.
import { X86Cpu } from '@splitvisor/cpu-x86';
import type { Placement } from '@splitvisor/placement';
import { describe, expect, it } from 'vitest';
import { Vm } from '../src/index.ts';
import { placement } from './profiles.ts';

const RAM_BYTES = 2 << 20;
const CODE = 0x7c00;

/** A 64 KiB ROM at the top of 4 GiB whose reset vector (FFFF0h into it) holds `hlt`. */
function resetRom(): Uint8Array {
  const rom = new Uint8Array(0x1_0000);
  rom[0xfff0] = 0xf4;
  return rom;
}

/** `code` at 0000:7C00 on an x86 CPU over the VM's RAM, run until it halts (at most 10 ms of guest time). */
async function run(where: Placement, code: readonly number[]) {
  const ram = new SharedArrayBuffer(RAM_BYTES);
  const memory = new Uint8Array(ram);
  memory.set(code, CODE);
  const cpu = new X86Cpu(memory, { cs: 0, ip: CODE, rom: resetRom(), mmio: (address) => address >= RAM_BYTES && address < 0xffff_0000 });
  const vm = new Vm(where, cpu, { ram, board: { memoryBytes: RAM_BYTES } });
  try {
    for (let t = 100_000; t <= 10_000_000 && !cpu.halted; t += 100_000) vm.run(t);
    return { cpu, memory, lines: vm.outputLines() };
  } finally {
    await vm.close();
  }
}

const withDevicesIn = (profile: string, where: 'kernel' | 'monitor' | 'user'): Placement => {
  const base = placement(profile);
  return { ...base, devices: { ...base.devices, port92: where, keyboard: where } };
};

describe('the A20 gate and INIT reach the CPU', () => {
  it.each(['user', 'kernel', 'monitor'] as const)('port 92h and the 8042 in the %s: A20 closes when both gates are low, opens with either; a fast reset is INIT', async (where) => {
    const { cpu, memory, lines } = await run(withDevicesIn('kvm-irqchip', where), [
      0xb8, 0xff, 0xff, // mov ax, 0FFFFh
      0x8e, 0xd8, // mov ds, ax
      0xc6, 0x06, 0x11, 0x00, 0xaa, // mov byte [11h], 0AAh: FFFF:0011 is 100001h (the 8042 powers on with A20 open)
      0xb0, 0xdd, // mov al, 0DDh
      0xe6, 0x64, // out 64h, al: the 8042's "disable A20" (port 92h's gate is low from power-on)
      0xc6, 0x06, 0x10, 0x00, 0xbb, // mov byte [10h], 0BBh: wraps to 000000h
      0xe4, 0x92, // in al, 92h
      0x0c, 0x02, // or al, 2
      0xe6, 0x92, // out 92h, al: port 92h opens A20
      0xc6, 0x06, 0x10, 0x00, 0xcc, // mov byte [10h], 0CCh: 100000h
      0x0c, 0x01, // or al, 1
      0xe6, 0x92, // out 92h, al: the fast reset, INIT
      0xeb, 0xfe, // jmp $ (never reached: the CPU runs from its reset vector)
    ]);
    expect([memory[0x10_0001], memory[0x00_0001]]).toEqual([0xaa, 0]);
    expect([memory[0x00_0000], memory[0x10_0000]]).toEqual([0xbb, 0xcc]);
    expect(cpu.a20).toBe(true);
    expect([cpu.cs, cpu.eip, cpu.halted, cpu.ax]).toEqual([0xf000, 0xfff1, true, 0]); // halted on the ROM's reset vector, registers cleared
    expect(lines.get('keyboard.a20')?.level).toBe(false);
    expect(lines.get('port92.reset')?.rises).toBe(1);
  });

  it('the 8042\'s reset pulse (command FEh) is INIT', async () => {
    const { cpu, lines } = await run(placement('kvm-irqchip'), [
      0xb8, 0x34, 0x12, // mov ax, 1234h
      0xb0, 0xfe, // mov al, 0FEh
      0xe6, 0x64, // out 64h, al: pulse the output port's reset bit
      0xeb, 0xfe, // jmp $
    ]);
    expect([cpu.cs, cpu.eip, cpu.halted, cpu.ax]).toEqual([0xf000, 0xfff1, true, 0]);
    expect(lines.get('keyboard.reset')?.rises).toBe(1);
  });
});
