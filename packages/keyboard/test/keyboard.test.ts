// The PS/2 keyboard behind the 8042: scan code sets, translation, its commands, and the host's typing.
import { describe, expect, it } from 'vitest';
import type { KeyCode, ScancodeSet } from '../src/index.ts';
import { KEY_CODES, KeyboardInputError, TRANSLATION, sequence } from '../src/index.ts';
import type { Board } from './harness.ts';
import { board } from './harness.ts';

/** The controller's translation of a byte sequence, as the 8042 applies it (F0h sets bit 7 of the next byte). */
function translate(bytes: readonly number[]): number[] {
  const out: number[] = [];
  let brk = false;
  for (const byte of bytes) {
    if (byte === 0xf0) {
      brk = true;
      continue;
    }
    out.push((TRANSLATION[byte] ?? byte) | (brk ? 0x80 : 0));
    brk = false;
  }
  return out;
}

/** Writes each byte to the keyboard and reads its answer before the next, as a driver does; every byte read. */
function send(b: Board, ...bytes: number[]): number[] {
  return bytes.flatMap((byte) => {
    b.data(byte);
    return b.drain();
  });
}

function configured(commandByte: number, set?: ScancodeSet) {
  const b = board();
  b.command(0x60);
  b.data(commandByte);
  if (set !== undefined) {
    expect(send(b, 0xf0, set)).toEqual([0xfa, 0xfa]);
  }
  return b;
}

describe('scan codes', () => {
  it('translates every key\'s set 2 make and break into exactly its set 1 make and break', () => {
    for (const key of KEY_CODES) {
      for (const down of [true, false]) {
        expect({ key, down, bytes: translate(sequence(key, down, 2)) }).toEqual({ key, down, bytes: [...sequence(key, down, 1)] });
      }
    }
  });

  it('gives every key a distinct set 2 code (and set 3 code, where it has one)', () => {
    const set2 = KEY_CODES.map((key) => sequence(key, true, 2).join(','));
    expect(new Set(set2).size).toBe(KEY_CODES.length);
    const set3 = KEY_CODES.map((key) => sequence(key, true, 3).join(',')).filter((s) => s !== '');
    expect(new Set(set3).size).toBe(set3.length);
  });

  it('sends the multi-byte sequences of Print Screen and Pause', () => {
    expect(sequence('PrintScreen', true, 2)).toEqual([0xe0, 0x12, 0xe0, 0x7c]);
    expect(sequence('PrintScreen', false, 2)).toEqual([0xe0, 0xf0, 0x7c, 0xe0, 0xf0, 0x12]);
    expect(sequence('Pause', true, 2)).toEqual([0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77]);
    expect(sequence('Pause', false, 2)).toEqual([]);
    expect(sequence('Pause', true, 1)).toEqual([0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5]);
  });
});

describe('typing', () => {
  it('types a string as set 2 make/break codes while translation is off', () => {
    const b = configured(0x03);
    expect(b.kbc.typeText('Hi!')).toBe(3);
    expect(b.drain()).toEqual([
      0x12, 0x33, 0xf0, 0x33, 0xf0, 0x12, // Shift down, H down, H up, Shift up
      0x43, 0xf0, 0x43, // i
      0x12, 0x16, 0xf0, 0x16, 0xf0, 0x12, // Shift, 1
    ]);
  });

  it('types the same string as set 1 codes when the command byte asks for translation', () => {
    const b = configured(0x61);
    b.kbc.typeText('Hi!\n');
    expect(b.drain()).toEqual([
      0x2a, 0x23, 0xa3, 0xaa,
      0x17, 0x97,
      0x2a, 0x02, 0x82, 0xaa,
      0x1c, 0x9c,
    ]);
  });

  it('raises irq 1 once per byte, each time the buffer is refilled', () => {
    const b = configured(0x61);
    b.kbc.pressKey('ArrowUp'); // E0 75, E0 F0 75 → E0 48 E0 C8
    const bytes: number[] = [];
    let edges = b.rises(0);
    expect(edges).toBe(1);
    while (b.irq().irq1) {
      bytes.push(b.read());
      if (b.irq().irq1) expect(b.rises(0)).toBe(++edges);
    }
    expect(bytes).toEqual([0xe0, 0x48, 0xe0, 0xc8]);
    expect(b.rises(0)).toBe(4);
  });

  it('sends extended keys with E0h, in set 1 and set 2 untranslated, and in set 3 without it', () => {
    expect(configured(0x03, 1).kbc.pressKey('Delete')).toBe(true);
    const one = configured(0x03, 1);
    one.kbc.pressKey('Delete');
    expect(one.drain()).toEqual([0xe0, 0x53, 0xe0, 0xd3]);
    const two = configured(0x03, 2);
    two.kbc.pressKey('Delete');
    expect(two.drain()).toEqual([0xe0, 0x71, 0xe0, 0xf0, 0x71]);
    const three = configured(0x03, 3);
    three.kbc.pressKey('Delete');
    three.kbc.pressKey('F13'); // no set 3 code: sends nothing
    expect(three.drain()).toEqual([0x64, 0xf0, 0x64]);
    expect(three.kbc.stats().keyEventsWithoutCode).toBe(2);
  });

  it('holds the host\'s typing, bounded, while the guest does not read or scanning is off', () => {
    const b = board({ hostQueueLimit: 8 });
    b.command(0x60);
    b.data(0x00); // no interrupts; keep the keyboard port enabled
    b.data(0xf5); // disable scanning
    expect(b.drain()).toEqual([0xfa]);
    expect(b.kbc.typeText('abcdef')).toBe(4); // 2 events a character, 8 queued
    expect(b.kbc.pressKey('KeyZ')).toBe(false);
    expect(b.kbc.stats()).toMatchObject({ keyEventsQueued: 8, keyEventsRejected: 4 });
    expect(b.drain()).toEqual([]);
    b.data(0xf4);
    expect(b.drain()).toEqual([0xfa, 0x1c, 0xf0, 0x1c, 0x32, 0xf0, 0x32, 0x21, 0xf0, 0x21, 0x23, 0xf0, 0x23]);
  });

  it('keeps at most 16 bytes in the keyboard and whole key sequences only', () => {
    const b = board();
    for (let i = 0; i < 3; i++) b.kbc.pressKey('Pause'); // 8 bytes each
    // The first byte went straight to the controller's output buffer: 7 + 8 bytes wait in the keyboard,
    // and the third Pause (8 more) waits in the host queue with its (empty) break.
    expect(b.kbc.getState().keyboard.buffer.length).toBe(15);
    expect(b.kbc.getState().keyboard.hostQueue.length).toBe(2);
    expect(b.drain()).toHaveLength(24);
  });

  it('rejects keys it does not have and characters no key types, queuing nothing', () => {
    const b = board();
    expect(() => b.kbc.typeText('ok€')).toThrow(KeyboardInputError);
    expect(() => b.kbc.keyDown('Hyper' as KeyCode)).toThrow(KeyboardInputError);
    expect(b.drain()).toEqual([]);
  });
});

describe('keyboard commands', () => {
  it('echoes EEh without an ACK, and answers unknown commands with Resend', () => {
    const b = board();
    b.data(0xee);
    expect(b.drain()).toEqual([0xee]);
    b.data(0x42);
    expect(b.drain()).toEqual([0xfe]);
    expect(b.kbc.anomalies()).toMatchObject({ unknownKeyboardCommands: 1 });
  });

  it('resends the last byte it sent on FEh', () => {
    const b = board();
    b.data(0xf2);
    expect(b.drain()).toEqual([0xfa, 0xab, 0x83]);
    b.data(0xfe);
    expect(b.drain()).toEqual([0x83]);
  });

  it('reports the scan code set with F0h 00h (translated: 43h/41h/3Fh), and refuses a set that does not exist', () => {
    const plain = configured(0x03);
    for (const set of [1, 2, 3]) expect(send(plain, 0xf0, set, 0xf0, 0x00)).toEqual([0xfa, 0xfa, 0xfa, 0xfa, set]);
    const translated = configured(0x43);
    const answers = [1, 2, 3].flatMap((set) => send(translated, 0xf0, set, 0xf0, 0x00));
    expect(answers.filter((byte) => byte !== 0xfa)).toEqual([0x43, 0x41, 0x3f]);
    expect(answers).toHaveLength(15);
    expect(send(translated, 0xf0, 0x04)).toEqual([0xfa, 0xfe]);
  });

  it('stores the typematic byte and the LEDs, and restores defaults with F5h/F6h/FFh', () => {
    const b = board();
    expect(send(b, 0xf3, 0x20, 0xed, 0x07, 0xf0, 0x03)).toEqual([0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa]);
    expect(b.kbc.getState().keyboard).toMatchObject({ typematic: 0x20, leds: 7, scancodeSet: 3 });
    b.data(0xf6);
    expect(b.drain()).toEqual([0xfa]);
    expect(b.kbc.getState().keyboard).toMatchObject({ typematic: 0x2b, leds: 0, scancodeSet: 2, scanning: true });
    b.data(0xf5);
    expect(b.drain()).toEqual([0xfa]);
    expect(b.kbc.getState().keyboard.scanning).toBe(false);
    b.data(0xff);
    expect(b.drain()).toEqual([0xfa, 0xaa]);
    expect(b.kbc.getState().keyboard.scanning).toBe(true);
  });

  it('sends a command\'s answer ahead of key data already waiting, and drops an unread answer on the next command (QEMU)', () => {
    const b = board();
    b.command(0xad); // keep bytes in the keyboard
    b.kbc.pressKey('KeyA');
    b.data(0xf2); // enables the port again: FA AB 83 go first
    expect(b.read()).toBe(0xfa); // AB moves into the controller's output buffer
    b.data(0xee); // 83h, still in the keyboard, is dropped; AB stays where it is
    expect(b.drain()).toEqual([0xab, 0xee, 0x1c, 0xf0, 0x1c]);
    b.data(0xf4);
    b.data(0xf4); // the first ACK is in the output buffer already, the second replaces nothing
    expect(b.drain()).toEqual([0xfa, 0xfa]);
    b.data(0xed);
    b.data(0x02);
    b.data(0xee); // LEDs' second ACK, still in the keyboard, is dropped
    expect(b.drain()).toEqual([0xfa, 0xee]);
  });

  it('accepts the set 3 key-type commands with an ACK per byte', () => {
    const b = board();
    for (const byte of [0xf7, 0xf8, 0xf9, 0xfa]) {
      b.data(byte);
      expect(b.drain()).toEqual([0xfa]);
    }
    expect(send(b, 0xfc, 0x1c)).toEqual([0xfa, 0xfa]);
  });
});
