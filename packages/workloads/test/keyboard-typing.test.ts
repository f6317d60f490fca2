import { describe, expect, it } from 'vitest';
import { KEYBOARD_TYPING, KEYBOARD_VECTOR, Set1Decoder, keyboardTyping } from '../src/keyboard-typing.ts';
import { resolveParameters } from '../src/workload.ts';
import { drive, show } from './guest-driver.ts';

/** An 8042 that answers its command byte and holds the bytes queued in `output`. */
function controller() {
  let ctr = 0x03;
  let expectCtr = false;
  const output: number[] = [];
  return {
    output,
    ctr: () => ctr,
    answer: (_kind: 'in' | 'read', port: number) => {
      if (port === 0x64) return 0x1c | (output.length > 0 ? 0x01 : 0);
      return port === 0x60 ? output.shift() ?? 0 : 0;
    },
    write: (port: number, value: number) => {
      if (port === 0x64 && value === 0x20) output.push(ctr);
      else if (port === 0x64 && value === 0x60) expectCtr = true;
      else if (port === 0x60 && expectCtr) {
        ctr = value;
        expectCtr = false;
      }
    },
  };
}

function setUp() {
  const workload = keyboardTyping({ text: 'Hi!', cps: 100 });
  const kbc = controller();
  const driver = drive(workload.guest, (kind, at) => kbc.answer(kind, at), { tickOnHalt: false, onWrite: (_kind, at, value) => { kbc.write(at, value); } });
  const run = (stop?: (s: string) => boolean) => {
    const seen: string[] = [];
    for (;;) {
      const [a] = driver.step(1);
      if (a === undefined) break;
      seen.push(show(a));
      if (stop?.(show(a)) === true) break;
    }
    return seen;
  };
  return { workload, kbc, driver, run };
}

describe('keyboard-typing', () => {
  it("sets the controller up as i8042_controller_init does: flush, the command byte read until two agree, written with the keyboard off, then on", () => {
    const { driver } = setUp();
    expect(driver.toHalt()).toBe(true);
    const log = driver.log.map(show).filter((s) => / (60|64)=/.test(s));
    expect(log).toEqual([
      'in 64=1c', 'out 64=60', 'in 64=1c', 'out 60=61', // the command byte the firmware would have left
      'in 64=1c', // i8042_flush: nothing there
      'in 64=1c', 'out 64=20', 'in 64=1d', 'in 60=61', // RCTR, polling IBF before and OBF after
      'in 64=1c', 'out 64=20', 'in 64=1d', 'in 60=61', // again: the two agree
      'in 64=1c', 'out 64=60', 'in 64=1c', 'out 60=70', // WCTR: KBDDIS set, KBDINT clear
      'in 64=1c', 'out 64=60', 'in 64=1c', 'out 60=61', // i8042_enable_kbd_port
    ]);
  });

  it('takes one byte per irq 1 (status, then data) and decodes set 1 back to the text typed', () => {
    const { workload, kbc, driver, run } = setUp();
    driver.toHalt();
    const bytes = [0x2a, 0x23, 0xa3, 0xaa, 0x17, 0x97, 0x2a, 0x02, 0x82, 0xaa]; // Shift+h, i, Shift+1
    for (const byte of bytes) {
      kbc.output.push(byte);
      driver.inject(KEYBOARD_VECTOR);
      const handler = run((s) => s === 'out 21=fd');
      expect(handler.filter((s) => / (60|64)=/.test(s))).toEqual(['in 64=1d', `in 60=${byte.toString(16)}`]);
      expect(handler.slice(0, 3)).toEqual(['in 21=0', 'out 21=ff', 'out 20=61']); // mask_and_ack_8259A: dummy IMR read, mask, specific EOI
    }
    expect(workload.text()).toBe('Hi!');
    expect(workload.scancodes()).toBe(bytes.length);
    driver.inject(KEYBOARD_VECTOR); // no data
    run((s) => s === 'out 21=fd');
    expect(workload.noData()).toBe(1);
  });

  it('decodes shifted symbols, Enter, and ignores extended keys', () => {
    const decoder = new Set1Decoder();
    for (const byte of [0x36, 0x33, 0xb3, 0xb6, 0x39, 0xb9, 0xe0, 0x48, 0xe0, 0xc8, 0x1c, 0x9c]) decoder.feed(byte);
    expect(decoder.text()).toBe('< \n');
  });

  it('asks the board to type the text at cps', () => {
    const created = KEYBOARD_TYPING.create(resolveParameters(KEYBOARD_TYPING, { text: 'abc', cps: '50' }));
    expect(created.board?.typing).toEqual({ text: 'abc', startNs: 1_000_000, intervalNs: 20_000_000 });
    expect(created.progress()).toEqual({ scancodes: 0, characters: 0, noData: 0 });
  });
});
