/**
 * The keys of a US 101/104-key PS/2 keyboard (plus the Japanese, Brazilian
 * and F13–F24 keys scan code set 2 defines) and their make codes in the three
 * scan code sets. Keys are named by their W3C UI Events `code` values
 * ("KeyA", "ShiftLeft", "ArrowUp"), which name a physical position, as a
 * scan code does.
 *
 * References: IBM PS/2 Hardware Interface Technical Reference, "Keyboard":
 * scan code sets 1, 2 and 3; Microsoft, "Keyboard Scan Code Specification"
 * (rev. 1.3a), appendix A (sets 1 and 2, the extended keys, Print Screen and
 * Pause). A code above FFh is a two-byte code whose first byte is E0h.
 *
 * Breaks: set 1 sets bit 7 of the last byte (E0h stays); sets 2 and 3 put
 * F0h before the last byte. Set 3 has no E0h codes; a key without a set 3
 * code here (the F13–F24 and Japanese keys) sends nothing in set 3.
 */

/** [code, set 1, set 2, set 3 (0: none)] */
const KEY_TABLE = [
  ['Escape', 0x01, 0x76, 0x08],
  ['F1', 0x3b, 0x05, 0x07],
  ['F2', 0x3c, 0x06, 0x0f],
  ['F3', 0x3d, 0x04, 0x17],
  ['F4', 0x3e, 0x0c, 0x1f],
  ['F5', 0x3f, 0x03, 0x27],
  ['F6', 0x40, 0x0b, 0x2f],
  ['F7', 0x41, 0x83, 0x37],
  ['F8', 0x42, 0x0a, 0x3f],
  ['F9', 0x43, 0x01, 0x47],
  ['F10', 0x44, 0x09, 0x4f],
  ['F11', 0x57, 0x78, 0x56],
  ['F12', 0x58, 0x07, 0x5e],
  ['ScrollLock', 0x46, 0x7e, 0x5f],
  ['Backquote', 0x29, 0x0e, 0x0e],
  ['Digit1', 0x02, 0x16, 0x16],
  ['Digit2', 0x03, 0x1e, 0x1e],
  ['Digit3', 0x04, 0x26, 0x26],
  ['Digit4', 0x05, 0x25, 0x25],
  ['Digit5', 0x06, 0x2e, 0x2e],
  ['Digit6', 0x07, 0x36, 0x36],
  ['Digit7', 0x08, 0x3d, 0x3d],
  ['Digit8', 0x09, 0x3e, 0x3e],
  ['Digit9', 0x0a, 0x46, 0x46],
  ['Digit0', 0x0b, 0x45, 0x45],
  ['Minus', 0x0c, 0x4e, 0x4e],
  ['Equal', 0x0d, 0x55, 0x55],
  ['Backspace', 0x0e, 0x66, 0x66],
  ['Tab', 0x0f, 0x0d, 0x0d],
  ['KeyQ', 0x10, 0x15, 0x15],
  ['KeyW', 0x11, 0x1d, 0x1d],
  ['KeyE', 0x12, 0x24, 0x24],
  ['KeyR', 0x13, 0x2d, 0x2d],
  ['KeyT', 0x14, 0x2c, 0x2c],
  ['KeyY', 0x15, 0x35, 0x35],
  ['KeyU', 0x16, 0x3c, 0x3c],
  ['KeyI', 0x17, 0x43, 0x43],
  ['KeyO', 0x18, 0x44, 0x44],
  ['KeyP', 0x19, 0x4d, 0x4d],
  ['BracketLeft', 0x1a, 0x54, 0x54],
  ['BracketRight', 0x1b, 0x5b, 0x5b],
  ['Backslash', 0x2b, 0x5d, 0x5c],
  ['CapsLock', 0x3a, 0x58, 0x14],
  ['KeyA', 0x1e, 0x1c, 0x1c],
  ['KeyS', 0x1f, 0x1b, 0x1b],
  ['KeyD', 0x20, 0x23, 0x23],
  ['KeyF', 0x21, 0x2b, 0x2b],
  ['KeyG', 0x22, 0x34, 0x34],
  ['KeyH', 0x23, 0x33, 0x33],
  ['KeyJ', 0x24, 0x3b, 0x3b],
  ['KeyK', 0x25, 0x42, 0x42],
  ['KeyL', 0x26, 0x4b, 0x4b],
  ['Semicolon', 0x27, 0x4c, 0x4c],
  ['Quote', 0x28, 0x52, 0x52],
  ['Enter', 0x1c, 0x5a, 0x5a],
  ['ShiftLeft', 0x2a, 0x12, 0x12],
  ['IntlBackslash', 0x56, 0x61, 0x13],
  ['KeyZ', 0x2c, 0x1a, 0x1a],
  ['KeyX', 0x2d, 0x22, 0x22],
  ['KeyC', 0x2e, 0x21, 0x21],
  ['KeyV', 0x2f, 0x2a, 0x2a],
  ['KeyB', 0x30, 0x32, 0x32],
  ['KeyN', 0x31, 0x31, 0x31],
  ['KeyM', 0x32, 0x3a, 0x3a],
  ['Comma', 0x33, 0x41, 0x41],
  ['Period', 0x34, 0x49, 0x49],
  ['Slash', 0x35, 0x4a, 0x4a],
  ['ShiftRight', 0x36, 0x59, 0x59],
  ['ControlLeft', 0x1d, 0x14, 0x11],
  ['MetaLeft', 0xe05b, 0xe01f, 0x8b],
  ['AltLeft', 0x38, 0x11, 0x19],
  ['Space', 0x39, 0x29, 0x29],
  ['AltRight', 0xe038, 0xe011, 0x39],
  ['MetaRight', 0xe05c, 0xe027, 0x8c],
  ['ContextMenu', 0xe05d, 0xe02f, 0x8d],
  ['ControlRight', 0xe01d, 0xe014, 0x58],
  ['Insert', 0xe052, 0xe070, 0x67],
  ['Home', 0xe047, 0xe06c, 0x6e],
  ['PageUp', 0xe049, 0xe07d, 0x6f],
  ['Delete', 0xe053, 0xe071, 0x64],
  ['End', 0xe04f, 0xe069, 0x65],
  ['PageDown', 0xe051, 0xe07a, 0x6d],
  ['ArrowUp', 0xe048, 0xe075, 0x63],
  ['ArrowLeft', 0xe04b, 0xe06b, 0x61],
  ['ArrowDown', 0xe050, 0xe072, 0x60],
  ['ArrowRight', 0xe04d, 0xe074, 0x6a],
  ['NumLock', 0x45, 0x77, 0x76],
  ['NumpadDivide', 0xe035, 0xe04a, 0x77],
  ['NumpadMultiply', 0x37, 0x7c, 0x7e],
  ['NumpadSubtract', 0x4a, 0x7b, 0x84],
  ['Numpad7', 0x47, 0x6c, 0x6c],
  ['Numpad8', 0x48, 0x75, 0x75],
  ['Numpad9', 0x49, 0x7d, 0x7d],
  ['NumpadAdd', 0x4e, 0x79, 0x7c],
  ['Numpad4', 0x4b, 0x6b, 0x6b],
  ['Numpad5', 0x4c, 0x73, 0x73],
  ['Numpad6', 0x4d, 0x74, 0x74],
  ['Numpad1', 0x4f, 0x69, 0x69],
  ['Numpad2', 0x50, 0x72, 0x72],
  ['Numpad3', 0x51, 0x7a, 0x7a],
  ['Numpad0', 0x52, 0x70, 0x70],
  ['NumpadDecimal', 0x53, 0x71, 0x71],
  ['NumpadEnter', 0xe01c, 0xe05a, 0x79],
  ['F13', 0x64, 0x08, 0],
  ['F14', 0x65, 0x10, 0],
  ['F15', 0x66, 0x18, 0],
  ['F16', 0x67, 0x20, 0],
  ['F17', 0x68, 0x28, 0],
  ['F18', 0x69, 0x30, 0],
  ['F19', 0x6a, 0x38, 0],
  ['F20', 0x6b, 0x40, 0],
  ['F21', 0x6c, 0x48, 0],
  ['F22', 0x6d, 0x50, 0],
  ['F23', 0x6e, 0x57, 0],
  ['F24', 0x76, 0x5f, 0],
  ['KanaMode', 0x70, 0x13, 0],
  ['IntlRo', 0x73, 0x51, 0],
  ['Convert', 0x79, 0x64, 0],
  ['NonConvert', 0x7b, 0x67, 0],
  ['IntlYen', 0x7d, 0x6a, 0],
  // Not make/break keys: their sequences are built in sequence().
  ['PrintScreen', 0xe037, 0xe07c, 0x57],
  ['Pause', 0, 0, 0x62],
] as const;

/** A physical key, by its W3C UI Events `code` name. */
export type KeyCode = (typeof KEY_TABLE)[number][0];

export type ScancodeSet = 1 | 2 | 3;

interface Codes {
  readonly set1: number;
  readonly set2: number;
  readonly set3: number;
}

const CODES = new Map<string, Codes>(KEY_TABLE.map(([code, set1, set2, set3]) => [code, { set1, set2, set3 }]));

/** Every key this keyboard has, in table order. */
export const KEY_CODES: readonly KeyCode[] = KEY_TABLE.map(([code]) => code);

export function isKeyCode(name: string): name is KeyCode {
  return CODES.has(name);
}

const EXTENDED = 0xe0;
/** Set 2/3 break prefix. */
export const BREAK_PREFIX = 0xf0;
/** Set 1 break flag. */
const SET1_BREAK = 0x80;

function withPrefix(code: number, last: number[]): number[] {
  return code > 0xff ? [EXTENDED, ...last] : last;
}

/**
 * The bytes the keyboard sends for `key` going down or up in scan code set
 * `set` (untranslated). Pause sends its whole sequence on the make and
 * nothing on the break; Print Screen sends the sequence of an unshifted
 * Print Screen (E0 12 E0 7C in set 2) — the variants under Shift, Ctrl and
 * Alt are not modelled.
 */
export function sequence(key: KeyCode, down: boolean, set: ScancodeSet): readonly number[] {
  const codes = CODES.get(key);
  if (codes === undefined) return [];
  if (set === 3) {
    if (codes.set3 === 0) return [];
    return down ? [codes.set3] : [BREAK_PREFIX, codes.set3];
  }
  if (key === 'Pause') {
    if (!down) return [];
    return set === 1 ? [0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5] : [0xe1, 0x14, 0x77, 0xe1, BREAK_PREFIX, 0x14, BREAK_PREFIX, 0x77];
  }
  if (key === 'PrintScreen') {
    // A fake Left Shift down (set 1 2Ah, set 2 12h) around the key, as the keyboard sends it when no modifier is held.
    if (set === 1) return down ? [EXTENDED, 0x2a, EXTENDED, 0x37] : [EXTENDED, 0xb7, EXTENDED, 0xaa];
    return down ? [EXTENDED, 0x12, EXTENDED, 0x7c] : [EXTENDED, BREAK_PREFIX, 0x7c, EXTENDED, BREAK_PREFIX, 0x12];
  }
  if (set === 1) {
    const low = codes.set1 & 0xff;
    return withPrefix(codes.set1, [down ? low : low | SET1_BREAK]);
  }
  const low = codes.set2 & 0xff;
  return withPrefix(codes.set2, down ? [low] : [BREAK_PREFIX, low]);
}

/**
 * The 8042's set 2 → set 1 translation of one byte (command byte bit 6),
 * derived from the key table: each key's set 2 code maps to its set 1 code
 * (E0h-prefixed keys map their second byte, which is consistent with the
 * unprefixed keys). Bytes that are not key codes: 00h (set 2 "key
 * detection error/overrun") becomes FFh (set 1's); 02h, the current-set
 * answer to F0h 00h, becomes 41h — the controller's table maps the three
 * set numbers 01h/02h/03h to 43h/41h/3Fh, and 01h and 03h are the F9 and F5
 * codes already. F7's 83h (the one set 2 code above 7Fh) becomes 41h and
 * Alt+SysRq's 84h becomes 54h. Every other byte from 80h up (ACK, BAT,
 * echo, resend, the ID's ABh, E0h, E1h) passes unchanged. F0h is not
 * translated: the controller drops it and sets bit 7 of the byte after.
 * Bytes below 80h that are no key of this keyboard never come from it; they
 * pass unchanged here.
 */
export const TRANSLATION: Uint8Array = buildTranslation();

function buildTranslation(): Uint8Array {
  const table = new Uint8Array(256).map((_, i) => i);
  for (const [code, set1, set2] of KEY_TABLE) {
    if (code === 'Pause') continue;
    table[set2 & 0xff] = set1 & 0xff;
  }
  table[0x00] = 0xff;
  table[0x02] = 0x41;
  table[0x84] = 0x54;
  return table;
}
