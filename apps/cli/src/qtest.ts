/**
 * QEMU's qtest protocol, server side: the line protocol through which QEMU's
 * libqtest drives a machine's ports, MMIO and virtual clock and watches its
 * interrupt lines. Reference: QEMU `system/qtest.c`, "DOC: QTest Protocol",
 * and the replies `qtest_process_command` sends there (read at commit
 * 06b40d250ecf), with `tests/qtest/libqtest.c` `qtest_rsp_args` for what a
 * client accepts. Written from that description; no QEMU code is copied.
 *
 * Every reply QEMU would send is reproduced byte for byte (less the '\n',
 * which the caller adds) where this machine can do what QEMU does, including
 * QEMU's own FAILs:
 * - `clock_step` with no argument and no pending timer: `FAIL cannot advance
 *   clock to the next deadline because there is no pending deadline`;
 *   a `clock_step` that would leave time where it was (NS <= 0, or with no NS
 *   a deadline already due): `FAIL could not advance time`; `clock_set NS`
 *   with NS behind the clock leaves time alone and answers `FAIL <now>`.
 *   (Older QEMU answered `OK <now>` in all three cases.)
 * - `irq_intercept_out ioapic` answers OK: the I/O APIC has no unnamed
 *   out-GPIOs, so QEMU installs nothing yet counts the device as intercepted,
 *   and a later `irq_intercept_in ioapic` answers OK and reports nothing.
 * - A value wider than the access is cut to its low bits (`outb 0x80 0x1ff`
 *   writes 0xff), as QEMU's C conversions to uint8_t/uint16_t/uint32_t do.
 *
 * Where this session answers differently, and why:
 * - QEMU g_asserts on a malformed line (missing argument, unparsable number,
 *   port above 0xffff) and so aborts; this session answers `ERR <why>` and
 *   carries on. It also answers ERR to extra arguments, which QEMU ignores,
 *   and to an MMIO address or clock target above 2^53 - 1 ns, which a
 *   QtestMachine (plain numbers) cannot carry.
 * - QEMU splits a line at every single space (two spaces make an empty word
 *   and an abort) and keeps a trailing '\r'; this session splits at runs of C
 *   whitespace and ignores an empty line (on which QEMU asserts).
 * - `read`, `write`, `b64read`, `b64write` and `memset` address guest RAM,
 *   which a QtestMachine does not expose: they are checked as QEMU checks
 *   them (including its `ERR invalid argument size`), then answered FAIL.
 *   `set_irq_in` cannot drive an I/O APIC input through a QtestMachine: FAIL.
 *   `module_load` answers a bare FAIL, as QEMU does for a module it cannot load.
 * - An exception from the machine is answered `FAIL <command>: <message>`
 *   instead of ending the session.
 *
 * Numbers are read as C `strtoul(s, &end, 0)` reads them, and must fill the
 * whole word (QEMU's qemu_strtoul/qemu_strtou64/qemu_strtoi64): `0x`/`0X`
 * hex, a leading `0` octal, else decimal, after one optional `+` or `-`. A
 * `-` negates modulo 2^64 for unsigned arguments (`-1` is 2^64 - 1), as
 * strtoul does; clock arguments are signed 64-bit (strtoll). Beyond 64 bits
 * is an error (ERANGE). The `0b` prefix that glibc 2.38 accepts under
 * _GNU_SOURCE is not (ISO C11 strtoul does not).
 */
import { createInterface } from 'node:readline';

/** What a qtest session drives: one machine's ports, MMIO, virtual clock and I/O APIC inputs. */
export interface QtestMachine {
  /** Virtual time now, ns. */
  now(): number;
  /** Earliest pending timer deadline across all domains, ns (Infinity/NEVER if none). */
  nextDeadline(): number;
  /** Runs virtual time forward to `ns` (>= now), firing timers on the way. */
  advanceTo(ns: number): void;
  /** One port access at the current time: for 'out' returns 0; for 'in' the value read. size 1|2|4. */
  io(direction: 'in' | 'out', port: number, size: 1 | 2 | 4, value: number): number;
  /** One MMIO access: length 1|2|4|8, value as bigint; read returns the value. */
  mmio(isWrite: boolean, address: number, length: 1 | 2 | 4 | 8, value: bigint): bigint;
  /**
   * Starts reporting ISA irq / GSI level changes of the I/O APIC's inputs
   * (QEMU numbering: ISA irq 0 is 0, although the I/O APIC sees it on pin 2).
   * Called at most once per session. The I/O APIC keeps receiving its inputs:
   * current QEMU forwards an intercepted in-GPIO to its handler.
   */
  interceptIrqs(listener: (irq: number, level: boolean) => void): void;
}

/** C isspace() in the C locale. */
const C_WHITESPACE = /[ \t\n\v\f\r]+/;

const U64_MAX = (1n << 64n) - 1n;
const I64_MAX = (1n << 63n) - 1n;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** The I/O APIC of QEMU's pc (i440fx) machine: `ioapic_init_gsi` adds it as child "ioapic" of the host bridge. */
const IOAPIC_PATH = ['machine', 'i440fx', 'ioapic'] as const;

const OUT_SIZE: ReadonlyMap<string, 1 | 2 | 4> = new Map([['outb', 1], ['outw', 2], ['outl', 4]]);
const IN_SIZE: ReadonlyMap<string, 1 | 2 | 4> = new Map([['inb', 1], ['inw', 2], ['inl', 4]]);
const WRITE_LENGTH: ReadonlyMap<string, 1 | 2 | 4 | 8> =
  new Map([['writeb', 1], ['writew', 2], ['writel', 4], ['writeq', 8]]);
const READ_LENGTH: ReadonlyMap<string, 1 | 2 | 4 | 8> =
  new Map([['readb', 1], ['readw', 2], ['readl', 4], ['readq', 8]]);

/** Guest-RAM commands: their argument names, as QEMU's qtest documents them. */
const RAM_COMMANDS: ReadonlyMap<string, readonly string[]> = new Map([
  ['read', ['ADDR', 'SIZE']],
  ['b64read', ['ADDR', 'SIZE']],
  ['write', ['ADDR', 'SIZE', 'DATA']],
  ['b64write', ['ADDR', 'SIZE', 'B64_DATA']],
  ['memset', ['ADDR', 'SIZE', 'VALUE']],
]);

/** A line this session cannot carry out as written; answered `ERR <message>`. */
class MalformedLine extends Error {
  override readonly name = 'MalformedLine';
}

/** strtoul/strtoll base 0 syntax over the whole word: the sign and magnitude, or undefined. */
function parseCInteger(word: string): { negative: boolean; magnitude: bigint } | undefined {
  const sign = word[0];
  const negative = sign === '-';
  const body = sign === '+' || sign === '-' ? word.slice(1) : word;
  // "0x" only introduces hex when a hex digit follows; otherwise strtoul stops after the "0".
  if (/^0[xX][0-9a-fA-F]+$/.test(body)) return { negative, magnitude: BigInt(`0x${body.slice(2)}`) };
  if (/^0[0-7]*$/.test(body)) return { negative, magnitude: BigInt(`0o${body}`) };
  if (/^[1-9][0-9]*$/.test(body)) return { negative, magnitude: BigInt(body) };
  return undefined;
}

function quoted(word: string): string {
  return word.length > 40 ? `'${word.slice(0, 40)}…'` : `'${word}'`;
}

/** qemu_strtou64 / qemu_strtoul (64-bit): a leading '-' negates modulo 2^64. */
function parseU64(command: string, name: string, word: string): bigint {
  const parsed = parseCInteger(word);
  if (parsed === undefined) throw new MalformedLine(`${command}: ${name} ${quoted(word)} is not a number`);
  if (parsed.magnitude > U64_MAX) throw new MalformedLine(`${command}: ${name} ${quoted(word)} does not fit in 64 bits`);
  return parsed.negative ? BigInt.asUintN(64, -parsed.magnitude) : parsed.magnitude;
}

/** qemu_strtoi64 (strtoll): signed 64-bit. */
function parseI64(command: string, name: string, word: string): bigint {
  const parsed = parseCInteger(word);
  if (parsed === undefined) throw new MalformedLine(`${command}: ${name} ${quoted(word)} is not a number`);
  const value = parsed.negative ? -parsed.magnitude : parsed.magnitude;
  if (value > I64_MAX || value < -I64_MAX - 1n) {
    throw new MalformedLine(`${command}: ${name} ${quoted(word)} does not fit in a signed 64-bit integer`);
  }
  return value;
}

/** qemu_strtoi (int), as set_irq_in reads NUM and LEVEL. */
function parseI32(command: string, name: string, word: string): number {
  const value = parseI64(command, name, word);
  if (value > 0x7fff_ffffn || value < -0x8000_0000n) {
    throw new MalformedLine(`${command}: ${name} ${quoted(word)} does not fit in an int`);
  }
  return Number(value);
}

/** Checks the argument count: `required` names, then up to `optional` more. */
function expectArguments(command: string, args: readonly string[], required: readonly string[], optional: readonly string[] = []): void {
  if (args.length >= required.length && args.length <= required.length + optional.length) return;
  const usage = [command, ...required, ...optional.map((name) => `[${name}]`)].join(' ');
  throw new MalformedLine(`${command}: expected '${usage}', got ${args.length} argument${args.length === 1 ? '' : 's'}`);
}

/** QOM resolution of the one device a session knows: an absolute path, or a partial path matching its tail. */
function isIoapicPath(path: string): boolean {
  const absolute = path.startsWith('/');
  const parts = (absolute ? path.slice(1) : path).split('/');
  if (absolute && parts.length !== IOAPIC_PATH.length) return false;
  if (parts.length > IOAPIC_PATH.length) return false;
  const tail = IOAPIC_PATH.slice(IOAPIC_PATH.length - parts.length);
  return parts.every((part, i) => part === tail[i]);
}

function hex(value: bigint, digits: number): string {
  return `0x${value.toString(16).padStart(digits, '0')}`;
}

function formatNs(ns: number): string {
  return String(Math.trunc(ns));
}

function describe(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/[\r\n]+/g, ' ');
}

/**
 * One qtest connection to one machine: each input line in, its reply lines
 * out through `write`, without the trailing newline. IRQ lines are written
 * as the machine reports them, so those caused by a command come before its
 * OK, which is where libqtest's qtest_rsp_args expects them.
 */
export class QtestSession {
  readonly #machine: QtestMachine;
  readonly #write: (line: string) => void;
  /** QEMU's irq_intercept_dev: whether the I/O APIC has been intercepted (in or out). */
  #intercepted = false;
  /** QEMU's irq_levels: the last level reported per irq; all low when the session opens. */
  readonly #irqLevels = new Map<number, boolean>();

  constructor(machine: QtestMachine, write: (line: string) => void) {
    this.#machine = machine;
    this.#write = write;
  }

  /** Handles one line (without its newline); never throws for any input. */
  handle(line: string): void {
    const [command, ...args] = line.split(C_WHITESPACE).filter((word) => word !== '');
    if (command === undefined) return;
    let reply: string;
    try {
      reply = this.#dispatch(command, args);
    } catch (error) {
      reply = error instanceof MalformedLine ? `ERR ${error.message}` : `FAIL ${command}: ${describe(error)}`;
    }
    this.#write(reply);
  }

  #dispatch(command: string, args: readonly string[]): string {
    const outSize = OUT_SIZE.get(command);
    if (outSize !== undefined) return this.#out(command, outSize, args);
    const inSize = IN_SIZE.get(command);
    if (inSize !== undefined) return this.#in(command, inSize, args);
    const writeLength = WRITE_LENGTH.get(command);
    if (writeLength !== undefined) return this.#mmioWrite(command, writeLength, args);
    const readLength = READ_LENGTH.get(command);
    if (readLength !== undefined) return this.#mmioRead(command, readLength, args);
    const ramArguments = RAM_COMMANDS.get(command);
    if (ramArguments !== undefined) return this.#guestRam(command, ramArguments, args);
    switch (command) {
      case 'clock_step': return this.#clockStep(args);
      case 'clock_set': return this.#clockSet(args);
      case 'irq_intercept_in':
      case 'irq_intercept_out': return this.#irqIntercept(command, args);
      case 'set_irq_in': return this.#setIrqIn(args);
      case 'endianness':
        expectArguments(command, args, []);
        return 'OK little';
      case 'module_load':
        expectArguments(command, args, ['PREFIX', 'NAME']);
        return 'FAIL';
      default:
        return `FAIL Unknown command '${command}'`;
    }
  }

  #port(command: string, word: string): number {
    const port = parseU64(command, 'ADDR', word);
    if (port > 0xffffn) throw new MalformedLine(`${command}: port ${hex(port, 0)} is above 0xffff`);
    return Number(port);
  }

  #address(command: string, word: string): number {
    const address = parseU64(command, 'ADDR', word);
    if (address > MAX_SAFE) throw new MalformedLine(`${command}: address ${hex(address, 0)} is above 2^53 - 1`);
    return Number(address);
  }

  #out(command: string, size: 1 | 2 | 4, args: readonly string[]): string {
    expectArguments(command, args, ['ADDR', 'VALUE']);
    const [addr = '', value = ''] = args;
    const port = this.#port(command, addr);
    const data = Number(BigInt.asUintN(8 * size, parseU64(command, 'VALUE', value)));
    this.#machine.io('out', port, size, data);
    return 'OK';
  }

  #in(command: string, size: 1 | 2 | 4, args: readonly string[]): string {
    expectArguments(command, args, ['ADDR']);
    const port = this.#port(command, args[0] ?? '');
    const value = this.#machine.io('in', port, size, 0);
    // `& mask` then `>>> 0` keeps a uint32 of what the machine returned, as the C types do.
    const data = (value & (size === 4 ? 0xffff_ffff : (1 << (8 * size)) - 1)) >>> 0;
    return `OK ${hex(BigInt(data), 4)}`;
  }

  #mmioWrite(command: string, length: 1 | 2 | 4 | 8, args: readonly string[]): string {
    expectArguments(command, args, ['ADDR', 'VALUE']);
    const [addr = '', value = ''] = args;
    const address = this.#address(command, addr);
    const data = BigInt.asUintN(8 * length, parseU64(command, 'VALUE', value));
    this.#machine.mmio(true, address, length, data);
    return 'OK';
  }

  #mmioRead(command: string, length: 1 | 2 | 4 | 8, args: readonly string[]): string {
    expectArguments(command, args, ['ADDR']);
    const address = this.#address(command, args[0] ?? '');
    const value = BigInt.asUintN(8 * length, this.#machine.mmio(false, address, length, 0n));
    return `OK ${hex(value, 16)}`;
  }

  #guestRam(command: string, names: readonly string[], args: readonly string[]): string {
    expectArguments(command, args, names);
    const [addr = '', size = '', data = ''] = args;
    parseU64(command, 'ADDR', addr);
    const length = parseU64(command, 'SIZE', size);
    if (command === 'read' && length === 0n) throw new MalformedLine('read: SIZE must not be 0');
    if (command === 'memset') parseU64(command, 'VALUE', data);
    if ((command === 'write' || command === 'b64write') && data.length < 3) return 'ERR invalid argument size';
    return `FAIL ${command}: this machine exposes no guest RAM to qtest`;
  }

  #setIrqIn(args: readonly string[]): string {
    expectArguments('set_irq_in', args, ['QOM-PATH', 'NAME', 'NUM', 'LEVEL']);
    const [path = '', , num = '', level = ''] = args;
    if (!isIoapicPath(path)) return 'FAIL Unknown device';
    parseI32('set_irq_in', 'NUM', num);
    parseI32('set_irq_in', 'LEVEL', level);
    return 'FAIL set_irq_in: this machine cannot drive I/O APIC inputs from qtest';
  }

  /** Moves the clock to `target` if that is ahead of it; as QEMU, does nothing otherwise. */
  #advanceTo(target: number): void {
    if (target > this.#machine.now()) this.#machine.advanceTo(target);
  }

  #clockStep(args: readonly string[]): string {
    expectArguments('clock_step', args, [], ['NS']);
    const before = this.#machine.now();
    const word = args[0];
    let target: number;
    if (word === undefined) {
      const deadline = this.#machine.nextDeadline();
      if (!Number.isFinite(deadline)) {
        return 'FAIL cannot advance clock to the next deadline because there is no pending deadline';
      }
      target = deadline;
    } else {
      const ns = parseI64('clock_step', 'NS', word);
      target = ns > 0n ? before + Number(ns) : before;
      if (ns > MAX_SAFE || target > Number.MAX_SAFE_INTEGER) {
        throw new MalformedLine(`clock_step: ${formatNs(before)} + ${ns} ns is above 2^53 - 1 ns`);
      }
    }
    this.#advanceTo(target);
    const after = this.#machine.now();
    return after > before ? `OK ${formatNs(after)}` : 'FAIL could not advance time';
  }

  #clockSet(args: readonly string[]): string {
    expectArguments('clock_set', args, ['NS']);
    const ns = parseI64('clock_set', 'NS', args[0] ?? '');
    if (ns > MAX_SAFE) throw new MalformedLine(`clock_set: ${ns} ns is above 2^53 - 1 ns`);
    this.#advanceTo(Number(ns));
    const after = this.#machine.now();
    return `${after === Number(ns) ? 'OK' : 'FAIL'} ${formatNs(after)}`;
  }

  #irqIntercept(command: 'irq_intercept_in' | 'irq_intercept_out', args: readonly string[]): string {
    expectArguments(command, args, ['QOM-PATH'], ['NAME']);
    const [path = '', name] = args;
    const outbound = command === 'irq_intercept_out';
    if (!isIoapicPath(path)) return 'FAIL Unknown device';
    if (name !== undefined && !outbound) return 'FAIL Interception of named in-GPIOs not yet supported';
    // QEMU's "FAIL IRQ intercept already enabled" needs a second device, and a session knows only the I/O APIC.
    if (this.#intercepted) return 'OK';
    if (outbound) {
      // The I/O APIC's only GPIO list is its unnamed inputs (0 outputs): a name matches nothing.
      if (name !== undefined) return 'FAIL No intercepts installed';
      this.#intercepted = true;
      return 'OK';
    }
    this.#intercepted = true;
    this.#machine.interceptIrqs((irq, level) => { this.#irqChanged(irq, level); });
    return 'OK';
  }

  #irqChanged(irq: number, level: boolean): void {
    if ((this.#irqLevels.get(irq) ?? false) === level) return;
    this.#irqLevels.set(irq, level);
    this.#write(`IRQ ${level ? 'raise' : 'lower'} ${irq}`);
  }
}

function isStream(input: NodeJS.ReadableStream | AsyncIterable<string>): input is NodeJS.ReadableStream {
  return typeof (input as Partial<NodeJS.ReadableStream>).pipe === 'function';
}

/**
 * Serves one qtest connection until `input` ends: a byte stream is split
 * into lines with node:readline ('\n' or '\r\n'); an async iterable gives one
 * line per item. Replies go to `output` without their newline.
 */
export async function serveQtest(
  machine: QtestMachine,
  input: NodeJS.ReadableStream | AsyncIterable<string>,
  output: (line: string) => void,
): Promise<void> {
  const session = new QtestSession(machine, output);
  const lines = isStream(input) ? createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY }) : input;
  for await (const line of lines) session.handle(line);
}
