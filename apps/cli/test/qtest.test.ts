import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { QtestSession, serveQtest } from '../src/qtest.ts';
import type { QtestMachine } from '../src/qtest.ts';

/** `out` here arms a one-shot timer VALUE ns ahead that toggles irq 8 when it fires. */
const TIMER_PORT = 0x40;
/** `out` here sets irq (VALUE & 0xff) to level (VALUE & 0x100), reported even when unchanged. */
const IRQ_PORT = 0x41;
/** MMIO here throws, as a broken machine would. */
const FAULT_ADDRESS = 0xdead;

/** A register file, a timer queue and raw irq lines: just enough machine to drive every command. */
class FakeMachine implements QtestMachine {
  time = 0;
  readonly ports = new Map<number, number>();
  readonly memory = new Map<number, bigint>();
  readonly accesses: string[] = [];
  timers: { at: number; irq: number }[] = [];
  readonly levels = new Map<number, boolean>();
  listener: ((irq: number, level: boolean) => void) | undefined;
  interceptCalls = 0;

  now(): number {
    return this.time;
  }

  nextDeadline(): number {
    return Math.min(Number.POSITIVE_INFINITY, ...this.timers.map((t) => t.at));
  }

  advanceTo(ns: number): void {
    if (!(ns >= this.time)) throw new Error(`advanceTo(${ns}) from ${this.time}`);
    for (;;) {
      const due = this.timers.filter((t) => t.at <= ns).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.time = due.at;
      this.setIrq(due.irq, !(this.levels.get(due.irq) ?? false));
    }
    this.time = ns;
  }

  io(direction: 'in' | 'out', port: number, size: 1 | 2 | 4, value: number): number {
    this.accesses.push(`${direction}${size} ${port.toString(16)} ${value.toString(16)}`);
    if (direction === 'in') return this.ports.get(port) ?? 2 ** (8 * size) - 1;
    if (port === TIMER_PORT) this.timers.push({ at: this.time + value, irq: 8 });
    else if (port === IRQ_PORT) this.setIrq(value & 0xff, (value & 0x100) !== 0);
    else this.ports.set(port, value);
    return 0;
  }

  mmio(isWrite: boolean, address: number, length: 1 | 2 | 4 | 8, value: bigint): bigint {
    this.accesses.push(`${isWrite ? 'write' : 'read'}${length} ${address.toString(16)} ${value.toString(16)}`);
    if (address === FAULT_ADDRESS) throw new Error('bus fault\nat 0xdead');
    if (!isWrite) return this.memory.get(address) ?? 0n;
    this.memory.set(address, value);
    return 0n;
  }

  interceptIrqs(listener: (irq: number, level: boolean) => void): void {
    this.interceptCalls++;
    this.listener = listener;
  }

  setIrq(irq: number, level: boolean): void {
    this.levels.set(irq, level);
    this.listener?.(irq, level);
  }
}

/** A session whose `send` returns the lines one input line produced. */
function open(machine = new FakeMachine()): { machine: FakeMachine; send: (line: string) => string[] } {
  let out: string[] = [];
  const session = new QtestSession(machine, (line) => out.push(line));
  return {
    machine,
    send(line) {
      out = [];
      session.handle(line);
      return out;
    },
  };
}

describe('port I/O', () => {
  it('answers OK to out and OK 0x%04x to in, at the access size', () => {
    const { machine, send } = open();
    expect(send('outb 0x70 0x8f')).toEqual(['OK']);
    expect(send('outw 0x1f0 0xbeef')).toEqual(['OK']);
    expect(send('outl 0xcf8 0x80000000')).toEqual(['OK']);
    expect(machine.accesses).toEqual(['out1 70 8f', 'out2 1f0 beef', 'out4 cf8 80000000']);
    expect(send('inb 0x70')).toEqual(['OK 0x008f']);
    expect(send('inw 0x1f0')).toEqual(['OK 0xbeef']);
    expect(send('inl 0xcf8')).toEqual(['OK 0x80000000']);
    expect(send('inb 0x60')).toEqual(['OK 0x00ff']);
    expect(send('inl 0x60')).toEqual(['OK 0xffffffff']);
  });

  it('cuts a value wider than the access to its low bits, as QEMU\'s C types do', () => {
    const { machine, send } = open();
    expect(send('outb 0x80 0x1ff')).toEqual(['OK']);
    expect(send('outw 0x80 0x123456789')).toEqual(['OK']);
    expect(send('outb 0x80 -1')).toEqual(['OK']);
    expect(machine.accesses).toEqual(['out1 80 ff', 'out2 80 6789', 'out1 80 ff']);
  });

  it('masks what the machine returns to the access size', () => {
    const machine = new FakeMachine();
    machine.ports.set(0x61, 0x1234);
    machine.ports.set(0x62, -1);
    const { send } = open(machine);
    expect(send('inb 0x61')).toEqual(['OK 0x0034']);
    expect(send('inl 0x62')).toEqual(['OK 0xffffffff']);
  });

  it('refuses a port above 0xffff, where QEMU asserts', () => {
    const { machine, send } = open();
    expect(send('outb 0x10000 1')).toEqual(['ERR outb: port 0x10000 is above 0xffff']);
    expect(send('inb -1')).toEqual(['ERR inb: port 0xffffffffffffffff is above 0xffff']);
    expect(send('inw 65535')).toEqual(['OK 0xffff']);
    expect(machine.accesses).toEqual(['in2 ffff 0']);
  });
});

describe('MMIO', () => {
  it('answers OK to writes and OK 0x%016x to reads of 1, 2, 4 and 8 bytes', () => {
    const { machine, send } = open();
    expect(send('writeq 0xfed00000 0xfedcba9876543210')).toEqual(['OK']);
    expect(send('readq 0xfed00000')).toEqual(['OK 0xfedcba9876543210']);
    expect(send('writeb 0x1000 0xab')).toEqual(['OK']);
    expect(send('readb 0x1000')).toEqual(['OK 0x00000000000000ab']);
    expect(send('writew 0x1002 0x1234')).toEqual(['OK']);
    expect(send('readw 0x1002')).toEqual(['OK 0x0000000000001234']);
    expect(send('writel 0x1004 0xdeadbeef')).toEqual(['OK']);
    expect(send('readl 0x1004')).toEqual(['OK 0x00000000deadbeef']);
    expect(send('readl 0x2000')).toEqual(['OK 0x0000000000000000']);
    expect(machine.accesses).toEqual([
      'write8 fed00000 fedcba9876543210', 'read8 fed00000 0',
      'write1 1000 ab', 'read1 1000 0',
      'write2 1002 1234', 'read2 1002 0',
      'write4 1004 deadbeef', 'read4 1004 0',
      'read4 2000 0',
    ]);
  });

  it('cuts wide values and machine results to the access length', () => {
    const machine = new FakeMachine();
    machine.memory.set(0x10, 0x1_2345_6789n);
    const { send } = open(machine);
    expect(send('readw 0x10')).toEqual(['OK 0x0000000000006789']);
    expect(send('writel 0x20 0xfedcba9876543210')).toEqual(['OK']);
    expect(send('writeq 0x28 -1')).toEqual(['OK']);
    expect(machine.memory.get(0x20)).toBe(0x76543210n);
    expect(machine.memory.get(0x28)).toBe(0xffff_ffff_ffff_ffffn);
  });

  it('refuses an address a JS number cannot carry', () => {
    const { machine, send } = open();
    expect(send('readb 0x20000000000000')).toEqual(['ERR readb: address 0x20000000000000 is above 2^53 - 1']);
    expect(send('readb 0x1fffffffffffff')).toEqual(['OK 0x0000000000000000']);
    expect(machine.accesses).toEqual(['read1 1fffffffffffff 0']);
  });
});

describe('numbers, read as strtoul(s, &end, 0) over the whole word', () => {
  it('reads hex, octal and decimal alike', () => {
    const { machine, send } = open();
    for (const port of ['0x10', '0X10', '020', '16', '+16', '0x0010']) expect(send(`outb ${port} 1`)).toEqual(['OK']);
    expect(new Set(machine.accesses)).toEqual(new Set(['out1 10 1']));
    expect(send('outb 0 0')).toEqual(['OK']);
    expect(send('outb 00 0xFf')).toEqual(['OK']);
    expect(machine.accesses.slice(-2)).toEqual(['out1 0 0', 'out1 0 ff']);
  });

  it('negates modulo 2^64 after a minus sign, as strtoul does', () => {
    const { machine, send } = open();
    expect(send('writeq 0 -1')).toEqual(['OK']);
    expect(send('writeq 8 -0x10')).toEqual(['OK']);
    expect(send('writeq 16 -18446744073709551615')).toEqual(['OK']);
    expect(machine.memory.get(0)).toBe(0xffff_ffff_ffff_ffffn);
    expect(machine.memory.get(8)).toBe(0xffff_ffff_ffff_fff0n);
    expect(machine.memory.get(16)).toBe(1n);
  });

  it('takes 64 bits and no more', () => {
    const { send } = open();
    expect(send('writeq 0 18446744073709551615')).toEqual(['OK']);
    expect(send('writeq 0 0xffffffffffffffff')).toEqual(['OK']);
    expect(send('writeq 0 18446744073709551616')).toEqual(["ERR writeq: VALUE '18446744073709551616' does not fit in 64 bits"]);
    expect(send('writeq 0 0x10000000000000000')).toEqual(["ERR writeq: VALUE '0x10000000000000000' does not fit in 64 bits"]);
    expect(send('writeq 0 -18446744073709551616')).toEqual(["ERR writeq: VALUE '-18446744073709551616' does not fit in 64 bits"]);
  });

  it('refuses what strtoul would not consume entirely', () => {
    const { machine, send } = open();
    for (const word of ['08', '0x', '0xg', '1a', '0b1', '--1', '+-1', '-', '+', '1.0', '1e3', 'ten', '٣']) {
      expect(send(`outb 0x80 ${word}`)).toEqual([`ERR outb: VALUE '${word}' is not a number`]);
    }
    expect(send('outb zz 1')).toEqual(["ERR outb: ADDR 'zz' is not a number"]);
    expect(machine.accesses).toEqual([]);
  });
});

describe('the virtual clock', () => {
  it('steps by NS and answers the new time', () => {
    const { machine, send } = open();
    expect(send('clock_step 1000')).toEqual(['OK 1000']);
    expect(send('clock_step 0x10')).toEqual(['OK 1016']);
    expect(machine.time).toBe(1016);
  });

  it('steps to the next deadline without NS, and FAILs as QEMU does when there is none', () => {
    const { machine, send } = open();
    expect(send('clock_step')).toEqual(['FAIL cannot advance clock to the next deadline because there is no pending deadline']);
    expect(send(`outl ${TIMER_PORT} 2500`)).toEqual(['OK']);
    expect(send(`outl ${TIMER_PORT} 700`)).toEqual(['OK']);
    expect(send('clock_step')).toEqual(['OK 700']);
    expect(send('clock_step')).toEqual(['OK 2500']);
    expect(send('clock_step')).toEqual(['FAIL cannot advance clock to the next deadline because there is no pending deadline']);
    expect(machine.time).toBe(2500);
  });

  it('answers FAIL could not advance time when the step leaves time where it was', () => {
    const { machine, send } = open();
    send('clock_step 100');
    expect(send('clock_step 0')).toEqual(['FAIL could not advance time']);
    expect(send('clock_step -5')).toEqual(['FAIL could not advance time']);
    // A timer already due (armed 0 ns ahead) is a deadline of 0 ns from now: QEMU cannot step to it either.
    send(`outl ${TIMER_PORT} 0`);
    expect(send('clock_step')).toEqual(['FAIL could not advance time']);
    expect(machine.time).toBe(100);
  });

  it('sets the clock forward, and leaves it alone with FAIL <now> when NS is behind it', () => {
    const { machine, send } = open();
    expect(send('clock_set 5000')).toEqual(['OK 5000']);
    expect(send('clock_set 5000')).toEqual(['OK 5000']);
    expect(send('clock_set 4000')).toEqual(['FAIL 5000']);
    expect(send('clock_set -1')).toEqual(['FAIL 5000']);
    expect(machine.time).toBe(5000);
  });

  it('fires timers on the way and reports their irq changes before the OK', () => {
    const { send } = open();
    expect(send('irq_intercept_in ioapic')).toEqual(['OK']);
    send(`outl ${TIMER_PORT} 100`);
    send(`outl ${TIMER_PORT} 300`);
    expect(send('clock_set 1000')).toEqual(['IRQ raise 8', 'IRQ lower 8', 'OK 1000']);
  });

  it('refuses clock arguments beyond what it can carry', () => {
    const { send } = open();
    expect(send('clock_step 9223372036854775808')).toEqual(["ERR clock_step: NS '9223372036854775808' does not fit in a signed 64-bit integer"]);
    expect(send('clock_step 9223372036854775807')).toEqual(['ERR clock_step: 0 + 9223372036854775807 ns is above 2^53 - 1 ns']);
    expect(send('clock_set 0x20000000000000')).toEqual(['ERR clock_set: 9007199254740992 ns is above 2^53 - 1 ns']);
    expect(send('clock_set -9223372036854775808')).toEqual(['FAIL 0']);
    expect(send('clock_set -9223372036854775809')).toEqual(["ERR clock_set: NS '-9223372036854775809' does not fit in a signed 64-bit integer"]);
  });
});

describe('irq interception', () => {
  it('reports nothing before irq_intercept_in, then each level change as it happens', () => {
    const { machine, send } = open();
    expect(send(`outw ${IRQ_PORT} 0x104`)).toEqual(['OK']);
    expect(send('irq_intercept_in ioapic')).toEqual(['OK']);
    expect(machine.interceptCalls).toBe(1);
    expect(send(`outw ${IRQ_PORT} 0x108`)).toEqual(['IRQ raise 8', 'OK']);
    expect(send(`outw ${IRQ_PORT} 0x8`)).toEqual(['IRQ lower 8', 'OK']);
    expect(send(`outw ${IRQ_PORT} 0x100`)).toEqual(['IRQ raise 0', 'OK']);
  });

  it('reports a level only when it differs from the last one reported, starting from low', () => {
    const { send } = open();
    send('irq_intercept_in ioapic');
    expect(send(`outw ${IRQ_PORT} 0x3`)).toEqual(['OK']);
    expect(send(`outw ${IRQ_PORT} 0x103`)).toEqual(['IRQ raise 3', 'OK']);
    expect(send(`outw ${IRQ_PORT} 0x103`)).toEqual(['OK']);
    expect(send(`outw ${IRQ_PORT} 0x3`)).toEqual(['IRQ lower 3', 'OK']);
  });

  it('writes irq changes the machine reports between commands at once', () => {
    const lines: string[] = [];
    const machine = new FakeMachine();
    const session = new QtestSession(machine, (line) => lines.push(line));
    session.handle('irq_intercept_in ioapic');
    machine.setIrq(11, true);
    expect(lines).toEqual(['OK', 'IRQ raise 11']);
  });

  it('resolves the I/O APIC by partial or absolute QOM path, and nothing else', () => {
    for (const path of ['ioapic', 'i440fx/ioapic', 'machine/i440fx/ioapic', '/machine/i440fx/ioapic']) {
      expect(open().send(`irq_intercept_in ${path}`)).toEqual(['OK']);
    }
    for (const path of ['/machine/ioapic', '/ioapic', 'pic', 'q35/ioapic', '/machine/i440fx/ioapic/x', 'ioapic/', '/']) {
      expect(open().send(`irq_intercept_in ${path}`)).toEqual(['FAIL Unknown device']);
      expect(open().send(`irq_intercept_out ${path}`)).toEqual(['FAIL Unknown device']);
    }
  });

  it('answers a second intercept OK without intercepting twice', () => {
    const { machine, send } = open();
    expect(send('irq_intercept_in ioapic')).toEqual(['OK']);
    expect(send('irq_intercept_in /machine/i440fx/ioapic')).toEqual(['OK']);
    expect(send('irq_intercept_out ioapic')).toEqual(['OK']);
    expect(machine.interceptCalls).toBe(1);
    expect(send('irq_intercept_in pic')).toEqual(['FAIL Unknown device']);
  });

  it('answers named intercepts as QEMU does for the I/O APIC', () => {
    const { machine, send } = open();
    expect(send('irq_intercept_in ioapic unnamed')).toEqual(['FAIL Interception of named in-GPIOs not yet supported']);
    expect(send('irq_intercept_out ioapic sysbus-irq')).toEqual(['FAIL No intercepts installed']);
    expect(machine.interceptCalls).toBe(0);
  });

  it('treats irq_intercept_out ioapic as QEMU does: OK, and in-interception is then never installed', () => {
    const { machine, send } = open();
    expect(send('irq_intercept_out ioapic')).toEqual(['OK']);
    expect(send('irq_intercept_in ioapic')).toEqual(['OK']);
    expect(machine.interceptCalls).toBe(0);
    expect(send(`outw ${IRQ_PORT} 0x108`)).toEqual(['OK']);
  });
});

describe('other commands', () => {
  it('answers endianness with little', () => {
    expect(open().send('endianness')).toEqual(['OK little']);
  });

  it('answers FAIL Unknown command, case-sensitively, for anything else', () => {
    const { send } = open();
    expect(send('frobnicate 1 2')).toEqual(["FAIL Unknown command 'frobnicate'"]);
    expect(send('OUTB 0x80 1')).toEqual(["FAIL Unknown command 'OUTB'"]);
    expect(send('rtas ibm,foo')).toEqual(["FAIL Unknown command 'rtas'"]);
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      expect(send(name)).toEqual([`FAIL Unknown command '${name}'`]);
    }
  });

  it('checks guest-RAM commands as QEMU does, then FAILs: there is no RAM to reach', () => {
    const { machine, send } = open();
    expect(send('read 0x1000 16')).toEqual(['FAIL read: this machine exposes no guest RAM to qtest']);
    expect(send('b64read 0x1000 16')).toEqual(['FAIL b64read: this machine exposes no guest RAM to qtest']);
    expect(send('write 0x1000 2 0xabcd')).toEqual(['FAIL write: this machine exposes no guest RAM to qtest']);
    expect(send('b64write 0x1000 2 q80=')).toEqual(['FAIL b64write: this machine exposes no guest RAM to qtest']);
    expect(send('memset 0x1000 0 0')).toEqual(['FAIL memset: this machine exposes no guest RAM to qtest']);
    expect(send('write 0x1000 2 0x')).toEqual(['ERR invalid argument size']);
    expect(send('b64write 0x1000 2 ab')).toEqual(['ERR invalid argument size']);
    expect(send('read 0x1000 0')).toEqual(['ERR read: SIZE must not be 0']);
    expect(send('memset 0x1000 4 x')).toEqual(["ERR memset: VALUE 'x' is not a number"]);
    expect(send('read 0x1000')).toEqual(["ERR read: expected 'read ADDR SIZE', got 1 argument"]);
    expect(machine.accesses).toEqual([]);
  });

  it('FAILs set_irq_in, which needs an I/O APIC input the machine does not offer', () => {
    const { send } = open();
    expect(send('set_irq_in ioapic unnamed-gpio-in 4 1')).toEqual(['FAIL set_irq_in: this machine cannot drive I/O APIC inputs from qtest']);
    expect(send('set_irq_in pic unnamed-gpio-in 4 1')).toEqual(['FAIL Unknown device']);
    expect(send('set_irq_in ioapic unnamed-gpio-in 4 0x80000000')).toEqual(["ERR set_irq_in: LEVEL '0x80000000' does not fit in an int"]);
    expect(send('set_irq_in ioapic unnamed-gpio-in 4')).toEqual(["ERR set_irq_in: expected 'set_irq_in QOM-PATH NAME NUM LEVEL', got 3 arguments"]);
  });

  it('answers module_load with a bare FAIL, as QEMU does for a module it cannot load', () => {
    const { send } = open();
    expect(send('module_load accel- tcg')).toEqual(['FAIL']);
    expect(send('module_load accel-')).toEqual(["ERR module_load: expected 'module_load PREFIX NAME', got 1 argument"]);
  });
});

describe('malformed lines', () => {
  it('answers ERR for missing or extra arguments', () => {
    const { machine, send } = open();
    expect(send('outb 0x80')).toEqual(["ERR outb: expected 'outb ADDR VALUE', got 1 argument"]);
    expect(send('outb 0x80 1 2')).toEqual(["ERR outb: expected 'outb ADDR VALUE', got 3 arguments"]);
    expect(send('inb')).toEqual(["ERR inb: expected 'inb ADDR', got 0 arguments"]);
    expect(send('readq 0 0')).toEqual(["ERR readq: expected 'readq ADDR', got 2 arguments"]);
    expect(send('writel 0')).toEqual(["ERR writel: expected 'writel ADDR VALUE', got 1 argument"]);
    expect(send('clock_step 1 2')).toEqual(["ERR clock_step: expected 'clock_step [NS]', got 2 arguments"]);
    expect(send('clock_set')).toEqual(["ERR clock_set: expected 'clock_set NS', got 0 arguments"]);
    expect(send('irq_intercept_in')).toEqual(["ERR irq_intercept_in: expected 'irq_intercept_in QOM-PATH [NAME]', got 0 arguments"]);
    expect(send('irq_intercept_out ioapic a b')).toEqual(["ERR irq_intercept_out: expected 'irq_intercept_out QOM-PATH [NAME]', got 3 arguments"]);
    expect(send('endianness big')).toEqual(["ERR endianness: expected 'endianness', got 1 argument"]);
    expect(machine.accesses).toEqual([]);
  });

  it('ignores empty lines and splits on runs of whitespace', () => {
    const { machine, send } = open();
    for (const line of ['', ' ', '\t', '\r', '  \t \r']) expect(send(line)).toEqual([]);
    expect(send('  outb\t0x80   7\r')).toEqual(['OK']);
    expect(machine.accesses).toEqual(['out1 80 7']);
  });

  it('shortens a long bad word in the ERR line', () => {
    const { send } = open();
    expect(send(`inb ${'x'.repeat(100)}`)).toEqual([`ERR inb: ADDR '${'x'.repeat(40)}…' is not a number`]);
  });

  it('answers FAIL with a one-line message when the machine throws, and carries on', () => {
    const { send } = open();
    expect(send(`readl ${FAULT_ADDRESS}`)).toEqual(['FAIL readl: bus fault at 0xdead']);
    expect(send('endianness')).toEqual(['OK little']);
  });
});

/** xorshift32: a seeded generator, so a failing fuzz line can be replayed from its seed. */
function generator(seed: number): (n: number) => number {
  let state = seed >>> 0 || 1;
  return (n) => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state % n;
  };
}

const COMMANDS = [
  'outb', 'outw', 'outl', 'inb', 'inw', 'inl', 'readb', 'readw', 'readl', 'readq', 'writeb', 'writew', 'writel',
  'writeq', 'clock_step', 'clock_set', 'irq_intercept_in', 'irq_intercept_out', 'set_irq_in', 'endianness',
  'read', 'write', 'b64read', 'b64write', 'memset', 'module_load', 'IRQ', 'OK', '__proto__', '',
];
const WORDS = [
  '0', '1', '-1', '+7', '0x', '0x10', '0X1f', '010', '08', '16', '65535', '65536', '0xffff', '0x10000',
  '18446744073709551615', '18446744073709551616', '-9223372036854775808', '9007199254740992', '0xdead',
  'ioapic', '/machine/i440fx/ioapic', 'pic', 'unnamed', '0xfed00000', '1e3', '', '\t', '\r', '\u2028', '\0', '%s',
];
/** Code units, so an emoji's halves also turn up as lone surrogates. */
const ALPHABET = ' \t\r\nabcdefxX0123456789+-_/\'"\\%\0\u00e9\u{1F600}';

function randomLine(next: (n: number) => number): string {
  const pick = <T>(items: readonly T[]): T => {
    const item = items[next(items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  };
  if (next(4) === 0) {
    return Array.from({ length: next(30) }, () => ALPHABET.charAt(next(ALPHABET.length))).join('');
  }
  const words = [pick(COMMANDS)];
  const count = next(6);
  for (let i = 0; i < count; i++) {
    words.push(next(3) === 0 ? String(next(2 ** 31) - 2 ** 30) : pick(WORDS));
  }
  return words.join(pick([' ', '  ', '\t']));
}

/** One reply; a client splits lines only at '\n' (libqtest) or '\r'/'\n' (node:readline). */
const REPLY = /^(?:OK(?: [^\r\n]*)?|FAIL(?: [^\r\n]*)?|ERR [^\r\n]+)$/u;
const IRQ_LINE = /^IRQ (?:raise|lower) \d+$/;

describe('garbage', () => {
  it('never throws, and answers each non-empty line with one reply line, after its IRQ lines', () => {
    const seed = 0x5eed_0001;
    const next = generator(seed);
    const { send } = open();
    send('irq_intercept_in ioapic');
    const kinds = new Map<string, number>();
    for (let i = 0; i < 10_000; i++) {
      const line = randomLine(next);
      if (next(50) === 0) send(`outl ${TIMER_PORT} ${next(1000)}`);
      const where = `seed ${seed}, line ${i}: ${JSON.stringify(line)}`;
      let lines: string[] = [];
      try {
        lines = send(line);
      } catch (error) {
        expect.fail(`${where} threw ${String(error)}`);
      }
      const blank = line.split(/[ \t\n\v\f\r]+/).every((word) => word === '');
      const reply = lines.at(-1);
      const irqs = lines.slice(0, -1);
      if (blank ? lines.length !== 0 : reply === undefined || !REPLY.test(reply) || !irqs.every((l) => IRQ_LINE.test(l))) {
        expect.fail(`${where} answered ${JSON.stringify(lines)}`);
      }
      const kind = reply?.split(' ')[0] ?? 'none';
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
    // The grammar reaches every kind of answer, not only ERR.
    for (const kind of ['OK', 'FAIL', 'ERR', 'none']) expect(kinds.get(kind) ?? 0).toBeGreaterThan(100);
  });
});

describe('serveQtest', () => {
  it('reads lines from a byte stream split anywhere, CRLF or LF', async () => {
    const machine = new FakeMachine();
    const out: string[] = [];
    const input = Readable.from(['outb 0x80 0x4', '2\r\ninb 0x', '80\n\nendianness\nclock_step 10'].map((s) => Buffer.from(s)));
    await serveQtest(machine, input, (line) => out.push(line));
    expect(out).toEqual(['OK', 'OK 0x0042', 'OK little', 'OK 10']);
  });

  it('takes an async iterable of lines', async () => {
    async function* lines(): AsyncGenerator<string> {
      yield 'irq_intercept_in ioapic';
      yield `outl ${TIMER_PORT} 50`;
      await Promise.resolve();
      yield 'clock_step';
      yield 'nonsense';
    }
    const out: string[] = [];
    await serveQtest(new FakeMachine(), lines(), (line) => out.push(line));
    expect(out).toEqual(['OK', 'OK', 'IRQ raise 8', 'OK 50', "FAIL Unknown command 'nonsense'"]);
  });
});
