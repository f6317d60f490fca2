// A machine end to end: real machine code on the x86 interpreter programming the 8254 and the 8259 under the
// RunLoop, ticking as the scripted Linux tick does, and the bench's guest against the 8259's IMR in the kernel.
import { NEVER, withIrqOutputs } from '@splitvisor/abi';
import { GuestClock } from '@splitvisor/clock';
import { Asm, UNIT_CPI, X86Cpu } from '@splitvisor/cpu-x86';
import { PcInterrupts } from '@splitvisor/irqchip';
import { KernelDomain } from '@splitvisor/kernel';
import { describe, expect, it } from 'vitest';
import { MonitorDomain, RunLoop } from '../src/index.ts';
import { machineWith, scriptedTick } from './pc-machine.ts';

function word(memory: Uint8Array, address: number): number {
  return (memory[address] ?? 0) | ((memory[address + 1] ?? 0) << 8);
}

const JIFFIES = 0x500;

/** A boot sector's worth of real code: the IVT entry, init_8259A with irq 0 unmasked, the PIT at HZ=1000, then sti; hlt. */
function tickKernel(): { cpu: X86Cpu; jiffies: () => number } {
  const memory = new Uint8Array(0x1_0000);
  const a = new Asm(0x7c00);
  a.mov('ax', 0).mov('ds', 'ax').mov('ss', 'ax').mov('sp', 0x7c00);
  a.db(0xc7, 0x06, 0x80, 0x00).label('ivt').db(0, 0) // mov word [20h*4], timer
    .db(0xc7, 0x06, 0x82, 0x00, 0x00, 0x00); // mov word [20h*4+2], 0
  for (const [port, value] of [[0x20, 0x11], [0x21, 0x20], [0x21, 0x04], [0x21, 0x01], [0x21, 0xfe]] as const) a.mov('al', value).out(port, 'al');
  for (const [port, value] of [[0x43, 0x34], [0x40, 1193 & 0xff], [0x40, 1193 >> 8]] as const) a.mov('al', value).out(port, 'al');
  a.sti()
    .label('idle').hlt().jmp('idle')
    .label('timer').db(0xff, 0x06, JIFFIES & 0xff, JIFFIES >> 8) // inc word [jiffies]
    .push('ax').mov('al', 0x20).out(0x20, 'al').pop('ax') // EOI
    .iret();
  const code = a.bytes();
  code.set([a.at('timer') & 0xff, a.at('timer') >> 8], a.at('ivt') - a.origin);
  memory.set(code, 0x7c00);
  return { cpu: new X86Cpu(memory, { cs: 0, ip: 0x7c00, cpi: UNIT_CPI }), jiffies: () => word(memory, JIFFIES) };
}

describe('real-mode cpu under the run loop', () => {
  for (const where of ['kernel', 'monitor', 'user'] as const) {
    it(`ticks at HZ=1000 from real code programming the 8254 (in the ${where}) and the 8259, as the scripted kernel does`, () => {
      const { cpu, jiffies } = tickKernel();
      const summary = machineWith(cpu, new GuestClock(2_000_000_000), where).runUntil(50_000_000);
      const scripted = scriptedTick();
      const expected = machineWith(scripted.guest, new GuestClock(2_000_000_000), where).runUntil(50_000_000);
      expect(cpu.fault).toBeUndefined();
      expect(jiffies()).toBe(scripted.jiffies());
      expect(jiffies()).toBe(50);
      expect(summary.interrupts).toBe(expected.interrupts);
      expect(summary.halts).toBe(expected.halts);
      expect(summary.exits).toBe(expected.exits); // 8 init writes and an EOI a tick
      expect(cpu.halted).toBe(true);
    });
  }

  it('runs the bench guest (out 21h, al; in al, 21h; jmp) against the 8259\'s IMR in the kernel', () => {
    const memory = new Uint8Array(0x1_0000);
    const a = new Asm(0x7c00).mov('al', 0).label('top').out(0x21, 'al').in('al', 0x21).inc('ax').jmp('top');
    memory.set(a.bytes(), 0x7c00);
    const cpu = new X86Cpu(memory, { cs: 0, ip: 0x7c00, cpi: UNIT_CPI });
    const clock = new GuestClock(2_000_000_000);
    const kernel = new KernelDomain(() => clock.now());
    const chips = new PcInterrupts(withIrqOutputs(kernel.context('irqchip', () => 0), () => undefined));
    kernel.bus.map('pic', chips.pic, 'master', 0x20);
    const loop = new RunLoop({
      cpu, clock, domains: [new MonitorDomain(() => clock.now()), kernel],
      user: { exit: () => ({ completion: new Uint8Array(0), deadline: NEVER, requestInterruptWindow: false }) },
      interrupts: { pending: () => false, acknowledge: () => 0 },
      deviceAt: () => 'pic',
      userDeadline: NEVER,
    });
    const summary = loop.runUntil(1_000); // 2000 cycles: mov, then out, in, inc, jmp a round
    expect(summary.exits).toBe(1000);
    expect(cpu.al).toBe(0xf4); // each IMR write read back and incremented: 500 rounds, the last read returned 0xf3
  });
});
