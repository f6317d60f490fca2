/**
 * Text to key strokes on a US (ANSI) layout: which key, and whether Shift is
 * held, types each printable ASCII character, plus the control characters a
 * host is likely to type (newline, tab, backspace, escape).
 */
import type { KeyEvent } from './keyboard.ts';
import type { KeyCode } from './scancodes.ts';

interface Stroke {
  readonly key: KeyCode;
  readonly shift: boolean;
}

/** Unshifted and shifted characters of the keys that print. */
const PAIRS: readonly (readonly [KeyCode, string, string])[] = [
  ['Backquote', '`', '~'], ['Digit1', '1', '!'], ['Digit2', '2', '@'], ['Digit3', '3', '#'], ['Digit4', '4', '$'],
  ['Digit5', '5', '%'], ['Digit6', '6', '^'], ['Digit7', '7', '&'], ['Digit8', '8', '*'], ['Digit9', '9', '('],
  ['Digit0', '0', ')'], ['Minus', '-', '_'], ['Equal', '=', '+'], ['BracketLeft', '[', '{'], ['BracketRight', ']', '}'],
  ['Backslash', '\\', '|'], ['Semicolon', ';', ':'], ['Quote', "'", '"'], ['Comma', ',', '<'], ['Period', '.', '>'],
  ['Slash', '/', '?'], ['Space', ' ', ' '],
];

const LETTERS: readonly KeyCode[] = [
  'KeyA', 'KeyB', 'KeyC', 'KeyD', 'KeyE', 'KeyF', 'KeyG', 'KeyH', 'KeyI', 'KeyJ', 'KeyK', 'KeyL', 'KeyM',
  'KeyN', 'KeyO', 'KeyP', 'KeyQ', 'KeyR', 'KeyS', 'KeyT', 'KeyU', 'KeyV', 'KeyW', 'KeyX', 'KeyY', 'KeyZ',
];

const STROKES: ReadonlyMap<string, Stroke> = (() => {
  const map = new Map<string, Stroke>();
  for (const [key, plain, shifted] of PAIRS) {
    map.set(plain, { key, shift: false });
    if (!map.has(shifted)) map.set(shifted, { key, shift: true });
  }
  LETTERS.forEach((key, i) => {
    map.set(String.fromCharCode(0x61 + i), { key, shift: false });
    map.set(String.fromCharCode(0x41 + i), { key, shift: true });
  });
  map.set('\n', { key: 'Enter', shift: false });
  map.set('\r', { key: 'Enter', shift: false });
  map.set('\t', { key: 'Tab', shift: false });
  map.set('\b', { key: 'Backspace', shift: false });
  map.set('\x1b', { key: 'Escape', shift: false });
  return map;
})();

/** The key events that type `char` (Left Shift around it when shifted), or undefined if no key types it. */
export function strokesFor(char: string): readonly KeyEvent[] | undefined {
  const stroke = STROKES.get(char);
  if (stroke === undefined) return undefined;
  const press: KeyEvent[] = [{ key: stroke.key, down: true }, { key: stroke.key, down: false }];
  return stroke.shift ? [{ key: 'ShiftLeft', down: true }, ...press, { key: 'ShiftLeft', down: false }] : press;
}
