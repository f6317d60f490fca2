import type { GuestExit } from '@splitvisor/abi';
import { describe, expect, it } from 'vitest';
import type { GuestProgram } from '../src/index.ts';
import { ScriptedGuest } from '../src/index.ts';

describe('scripted guest', () => {
  it('yields I/O as exits, receives what it reads, and counts the cycles it runs', () => {
    const seen: number[] = [];
    const guest = new ScriptedGuest((function* main(): GuestProgram {
      yield { op: 'out', port: 0x70, value: 0x0a };
      seen.push(yield { op: 'in', port: 0x71 });
      yield { op: 'compute', cycles: 1000 };
      yield { op: 'out', port: 0x3f8, value: 0x41 };
    })());
    expect(guest.run(Number.POSITIVE_INFINITY)).toEqual({ cycles: 1, exit: { kind: 'io', direction: 'out', port: 0x70, size: 1, count: 1, data: Uint8Array.of(0x0a) } });
    expect(guest.run(Number.POSITIVE_INFINITY).exit).toMatchObject({ kind: 'io', direction: 'in', port: 0x71 });
    guest.complete(Uint8Array.of(0x26));
    expect(guest.run(400)).toEqual({ cycles: 400, exit: { kind: 'budget' } }); // 1 for the compute op, 399 of it
    expect(guest.run(Number.POSITIVE_INFINITY)).toMatchObject({ cycles: 602, exit: { kind: 'io', port: 0x3f8 } });
    expect(guest.run(Number.POSITIVE_INFINITY).exit).toEqual({ kind: 'shutdown' });
    expect(seen).toEqual([0x26]);
  });

  it('reads the TSC without an exit: the TSC at entry plus the cycles run, its own included', () => {
    const seen: number[] = [];
    const guest = new ScriptedGuest((function* main(): GuestProgram {
      seen.push(yield { op: 'rdtsc' });
      yield { op: 'compute', cycles: 100 };
      seen.push(yield { op: 'rdtsc' });
      yield { op: 'in', port: 0x61 };
      seen.push(yield { op: 'rdtsc' });
    })());
    expect(guest.run(Number.POSITIVE_INFINITY, false, 5000)).toMatchObject({ cycles: 104, exit: { kind: 'io', port: 0x61 } });
    guest.complete(Uint8Array.of(0));
    expect(guest.run(Number.POSITIVE_INFINITY, false, 9000)).toEqual({ cycles: 1, exit: { kind: 'shutdown' } });
    expect(seen).toEqual([5001, 5103, 9001]);
  });

  it('exits on wrmsr with the value\'s 8 bytes, and on rdmsr until the value is completed', () => {
    const seen: number[] = [];
    const guest = new ScriptedGuest((function* main(): GuestProgram {
      yield { op: 'wrmsr', index: 0x6e0, value: 2 ** 40 + 3 };
      seen.push(yield { op: 'rdmsr', index: 0x6e0 });
    })());
    expect(guest.run(Number.POSITIVE_INFINITY)).toEqual({ cycles: 1, exit: { kind: 'msr', isWrite: true, index: 0x6e0, data: Uint8Array.of(3, 0, 0, 0, 0, 1, 0, 0) } });
    expect(guest.run(Number.POSITIVE_INFINITY).exit).toEqual({ kind: 'msr', isWrite: false, index: 0x6e0, data: new Uint8Array(0) });
    expect(guest.interruptible).toBe(false);
    guest.complete(Uint8Array.of(3, 0, 0, 0, 0, 1, 0, 0));
    guest.run(Number.POSITIVE_INFINITY);
    expect(seen).toEqual([2 ** 40 + 3]);
  });

  it('halts until an interrupt, runs its handler with IF clear, and restores IF on return', () => {
    const log: string[] = [];
    const guest = new ScriptedGuest((function* main(): GuestProgram {
      yield { op: 'sti' };
      for (let i = 0; i < 2; i++) {
        yield { op: 'hlt' };
        log.push(`woke ${i}`);
      }
    })()).on(0x20, function* timer(): GuestProgram {
      log.push('tick');
      yield { op: 'out', port: 0x20, value: 0x20 }; // EOI through I/O, as a kernel does
    });
    expect(guest.run(Number.POSITIVE_INFINITY).exit).toEqual({ kind: 'hlt' });
    expect([guest.halted, guest.interruptible]).toEqual([true, true]);
    expect(guest.run(1000).exit).toEqual({ kind: 'hlt' }); // still halted
    guest.inject(0x20);
    expect(guest.interruptible).toBe(false); // in the handler
    const eoi: GuestExit = guest.run(Number.POSITIVE_INFINITY).exit;
    expect(eoi).toMatchObject({ kind: 'io', port: 0x20, data: Uint8Array.of(0x20) });
    expect(guest.run(Number.POSITIVE_INFINITY).exit).toEqual({ kind: 'hlt' }); // handler returned, main halted again
    expect(guest.interruptible).toBe(true);
    guest.inject(0x20);
    guest.run(Number.POSITIVE_INFINITY);
    expect(guest.run(Number.POSITIVE_INFINITY).exit).toEqual({ kind: 'shutdown' });
    expect(log).toEqual(['tick', 'woke 0', 'tick', 'woke 1']);
    expect(guest.taken.get(0x20)).toBe(2);
  });

  it('is not interruptible while it waits for the data of a read, or with IF clear', () => {
    const guest = new ScriptedGuest((function* main(): GuestProgram {
      yield { op: 'sti' };
      yield { op: 'in', port: 0x60 };
      yield { op: 'cli' };
      yield { op: 'compute', cycles: 10 };
    })());
    guest.run(Number.POSITIVE_INFINITY);
    expect(guest.interruptible).toBe(false);
    guest.complete(Uint8Array.of(0));
    expect(guest.interruptible).toBe(true);
    guest.run(5);
    expect(guest.interruptible).toBe(false);
  });

  it('blocks interrupts for the instruction after sti, so that sti; hlt cannot lose a wake-up', () => {
    const guest = new ScriptedGuest((function* main(): GuestProgram {
      yield { op: 'sti' };
      yield { op: 'hlt' };
    })());
    expect(guest.run(1).exit).toEqual({ kind: 'budget' }); // stopped between sti and hlt
    expect(guest.interruptible).toBe(false); // in sti's shadow
    expect(guest.run(1).exit).toEqual({ kind: 'hlt' });
    expect([guest.halted, guest.interruptible]).toEqual([true, true]);
  });

  it('stops when an interrupt window opens if asked to, once the shadow of sti is over', () => {
    const guest = new ScriptedGuest((function* main(): GuestProgram {
      yield { op: 'compute', cycles: 5 };
      yield { op: 'sti' };
      yield { op: 'compute', cycles: 100 };
      yield { op: 'cli' };
      yield { op: 'in', port: 0x60 };
    })());
    expect(guest.run(Number.POSITIVE_INFINITY, true)).toEqual({ exit: { kind: 'irq-window' }, cycles: 8 }); // compute op, 5 cycles, sti, the shadowed op
    expect(guest.interruptible).toBe(true);
    // Without the request the same point passes silently.
    const quiet = new ScriptedGuest((function* main(): GuestProgram {
      yield { op: 'sti' };
      yield { op: 'compute', cycles: 100 };
      yield { op: 'in', port: 0x60 };
    })());
    expect(quiet.run(Number.POSITIVE_INFINITY).exit).toMatchObject({ kind: 'io', port: 0x60 });
  });

  it('writes each exit into records of its own, rewritten by the next run: read them before running again', () => {
    const guest = new ScriptedGuest((function* main(): GuestProgram {
      yield { op: 'out', port: 0x80, value: 0x1234, size: 2 };
      yield { op: 'out', port: 0x80, value: 0x5678, size: 2 };
      yield { op: 'write', address: 0xfed0_0000, value: 2 ** 40 + 0x0102_0304, length: 8 };
      yield { op: 'write', address: 0xfee0_0080, value: -1 };
      yield { op: 'read', address: 0xfee0_0030 };
    })());
    const first = guest.run(Number.POSITIVE_INFINITY);
    const firstData = first.exit.kind === 'io' ? first.exit.data : undefined;
    expect([...firstData ?? []]).toEqual([0x34, 0x12]);
    expect(firstData?.byteOffset).toBe(0); // a buffer of its own, as a fresh one would be
    expect(firstData?.buffer.byteLength).toBe(2);
    const second = guest.run(Number.POSITIVE_INFINITY);
    expect(second).toBe(first);
    expect(second.exit).toEqual({ kind: 'io', direction: 'out', port: 0x80, size: 2, count: 1, data: Uint8Array.of(0x78, 0x56) });
    expect(guest.run(Number.POSITIVE_INFINITY).exit).toEqual({ kind: 'mmio', isWrite: true, address: 0xfed0_0000, length: 8, data: Uint8Array.of(4, 3, 2, 1, 0, 1, 0, 0) });
    expect(guest.run(Number.POSITIVE_INFINITY).exit).toEqual({ kind: 'mmio', isWrite: true, address: 0xfee0_0080, length: 4, data: Uint8Array.of(0xff, 0xff, 0xff, 0xff) });
    expect(guest.run(Number.POSITIVE_INFINITY).exit).toEqual({ kind: 'mmio', isWrite: false, address: 0xfee0_0030, length: 4, data: new Uint8Array(0) });
  });
});
