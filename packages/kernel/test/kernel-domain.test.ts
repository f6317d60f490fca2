// The kernel domain's lightweight path: its own devices, counters it serves for the device host, and the coalesced ring.
import type { Access, AddressSpace, CounterDescriptor, IoExit } from '@splitvisor/abi';
import { decodeAccess, readLength } from '@splitvisor/abi';
import { createTestContext } from '@splitvisor/device-testkit';
import { AcpiPmTimer } from '@splitvisor/counters';
import { I8254 } from '@splitvisor/pit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KernelDomain } from '../src/index.ts';

const header = (time: number) => ({ vcpu: 0, time, ifFlag: true, readyForInterruptInjection: true });
const out = (port: number, value: number, time = 0): IoExit => ({ kind: 'io', ...header(time), direction: 'out', port, size: 1, count: 1, data: Uint8Array.of(value) });
const inl = (port: number, time = 0): IoExit => ({ kind: 'io', ...header(time), direction: 'in', port, size: 4, count: 1, data: new Uint8Array(0) });
const inb = (port: number, time = 0): IoExit => ({ kind: 'io', ...header(time), direction: 'in', port, size: 1, count: 1, data: new Uint8Array(0) });

const access = (space: AddressSpace, address: number, width: number, count: number, isWrite: boolean, data: Uint8Array): Access => ({ space, address, width, count, isWrite, data });

/** An exit offered to the kernel's one entry point, decoded once: answered (with the bytes read, the device, how) or on to userspace. */
function handle(domain: KernelDomain, exit: IoExit) {
  const decoded = decodeAccess(exit);
  const completion = new Uint8Array(decoded.isWrite ? 0 : readLength(decoded));
  const device = domain.access(decoded, completion);
  if (device === undefined) return { kind: 'to-user' as const };
  // Answered without a device: the coalesced ring; by a name the bus does not hold there: a counter it serves.
  const via = device === null ? 'coalesced' : domain.bus.find(decoded.space, decoded.address) === undefined ? 'counter' : 'device';
  return { kind: 'handled' as const, completion, device, via };
}

function kernel() {
  let now = 0;
  const domain = new KernelDomain(() => now);
  const lines: string[] = [];
  domain.routeIrqs((gsi, level) => lines.push(`${now} gsi${gsi}=${level ? 1 : 0}`));
  return { domain, lines, setNow: (t: number) => { now = t; } };
}

/** A kernel with no irqchip of its own (the 8259 in userspace), for a VM of `vcpus` vCPUs: KVM_INTERRUPT is its. */
function userspaceIrqchip(vcpus: number): KernelDomain {
  const domain = new KernelDomain(() => 0);
  domain.setVcpus(vcpus);
  return domain;
}

describe('kernel domain', () => {
  it('handles its own devices on the lightweight path, and their timers raise irq lines into the irqchip', () => {
    const { domain, lines, setNow } = kernel();
    const pit = new I8254(domain.context('pit', () => 0));
    domain.attach('pit', pit, [{ region: 'counters', base: 0x40 }]);
    for (const [port, value] of [[0x43, 0x34], [0x40, 1193 & 0xff], [0x40, 1193 >> 8]] as const) {
      expect(handle(domain, out(port, value))).toMatchObject({ kind: 'handled', device: 'pit', via: 'device' });
    }
    // The count loads on the CLK pulse after its write (8254 datasheet), so the ticks come at CLK 1 + k × 1193:
    // 1.000686 ms and 2.000533 ms.
    setNow(2_001_000);
    domain.runDue(2_001_000);
    expect(lines.filter((l) => l.endsWith('=1'))).toHaveLength(3); // power-on level, then ticks at ~1 ms and ~2 ms
    expect(handle(domain, inb(0x60))).toEqual({ kind: 'to-user' });
    expect(domain.ioctl({ kind: 'get-device-state', device: 'pit' })).toMatchObject({ kind: 'device-state', state: { model: 'i8254' } });
    expect(domain.ioctl({ kind: 'get-device-state', device: 'rtc' })).toMatchObject({ kind: 'error', code: 1 });
    expect(domain.ioctl({ kind: 'place-device', device: 'rtc', placement: '{}' })).toMatchObject({ kind: 'error', code: 3 }); // the device host's ioctl, not the kernel's
    expect(domain.ioctl({ kind: 'pause', time: 3_000_000 })).toMatchObject({ kind: 'error', code: 2 }); // the guest is not there yet
    expect(domain.ioctl({ kind: 'pause', time: 2_001_000 })).toEqual({ kind: 'ok' });
    expect(domain.ioctl({ kind: 'resume' })).toEqual({ kind: 'ok' });
  });

  it('serves the PM timer registered by the device host exactly as the device would answer (seed 002)', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 10_000_000_000 }), { minLength: 1, maxLength: 30 }), (times) => {
      const { domain, setNow } = kernel();
      const context = createTestContext();
      const pm = new AcpiPmTimer(context); // in the device host
      const [view] = pm.counterViews();
      if (view === undefined) throw new Error('no view');
      const descriptor: CounterDescriptor = { kind: 'counter', space: 'port', address: 0x608, size: 4, ...view };
      expect(domain.ioctl({ kind: 'register-fast-path', device: 'pm-timer', descriptor })).toEqual({ kind: 'ok' });
      let now = 0;
      for (const step of times) {
        now += step;
        setNow(now);
        context.advanceTo(now);
        const outcome = handle(domain, inl(0x608, now));
        if (outcome.kind !== 'handled') throw new Error('went to userspace');
        expect(outcome.via).toBe('counter');
        expect(new DataView(outcome.completion.buffer).getUint32(0, true)).toBe(pm.read('pm-timer', 0, 4));
      }
    }), { numRuns: 200 });
  });

  it('queues writes to a coalesced range and hands them over in order; reads still go to userspace', () => {
    const { domain } = kernel();
    domain.ioctl({ kind: 'register-coalesced-range', space: 'port', address: 0x70, length: 1, enable: true });
    expect(handle(domain, out(0x70, 0x8f))).toMatchObject({ kind: 'handled', via: 'coalesced' });
    expect(handle(domain, out(0x70, 0x0a))).toMatchObject({ kind: 'handled', via: 'coalesced' });
    expect(handle(domain, out(0x71, 0x26))).toEqual({ kind: 'to-user' });
    expect(handle(domain, inb(0x70))).toEqual({ kind: 'to-user' });
    expect(domain.takeCoalesced()).toEqual({ kind: 'coalesced-io', writes: [
      { space: 'port', address: 0x70, data: Uint8Array.of(0x8f) }, { space: 'port', address: 0x70, data: Uint8Array.of(0x0a) },
    ] });
    expect(domain.takeCoalesced()).toBeUndefined();
    domain.ioctl({ kind: 'register-coalesced-range', space: 'port', address: 0x70, length: 1, enable: false });
    expect(handle(domain, out(0x70, 0x8f))).toEqual({ kind: 'to-user' });
  });

  it('passes the device host\'s irq-line ioctls to the irqchip', () => {
    const { domain, lines } = kernel();
    domain.ioctl({ kind: 'irq-line', gsi: 8, level: true });
    expect(lines).toEqual(['0 gsi8=1']);
  });

  it('queues one KVM_INTERRUPT vector for the next entry and refuses a second until it is taken', () => {
    const domain = userspaceIrqchip(1);
    expect(domain.hasQueuedInterrupt()).toBe(false);
    expect(domain.ioctl({ kind: 'interrupt', vcpu: 0, vector: 0x20 })).toEqual({ kind: 'ok' });
    expect(domain.ioctl({ kind: 'interrupt', vcpu: 0, vector: 0x21 })).toMatchObject({ kind: 'error' });
    expect(domain.takeQueuedInterrupt()).toBe(0x20);
    expect(domain.takeQueuedInterrupt()).toBe(-1);
  });

  it('keeps one KVM_INTERRUPT vector per vCPU (a vCPU ioctl)', () => {
    const domain = userspaceIrqchip(2);
    expect(domain.ioctl({ kind: 'interrupt', vcpu: 1, vector: 0x30 })).toEqual({ kind: 'ok' });
    expect(domain.hasQueuedInterrupt(0)).toBe(false);
    expect(domain.ioctl({ kind: 'interrupt', vcpu: 0, vector: 0x20 })).toEqual({ kind: 'ok' });
    expect(domain.ioctl({ kind: 'interrupt', vcpu: 1, vector: 0x31 })).toMatchObject({ kind: 'error', message: expect.stringMatching(/vCPU 1/) as unknown });
    expect([domain.takeQueuedInterrupt(1), domain.takeQueuedInterrupt(0), domain.takeQueuedInterrupt(1)]).toEqual([0x30, 0x20, -1]);
  });

  it('passes MSIs to its local APICs, and refuses them when it has none', () => {
    const { domain } = kernel();
    expect(domain.ioctl({ kind: 'msi', address: 0xfee0_0000, data: 0x30 })).toMatchObject({ kind: 'error' });
    const signalled: string[] = [];
    domain.setMsiSink((address, data) => { signalled.push(`${address.toString(16)}:${data.toString(16)}`); });
    expect(domain.ioctl({ kind: 'msi', address: 0xfee0_0000, data: 0x30 })).toEqual({ kind: 'ok' });
    expect(signalled).toEqual(['fee00000:30']);
  });

  it('owes userspace one KVM_EXIT_IOAPIC_EOI per level-triggered EOI, in order', () => {
    const { domain } = kernel();
    expect(domain.takeIoapicEoi()).toBe(-1);
    domain.ioapicEoi(0x41);
    domain.ioapicEoi(0x42);
    expect([domain.takeIoapicEoi(), domain.takeIoapicEoi(), domain.takeIoapicEoi()]).toEqual([0x41, 0x42, -1]);
  });

  it('answers nothing until a device is mapped or the device host registers a counter or a coalesced range', () => {
    const empty = kernel().domain;
    expect(handle(empty, out(0x40, 0x34))).toEqual({ kind: 'to-user' });
    const withPit = kernel().domain;
    withPit.bus.map('pit', new I8254(withPit.context('pit', () => 0)), 'counters', 0x40);
    expect(handle(withPit, out(0x40, 0x34))).toMatchObject({ kind: 'handled', device: 'pit' });
    const withRange = kernel().domain;
    withRange.ioctl({ kind: 'register-coalesced-range', space: 'port', address: 0x70, length: 1, enable: true });
    expect(handle(withRange, out(0x70, 0x8f))).toMatchObject({ kind: 'handled', via: 'coalesced' });
    withRange.ioctl({ kind: 'register-coalesced-range', space: 'port', address: 0x70, length: 1, enable: false });
    expect(handle(withRange, out(0x70, 0x8f))).toEqual({ kind: 'to-user' });
  });

  it('answers one access record into the caller\'s buffer, keeping neither the record nor a buffer', () => {
    const { domain, setNow } = kernel();
    const pit = new I8254(domain.context('pit', () => 0));
    domain.bus.map('pit', pit, 'counters', 0x40);
    const context = createTestContext();
    const pm = new AcpiPmTimer(context);
    const [view] = pm.counterViews();
    if (view === undefined) throw new Error('no view');
    domain.ioctl({ kind: 'register-fast-path', device: 'pm-timer', descriptor: { kind: 'counter', space: 'port', address: 0x608, size: 4, ...view } });
    domain.ioctl({ kind: 'register-coalesced-range', space: 'port', address: 0x70, length: 1, enable: true });
    const into = new Uint8Array(4);
    const data = Uint8Array.of(0x34);
    expect(domain.access(access('port', 0x43, 1, 1, true, data), into)).toBe('pit');
    data[0] = 0xa9;
    expect(domain.access(access('port', 0x40, 1, 1, true, data), into)).toBe('pit');
    data[0] = 0x04;
    expect(domain.access(access('port', 0x40, 1, 1, true, data), into)).toBe('pit');
    setNow(123_456);
    context.advanceTo(123_456);
    expect(domain.access(access('port', 0x608, 4, 1, false, new Uint8Array(0)), into)).toBe('pm-timer');
    expect(new DataView(into.buffer).getUint32(0, true)).toBe(pm.read('pm-timer', 0, 4));
    expect(handle(domain, inl(0x608, 123_456))).toMatchObject({ kind: 'handled', device: 'pm-timer', via: 'counter' });
    data[0] = 0x8f;
    expect(domain.access(access('port', 0x70, 1, 1, true, data), into)).toBeNull(); // coalesced: answered, no device named
    data[0] = 0; // the ring took a copy
    expect(domain.takeCoalesced()?.writes).toEqual([{ space: 'port', address: 0x70, data: Uint8Array.of(0x8f) }]);
    expect(domain.access(access('port', 0x71, 1, 1, true, data), into)).toBeUndefined();
    expect(domain.access(access('port', 0x608, 4, 2, false, new Uint8Array(0)), new Uint8Array(8))).toBeUndefined(); // string I/O is not the counter's
    expect(domain.access(access('mmio', 0xfed0_0000, 8, 1, false, new Uint8Array(0)), new Uint8Array(8))).toBeUndefined();
  });
});
