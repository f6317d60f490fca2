// The device host answering exits for a PIT in userspace, the way KVM's run loop would drive QEMU's:
// the same exits over the direct and the worker transport must give the guest the same answers and
// the kernel the same irq lines at the same virtual times.
import type { Exit, Message } from '@splitvisor/abi';
import { NEVER, tickTime } from '@splitvisor/abi';
import type { ChannelEnd } from '@splitvisor/channel';
import { createDirectChannel, spawnWorkerChannel } from '@splitvisor/channel';
import { PIT_HZ } from '@splitvisor/pit';
import { describe, expect, it } from 'vitest';
import { pitHost } from './fixtures/pit-host.ts';

const header = (time: number) => ({ vcpu: 0, time, ifFlag: true, readyForInterruptInjection: true });
const out = (time: number, port: number, value: number): Exit => ({ kind: 'io', ...header(time), direction: 'out', port, size: 1, count: 1, data: Uint8Array.of(value) });
const inb = (time: number, port: number): Exit => ({ kind: 'io', ...header(time), direction: 'in', port, size: 1, count: 1, data: new Uint8Array(0) });
const intr = (time: number): Exit => ({ kind: 'intr', ...header(time) });

/** What the kernel side sees: the guest's reads, irq-line ioctls with the time they arrived, and the deadlines asked for. */
function drive(end: ChannelEnd) {
  let now = 0;
  const seen: string[] = [];
  end.setHandler({
    onCall: () => ({ kind: 'ok' }),
    onPost: (message) => { if (message.kind === 'irq-line') seen.push(`${now} irq${message.gsi}=${message.level ? 1 : 0}`); },
  });
  let deadline = NEVER;
  const send = (exit: Exit): Message => {
    now = exit.time;
    const reply = end.call(exit);
    if (reply.kind !== 'run') throw new Error(`expected run, got ${reply.kind}`);
    deadline = reply.deadline;
    return reply;
  };
  // Linux's periodic clockevent at HZ=1000, programmed at 1 ms.
  send(out(1_000_000, 0x43, 0x34));
  send(out(1_000_000, 0x40, 1193 & 0xff));
  send(out(1_000_000, 0x40, 1193 >> 8));
  // The kernel runs the guest to each deadline the device host asks for, for 5 ms.
  while (deadline <= 6_000_000) send(intr(deadline));
  // The guest reads counter 0 (latch, LSB, MSB) at 6.5 ms.
  send(out(6_500_000, 0x43, 0x00));
  const lsb = send(inb(6_500_000, 0x40));
  const msb = send(inb(6_500_000, 0x40));
  seen.push(`count ${lsb.kind === 'run' ? lsb.completion[0] : -1} ${msb.kind === 'run' ? msb.completion[0] : -1}`);
  const state = end.call({ kind: 'get-device-state', device: 'pit' });
  seen.push(`state ${state.kind}`);
  return seen;
}

describe('device host', () => {
  it('keeps device time from the exits, asks for its deadlines, and raises irq lines by ioctl', () => {
    const [kernel, devhost] = createDirectChannel({ codec: true });
    pitHost(devhost);
    const seen = drive(kernel);
    // Written within this CLK; the 8254 loads the count on the next CLK pulse (datasheet: "loaded on the next CLK pulse").
    const load = Math.floor((1_000_000 * PIT_HZ) / 1e9) + 1;
    const rises = seen.filter((s) => s.endsWith('irq0=1')).map((s) => Number(s.split(' ')[0]));
    // The power-on level (mode 3, OUT high) reaches the kernel with the first exit; then a tick every 1193 clocks.
    expect(rises).toEqual([1_000_000, ...[1, 2, 3, 4, 5].map((k) => tickTime(load + k * 1193, PIT_HZ))]);
    expect(seen.at(-1)).toBe('state device-state');
  });

  it('gives the guest and the kernel exactly the same over the worker transport as in-thread', async () => {
    const [kernel, devhost] = createDirectChannel({ codec: true });
    pitHost(devhost);
    const modelled = drive(kernel);
    const worker = spawnWorkerChannel(new URL('./fixtures/pit-host-worker.ts', import.meta.url), { name: 'kernel', peer: 'devhost' });
    try {
      expect(drive(worker.end)).toEqual(modelled);
    } finally {
      await worker.shutdown();
    }
  }, 30_000);

  it('answers an unknown device and an unsupported ioctl with error replies', () => {
    const [kernel, devhost] = createDirectChannel();
    pitHost(devhost);
    expect(kernel.call({ kind: 'get-device-state', device: 'vga' })).toMatchObject({ kind: 'error', code: 1 });
    expect(kernel.call({ kind: 'program-scratch', device: 'pit', scratch: new Uint8Array(0) })).toMatchObject({ kind: 'error', code: 3 });
    expect(kernel.call({ kind: 'resume' })).toMatchObject({ kind: 'run', deadline: expect.any(Number) as unknown });
    expect(kernel.call({ kind: 'set-device-state', device: 'pit', state: { model: 'rtc', version: 1 } })).toMatchObject({ kind: 'error', code: 2 });
  });

  it('answers reads of unassigned ports as an empty bus', () => {
    const [kernel, devhost] = createDirectChannel();
    const host = pitHost(devhost);
    const reply = kernel.call(inb(0, 0x80));
    expect(reply.kind === 'run' && [...reply.completion]).toEqual([0xff]);
    expect(host.bus.unassigned.reads).toBe(1);
  });

  it('injects from its own irqchip when the guest is ready, and otherwise asks for an irq window (kvm_arch_pre_run)', () => {
    const [kernel, devhost] = createDirectChannel({ codec: true });
    const host = pitHost(devhost);
    let line = false;
    const eois: number[] = [];
    host.hostInterrupts({
      pending: () => line,
      acknowledge: () => { line = false; return 0x20; },
      ioapicEoi: (vector) => { eois.push(vector); },
    });
    const injected: number[] = [];
    kernel.setHandler({ onCall: () => ({ kind: 'ok' }), onPost: (m) => { if (m.kind === 'interrupt') injected.push(m.vector); } });
    line = true;
    const blocked = kernel.call({ kind: 'intr', vcpu: 0, time: 10, ifFlag: false, readyForInterruptInjection: false });
    expect(blocked).toMatchObject({ kind: 'run', requestInterruptWindow: true });
    expect(injected).toEqual([]);
    const window = kernel.call({ kind: 'irq-window-open', ...header(20) });
    expect(window).toMatchObject({ kind: 'run', requestInterruptWindow: false });
    expect(injected).toEqual([0x20]);
    expect(kernel.call({ kind: 'ioapic-eoi', ...header(30), vector: 0x41 })).toMatchObject({ kind: 'run' });
    expect(eois).toEqual([0x41]);
  });
});
