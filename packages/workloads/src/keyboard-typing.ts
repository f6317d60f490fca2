/**
 * The host types at the PS/2 keyboard and the guest takes each byte the way
 * Linux's i8042 driver does (drivers/input/serio/i8042.c), decoding it as
 * atkbd would.
 *
 * Setup, kept to what the keyboard path needs:
 * * What the firmware leaves: SeaBIOS's keyboard init ends by writing the
 *   command byte 61h (translation to set 1 on, keyboard interrupt on, mouse
 *   off); there is no firmware here, so the guest writes it first (command
 *   60h, then the byte to 60h).
 * * `i8042_flush`: status (64h) and, while OBF, data (60h), up to the
 *   buffer's 16 bytes.
 * * `i8042_controller_init`: the command byte read with command 20h until
 *   two reads agree, then written back (command 60h) with the keyboard
 *   interface disabled and its interrupt off. Each `i8042_command` polls the
 *   status for IBF clear before each write and for OBF before each read.
 * * `i8042_setup_kbd`: request_irq for irq 1 (unmasked at the 8259), then
 *   `i8042_enable_kbd_port`: the command byte written with the interface
 *   enabled and KBDINT set.
 *
 * The not modelled part of the probe: the controller self-test (AAh), the AUX
 * and multiplexer probes, and atkbd's own commands (the keyboard powers on
 * scanning in set 2, which the controller translates).
 *
 * Each irq 1 runs `i8042_interrupt`: one status read — without OBF the
 * interrupt had no data (counted, as Linux's "Interrupt 1, without any data") —
 * then one data read (each byte the controller loads raises irq 1 afresh).
 * Around it, handle_level_irq's 8259 mask/EOI/unmask for irq 1. The byte goes
 * to a set 1 decoder (make codes, break codes with bit 7, E0h prefixes, both
 * Shift keys), so the guest rebuilds the text the host typed. Between
 * interrupts it sits in `hlt`.
 */
import type { GuestProgram } from '@splitvisor/scripted-guest';
import { ScriptedGuest } from '@splitvisor/scripted-guest';
import type { GuestRoutine } from './linux-8259.ts';
import { legacyPic, legacyVector } from './linux-8259.ts';
import type { HostTyping, WorkloadDefinition } from './workload.ts';
import { numberParameter, stringParameter } from './workload.ts';

const I8042_DATA_REG = 0x60;
const I8042_COMMAND_REG = 0x64;
const I8042_STATUS_REG = 0x64;
/** Status register bits (IBM PC/AT technical reference, "Keyboard Controller"). */
const STR_OBF = 0x01;
const STR_IBF = 0x02;
const STR_AUXDATA = 0x20;
/** Command byte bits. */
const CTR_KBDINT = 0x01;
const CTR_KBDDIS = 0x10;
/** Controller commands: read and write the command byte. */
const CMD_CTL_RCTR = 0x20;
const CMD_CTL_WCTR = 0x60;
/** The command byte SeaBIOS leaves: XLATE | AUXDIS | KBDINT. */
const FIRMWARE_CTR = 0x61;
const I8042_BUFFER_SIZE = 16;
/** i8042_wait_read/i8042_wait_write: I8042_CTL_TIMEOUT polls of udelay(50). */
const I8042_CTL_TIMEOUT = 10_000;
const UDELAY_50US_CYCLES = 100_000;

export const KEYBOARD_IRQ = 1;
export const KEYBOARD_VECTOR: number = legacyVector(KEYBOARD_IRQ);
/** When the host starts typing: after the guest's setup (a few hundred µs of it). */
export const TYPING_START_NS = 1_000_000;

/** Set 1 make codes 00h–39h to characters on a US layout, unshifted and shifted ('' where none prints). */
const SET1_PLAIN = [
  '', '\x1b', '1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '-', '=', '\b', '\t',
  'q', 'w', 'e', 'r', 't', 'y', 'u', 'i', 'o', 'p', '[', ']', '\n', '', 'a', 's',
  'd', 'f', 'g', 'h', 'j', 'k', 'l', ';', "'", '`', '', '\\', 'z', 'x', 'c', 'v',
  'b', 'n', 'm', ',', '.', '/', '', '', '', ' ',
] as const;
const SET1_SHIFTED = [
  '', '\x1b', '!', '@', '#', '$', '%', '^', '&', '*', '(', ')', '_', '+', '\b', '\t',
  'Q', 'W', 'E', 'R', 'T', 'Y', 'U', 'I', 'O', 'P', '{', '}', '\n', '', 'A', 'S',
  'D', 'F', 'G', 'H', 'J', 'K', 'L', ':', '"', '~', '', '|', 'Z', 'X', 'C', 'V',
  'B', 'N', 'M', '<', '>', '?', '', '', '', ' ',
] as const;
const LEFT_SHIFT = 0x2a;
const RIGHT_SHIFT = 0x36;
const EXTENDED_PREFIX = 0xe0;
const BREAK = 0x80;

/** A set 1 decoder as atkbd's keymap sees translated bytes: the characters typed so far. */
export class Set1Decoder {
  private shift = 0;
  private extended = false;
  private chars: string[] = [];
  /** Bytes that are no key it knows (counted, not typed). */
  unknown = 0;

  feed(byte: number): void {
    if (byte === EXTENDED_PREFIX) {
      this.extended = true;
      return;
    }
    const extended = this.extended;
    this.extended = false;
    const code = byte & ~BREAK;
    const down = (byte & BREAK) === 0;
    if (extended) return; // right Ctrl/Alt, arrows, the keypad's Enter and slash: none types a character here
    if (code === LEFT_SHIFT || code === RIGHT_SHIFT) {
      const bit = code === LEFT_SHIFT ? 1 : 2;
      this.shift = down ? this.shift | bit : this.shift & ~bit;
      return;
    }
    if (!down) return;
    const char = (this.shift !== 0 ? SET1_SHIFTED : SET1_PLAIN)[code];
    if (char === undefined || char === '') this.unknown++;
    else this.chars.push(char);
  }

  text(): string {
    return this.chars.join('');
  }
}

export interface KeyboardTypingOptions {
  /** What the host types (default 'hello, world'). */
  readonly text?: string;
  /** Characters per second (default 20). */
  readonly cps?: number;
}

export interface KeyboardTyping {
  readonly guest: ScriptedGuest;
  readonly board: { readonly typing: HostTyping };
  /** Bytes read from 60h in the irq 1 handler. */
  readonly scancodes: () => number;
  /** irq 1 with OBF clear in the status. */
  readonly noData: () => number;
  /** The text the guest decoded from what it read. */
  readonly text: () => string;
}

export function keyboardTyping(options: KeyboardTypingOptions = {}): KeyboardTyping {
  const text = options.text ?? 'hello, world';
  const cps = options.cps ?? 20;
  if (!(cps > 0)) throw new RangeError(`typing takes a positive rate, not ${cps} characters per second`);
  let scancodes = 0;
  let noData = 0;
  let auxBytes = 0;
  const decoder = new Set1Decoder();
  const pic = legacyPic();

  function* status(): GuestRoutine<number> {
    return yield { op: 'in', port: I8042_STATUS_REG };
  }

  /** i8042_wait_write: until the controller's input buffer is empty. */
  function* waitWrite(): GuestProgram {
    for (let i = 0; i < I8042_CTL_TIMEOUT && ((yield* status()) & STR_IBF) !== 0; i++) yield { op: 'compute', cycles: UDELAY_50US_CYCLES };
  }

  /** i8042_wait_read: until the output buffer holds a byte. */
  function* waitRead(): GuestProgram {
    for (let i = 0; i < I8042_CTL_TIMEOUT && ((yield* status()) & STR_OBF) === 0; i++) yield { op: 'compute', cycles: UDELAY_50US_CYCLES };
  }

  function* readCtr(): GuestRoutine<number> {
    yield* waitWrite();
    yield { op: 'out', port: I8042_COMMAND_REG, value: CMD_CTL_RCTR };
    yield* waitRead();
    return yield { op: 'in', port: I8042_DATA_REG };
  }

  function* writeCtr(ctr: number): GuestProgram {
    yield* waitWrite();
    yield { op: 'out', port: I8042_COMMAND_REG, value: CMD_CTL_WCTR };
    yield* waitWrite();
    yield { op: 'out', port: I8042_DATA_REG, value: ctr };
  }

  const guest = new ScriptedGuest((function* main(): GuestProgram {
    yield* pic.init();
    yield { op: 'sti' };
    yield* writeCtr(FIRMWARE_CTR); // what the firmware would have left
    yield { op: 'cli' }; // i8042_lock
    for (let n = 0; n < I8042_BUFFER_SIZE && ((yield* status()) & STR_OBF) !== 0; n++) { // i8042_flush
      yield { op: 'compute', cycles: UDELAY_50US_CYCLES };
      yield { op: 'in', port: I8042_DATA_REG };
    }
    yield { op: 'sti' };
    let ctr = yield* readCtr();
    for (let n = 1; n < 10; n++) {
      const again = yield* readCtr();
      if (again === ctr) break;
      ctr = again;
    }
    ctr = (ctr | CTR_KBDDIS) & ~CTR_KBDINT;
    yield* writeCtr(ctr);
    yield* pic.enable(KEYBOARD_IRQ); // i8042_setup_kbd: request_irq
    ctr = (ctr & ~CTR_KBDDIS) | CTR_KBDINT; // i8042_enable_kbd_port
    yield* writeCtr(ctr);
    for (;;) yield { op: 'hlt' };
  })()).on(KEYBOARD_VECTOR, pic.handler(KEYBOARD_IRQ, function* i8042Interrupt(): GuestProgram {
    const str = yield* status();
    if ((str & STR_OBF) === 0) {
      noData++;
      return;
    }
    const data = yield { op: 'in', port: I8042_DATA_REG };
    if ((str & STR_AUXDATA) !== 0) {
      auxBytes++; // a mouse byte: the mouse is off here
      return;
    }
    scancodes++;
    decoder.feed(data);
  }));
  return {
    guest,
    board: { typing: { text, startNs: TYPING_START_NS, intervalNs: Math.round(1e9 / cps) } },
    scancodes: () => scancodes,
    noData: () => noData + auxBytes,
    text: () => decoder.text(),
  };
}

export const KEYBOARD_TYPING: WorkloadDefinition = {
  name: 'keyboard-typing',
  description: "the host types text at the PS/2 keyboard; the guest takes each byte in Linux's i8042 irq 1 handler (status, then data) and decodes set 1",
  follows: 'drivers/input/serio/i8042.c i8042_flush, i8042_command, i8042_controller_init, i8042_enable_kbd_port, i8042_interrupt; arch/x86/kernel/i8259.c mask_and_ack_8259A',
  parameters: [
    { name: 'text', description: 'what the host types (US layout)', default: 'hello, world' },
    { name: 'cps', description: 'characters typed per second', default: 20, min: 1, max: 1000 },
  ],
  create: (p) => {
    const run = keyboardTyping({ text: stringParameter(p, 'text'), cps: numberParameter(p, 'cps') });
    return {
      guest: run.guest,
      board: run.board,
      progress: () => ({ scancodes: run.scancodes(), characters: run.text().length, noData: run.noData() }),
    };
  },
};
