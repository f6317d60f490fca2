/**
 * A PS/2 (MF2) keyboard: the device at the far end of the 8042's keyboard
 * port. It answers the commands the controller passes on, and scans key
 * events the host types into bytes of the selected scan code set.
 * IBM PS/2 Hardware Interface Technical Reference, "Keyboard".
 *
 * Three queues, all bounded:
 * - `replies` — the answer to the last command (at most three bytes, F2h's
 *   FA AB 83), sent ahead of key data; a new command drops an unread answer.
 *   Where the reference is silent on the ordering, this is QEMU's.
 * - `buffer` — scanned key bytes waiting to be sent (16 bytes).
 * - `hostQueue` — key events the host has typed and the keyboard has not yet
 *   scanned: an event is scanned only once its whole byte sequence fits in
 *   `buffer`, and only while scanning is enabled, so the host's typing is
 *   held back, not lost, while the guest is slow or has scanning off.
 */
import { DEFAULT_TYPEMATIC, KEYBOARD_BUFFER_BYTES, KEYBOARD_ID, KeyboardCommand, KeyboardReply } from './commands.ts';
import type { KeyCode, ScancodeSet } from './scancodes.ts';
import { sequence } from './scancodes.ts';

export type KeyEvent = {
  readonly key: KeyCode;
  readonly down: boolean;
};

export type Ps2KeyboardState = {
  readonly scancodeSet: ScancodeSet;
  readonly scanning: boolean;
  /** Bit 0 Scroll Lock, bit 1 Num Lock, bit 2 Caps Lock. */
  readonly leds: number;
  readonly typematic: number;
  /** The command whose option byte is awaited, or 0. */
  readonly awaiting: number;
  readonly replies: readonly number[];
  readonly buffer: readonly number[];
  /** The last byte sent to the controller: what Resend repeats. */
  readonly lastSent: number;
  readonly hostQueue: readonly KeyEvent[];
};

export interface KeyboardCounts {
  unknownCommands: number;
  invalidOptions: number;
  /** Key events the host typed for a key that has no code in the current set (F13–F24 in set 3). */
  keysWithoutCode: number;
}

export function powerOnKeyboard(): Ps2KeyboardState {
  return {
    scancodeSet: 2, scanning: true, leds: 0, typematic: DEFAULT_TYPEMATIC, awaiting: 0,
    replies: [], buffer: [], lastSent: 0, hostQueue: [],
  };
}

type Mutable = {
  -readonly [K in keyof Ps2KeyboardState]: Ps2KeyboardState[K] extends readonly (infer T)[] ? T[] : Ps2KeyboardState[K];
};

export class Ps2Keyboard {
  private state: Mutable;
  private readonly hostQueueLimit: number;
  readonly counts: KeyboardCounts = { unknownCommands: 0, invalidOptions: 0, keysWithoutCode: 0 };

  constructor(hostQueueLimit: number) {
    this.hostQueueLimit = hostQueueLimit;
    this.state = copy(powerOnKeyboard());
  }

  get leds(): number {
    return this.state.leds;
  }

  /** A byte waits to be sent. */
  hasOutput(): boolean {
    return this.state.replies.length > 0 || this.state.buffer.length > 0;
  }

  /** Sends the next byte to the controller (replies first); call only when `hasOutput()`. */
  send(): number {
    const byte = this.state.replies.shift() ?? this.state.buffer.shift() ?? KeyboardReply.OVERRUN;
    this.state.lastSent = byte;
    this.scan();
    return byte;
  }

  /** Queues key events from the host, all or none; false when the host queue lacks room for all of them. */
  type(events: readonly KeyEvent[]): boolean {
    if (this.state.hostQueue.length + events.length > this.hostQueueLimit) return false;
    this.state.hostQueue.push(...events);
    this.scan();
    return true;
  }

  /** Moves host events into the buffer while whole sequences fit and scanning is on. */
  private scan(): void {
    const s = this.state;
    while (s.scanning && s.hostQueue.length > 0) {
      const [event] = s.hostQueue;
      if (event === undefined) break;
      const bytes = sequence(event.key, event.down, s.scancodeSet);
      if (s.buffer.length + bytes.length > KEYBOARD_BUFFER_BYTES) break;
      s.hostQueue.shift();
      if (bytes.length === 0 && !(event.key === 'Pause' && !event.down)) this.counts.keysWithoutCode++;
      s.buffer.push(...bytes);
    }
  }

  /** A byte from the controller: a command, or the option byte of the last one. */
  receive(byte: number): void {
    const s = this.state;
    s.replies = [];
    const awaiting = s.awaiting;
    s.awaiting = 0;
    if (awaiting !== 0) {
      this.option(awaiting, byte);
    } else {
      this.command(byte);
    }
    this.scan();
  }

  private reply(...bytes: number[]): void {
    this.state.replies = bytes;
  }

  private option(command: number, byte: number): void {
    const s = this.state;
    switch (command) {
      case KeyboardCommand.SET_LEDS:
        s.leds = byte & 0x07;
        this.reply(KeyboardReply.ACK);
        return;
      case KeyboardCommand.SET_TYPEMATIC:
        s.typematic = byte & 0x7f;
        this.reply(KeyboardReply.ACK);
        return;
      case KeyboardCommand.SCANCODE_SET:
        if (byte === 0) {
          this.reply(KeyboardReply.ACK, s.scancodeSet);
        } else if (byte === 1 || byte === 2 || byte === 3) {
          s.scancodeSet = byte;
          this.reply(KeyboardReply.ACK);
        } else {
          this.counts.invalidOptions++;
          this.reply(KeyboardReply.RESEND);
        }
        return;
      default:
        // FBh–FDh: the key's set 3 code; key types are not modelled (every key sends make and break).
        this.reply(KeyboardReply.ACK);
    }
  }

  private command(byte: number): void {
    const s = this.state;
    switch (byte) {
      case KeyboardCommand.SET_LEDS:
      case KeyboardCommand.SET_TYPEMATIC:
      case KeyboardCommand.SCANCODE_SET:
      case KeyboardCommand.KEY_TYPEMATIC:
      case KeyboardCommand.KEY_MAKE_BREAK:
      case KeyboardCommand.KEY_MAKE:
        s.awaiting = byte;
        this.reply(KeyboardReply.ACK);
        return;
      case KeyboardCommand.ECHO:
        this.reply(KeyboardReply.ECHO);
        return;
      case KeyboardCommand.IDENTIFY:
        this.reply(KeyboardReply.ACK, ...KEYBOARD_ID);
        return;
      case KeyboardCommand.ENABLE_SCANNING:
        s.scanning = true;
        this.reply(KeyboardReply.ACK);
        return;
      case KeyboardCommand.DEFAULT_DISABLE:
        this.restoreDefaults(false);
        this.reply(KeyboardReply.ACK);
        return;
      case KeyboardCommand.SET_DEFAULT:
        this.restoreDefaults(true);
        this.reply(KeyboardReply.ACK);
        return;
      case KeyboardCommand.ALL_TYPEMATIC:
      case KeyboardCommand.ALL_MAKE_BREAK:
      case KeyboardCommand.ALL_MAKE:
      case KeyboardCommand.ALL_TYPEMATIC_MAKE_BREAK:
        this.reply(KeyboardReply.ACK);
        return;
      case KeyboardCommand.RESEND:
        this.reply(s.lastSent);
        return;
      case KeyboardCommand.RESET:
        this.restoreDefaults(true);
        this.reply(KeyboardReply.ACK, KeyboardReply.BAT_OK);
        return;
      default:
        this.counts.unknownCommands++;
        this.reply(KeyboardReply.RESEND);
    }
  }

  /** Defaults: set 2, LEDs off, default typematic, buffer cleared; scanning as given. */
  private restoreDefaults(scanning: boolean): void {
    const s = this.state;
    s.scancodeSet = 2;
    s.leds = 0;
    s.typematic = DEFAULT_TYPEMATIC;
    s.buffer = [];
    s.scanning = scanning;
  }

  /** Power-on: defaults, nothing pending; the host's queue is emptied too. */
  powerOn(): void {
    this.state = copy(powerOnKeyboard());
  }

  getState(): Ps2KeyboardState {
    return copy(this.state);
  }

  setState(state: Ps2KeyboardState): void {
    this.state = copy(state);
  }
}

function copy(state: Ps2KeyboardState): Mutable {
  return {
    ...state,
    replies: [...state.replies],
    buffer: [...state.buffer],
    hostQueue: state.hostQueue.map((event) => ({ ...event })),
  };
}
