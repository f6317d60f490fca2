// The guest's console: what it writes to COM1 (polling LSR.THRE, as the 8250 console does) is the run's console text.
import type { GuestProgram } from '@splitvisor/scripted-guest';
import { ScriptedGuest } from '@splitvisor/scripted-guest';
import { describe, expect, it } from 'vitest';
import { Vm } from '../src/index.ts';
import { placement } from './profiles.ts';

function printk(text: string): ScriptedGuest {
  return new ScriptedGuest((function* console(): GuestProgram {
    for (const [offset, value] of [[3, 0x83], [0, 1], [1, 0], [3, 0x03]] as const) yield { op: 'out', port: 0x3f8 + offset, value }; // 115200 8N1
    for (const char of text) {
      while (((yield { op: 'in', port: 0x3fd }) & 0x20) === 0) yield { op: 'compute', cycles: 200 }; // wait for THRE
      yield { op: 'out', port: 0x3f8, value: char.charCodeAt(0) };
    }
    for (;;) yield { op: 'hlt' }; // idle while the last characters leave the wire
  })());
}

describe('the guest console', () => {
  it('is what the guest wrote to COM1, wherever the UART is placed', () => {
    for (const name of ['kvm-irqchip', 'all-kernel', 'plex86']) {
      const vm = new Vm(placement(name), printk('Linux version 6.1\r\n'));
      vm.run(10_000_000);
      expect(vm.console(), name).toBe('Linux version 6.1\r\n');
    }
  });

  it('has no disk drive without an image', () => {
    const vm = new Vm(placement('kvm-irqchip'), new ScriptedGuest((function* probe(): GuestProgram { yield { op: 'hlt' }; })()));
    expect(vm.io('in', 0x1f7, 1, 0)).toBe(0); // ATA status with no drive on the channel, as QEMU
  });
});
