// The 8042 through its two ports, the way SeaBIOS and Linux drive it, on a virtual clock.
import { DeviceStateError } from '@splitvisor/abi';
import { describe, expect, it } from 'vitest';
import { CommandByte, OutputPort, Status } from '../src/index.ts';
import { board } from './harness.ts';

const CMD_UNLOCKED = Status.CMD | Status.UNLOCKED; // 18h: what QEMU's status reads with nothing else set

describe('power-on', () => {
  it('reads status 18h, command byte 03h, output port CFh, and has nothing to send', () => {
    const b = board();
    expect(b.status()).toBe(0x18);
    expect(b.irq()).toEqual({ irq1: false, irq12: false });
    b.command(0x20);
    expect(b.status()).toBe(0x18 | Status.OBF);
    expect(b.read()).toBe(0x03);
    b.command(0xd0);
    expect(b.read()).toBe(0xcf);
    expect(b.a20Levels).toEqual([true]); // driven once at construction
  });

  it('returns the last byte read when 60h is read with the output buffer empty (QEMU obdata)', () => {
    const b = board();
    expect(b.read()).toBe(0);
    b.command(0xaa);
    expect(b.read()).toBe(0x55);
    expect(b.read()).toBe(0x55);
    expect(b.kbc.anomalies()).toMatchObject({ emptyDataReads: 2 });
  });
});

describe('SeaBIOS keyboard init (ps2port.c, as recorded in the shared traces)', () => {
  it('disables both ports, self-tests, tests the keyboard interface, resets the keyboard and sets the command byte', () => {
    const b = board();
    expect(b.status()).toBe(0x18);
    b.command(0xad); // disable keyboard
    b.command(0xa7); // disable aux
    expect(b.status()).toBe(0x18);
    b.command(0xaa); // self-test
    expect(b.status()).toBe(0x1d); // OBF, and the system flag
    expect(b.read()).toBe(0x55);
    expect(b.status()).toBe(0x1c);
    b.command(0xab); // keyboard interface test
    expect(b.status()).toBe(0x1d);
    expect(b.read()).toBe(0x00);
    b.command(0x60);
    b.data(0x30); // both ports disabled, no interrupts
    expect(b.status()).toBe(0x1c); // the system flag stays set; bit 3 stays 1 after a data write (QEMU)
    b.command(0x60);
    b.data(0x20); // keyboard enabled
    b.data(0xff); // keyboard reset
    expect(b.status()).toBe(0x1d);
    expect(b.read()).toBe(0xfa);
    expect(b.status()).toBe(0x1d);
    expect(b.read()).toBe(0xaa);
    expect(b.status()).toBe(0x1c);
    b.data(0xf5); // disable scanning
    expect(b.read()).toBe(0xfa);
    b.data(0xf0); // scan code set…
    expect(b.read()).toBe(0xfa);
    b.data(0x02); // …2
    expect(b.read()).toBe(0xfa);
    b.command(0x60);
    b.data(0x60); // translate, aux disabled
    b.data(0xf4); // enable scanning
    expect(b.read()).toBe(0xfa);
    b.command(0x60);
    b.data(0x61); // translate, system flag, irq 1
    expect(b.status()).toBe(0x1c);
    expect(b.irq()).toEqual({ irq1: false, irq12: false });
    expect(b.kbc.anomalies()).toMatchObject({ unsupportedCommands: 0, emptyDataReads: 0 });
  });
});

describe('Linux i8042 probe, atkbd and psmouse (drivers/input/serio/i8042.c, as recorded)', () => {
  function afterBios() {
    const b = board();
    b.command(0xaa);
    b.read();
    b.command(0x60);
    b.data(0x61);
    return b;
  }

  it('flushes, reads and writes the command byte, and self-tests (i8042.reset)', () => {
    const b = afterBios();
    expect(b.drain()).toEqual([]); // i8042_flush
    b.command(0x20);
    expect(b.status()).toBe(0x1d);
    expect(b.read()).toBe(0x61);
    b.command(0x60);
    b.data(0x70); // interrupts off, both ports disabled, translation kept
    b.command(0xaa);
    expect(b.drain()).toEqual([0x55]);
    b.command(0x20);
    expect(b.read()).toBe(0x70); // the self-test leaves the command byte alone (QEMU)
  });

  it('checks the aux port: D3h loopback, A7h/A8h reflected in the command byte, loopback with irq 12', () => {
    const b = afterBios();
    b.command(0x60);
    b.data(0x70);
    b.command(0xd3);
    b.data(0x5a);
    expect(b.status()).toBe(0x3d); // OBF and AUX_OBF
    expect(b.read()).toBe(0x5a);
    expect(b.status()).toBe(0x1c);
    expect(b.rises(1)).toBe(0); // AUX_INT off
    b.command(0xa7);
    b.command(0x20);
    expect(b.read()).toBe(0x70);
    b.command(0xa8);
    b.command(0x20);
    expect(b.read()).toBe(0x50);
    b.command(0x60);
    b.data(0x52); // AUX_INT on, keyboard disabled
    b.command(0xd3);
    b.data(0xa5);
    expect(b.irq()).toEqual({ irq1: false, irq12: true });
    expect(b.status()).toBe(0x3d);
    expect(b.read()).toBe(0xa5);
    expect(b.irq()).toEqual({ irq1: false, irq12: false });
    expect(b.rises(1)).toBe(1);
    // The active-multiplexing probe: a plain 8042 loops every byte back, so the third answer (A4h) says "no mux".
    b.command(0x60);
    b.data(0x70);
    const loop = (byte: number) => { b.command(0xd3); b.data(byte); return b.drain(); };
    expect([...loop(0xf0), ...loop(0x56), ...loop(0xa4)]).toEqual([0xf0, 0x56, 0xa4]);
  });

  it('atkbd: identify (translated ID AB 41), reset-disable, LEDs, typematic, enable — one irq 1 edge per byte', () => {
    const b = afterBios();
    b.command(0x60);
    b.data(0x43); // both ports enabled, both interrupts, translation
    const before = b.rises(0);
    b.data(0xf2);
    expect(b.status()).toBe(0x1d);
    expect(b.irq().irq1).toBe(true);
    expect(b.drain()).toEqual([0xfa, 0xab, 0x41]);
    expect(b.irq().irq1).toBe(false);
    expect(b.rises(0) - before).toBe(3);
    for (const byte of [0xf5, 0xed, 0x00, 0xf3, 0x00, 0xf4]) {
      b.data(byte);
      expect(b.drain()).toEqual([0xfa]);
    }
    expect(b.rises(0) - before).toBe(9);
    expect(b.kbc.leds()).toEqual({ scrollLock: false, numLock: false, capsLock: false });
    b.data(0xed);
    b.data(0x06);
    expect(b.drain()).toEqual([0xfa, 0xfa]);
    expect(b.kbc.leds()).toEqual({ scrollLock: false, numLock: true, capsLock: true });
    // Untranslated, the ID is AB 83.
    b.command(0x60);
    b.data(0x03);
    b.data(0xf2);
    expect(b.drain()).toEqual([0xfa, 0xab, 0x83]);
  });

  it('atkbd reset: FA then AA; psmouse: D4h F2h answered FA 00 on the aux side with irq 12', () => {
    const b = afterBios();
    b.command(0x60);
    b.data(0x43);
    b.data(0xff);
    expect(b.drain()).toEqual([0xfa, 0xaa]);
    b.command(0xd4);
    b.data(0xf2);
    expect(b.status()).toBe(0x3d);
    expect(b.irq()).toEqual({ irq1: false, irq12: true });
    expect(b.read()).toBe(0xfa);
    expect(b.status()).toBe(0x3d);
    expect(b.read()).toBe(0x00);
    expect(b.status()).toBe(0x1c);
    expect(b.rises(1)).toBe(2);
  });
});

describe('irq lines', () => {
  it('raise irq 1 for every byte in the output buffer that is not from the aux device, while KBD_INT is set', () => {
    const b = board();
    b.command(0x60);
    b.data(0x01); // KBD_INT only
    b.command(0xd3);
    b.data(0x11); // aux byte: no irq 12 without AUX_INT, and never irq 1
    expect(b.irq()).toEqual({ irq1: false, irq12: false });
    b.read();
    b.command(0xd2);
    b.data(0x22); // as from the keyboard
    expect(b.irq()).toEqual({ irq1: true, irq12: false });
    b.command(0x60);
    b.data(0x00); // KBD_INT off: the line follows the command byte at once
    expect(b.irq().irq1).toBe(false);
    expect(b.status() & Status.OBF).toBe(Status.OBF);
  });

  it('raises irq 1 for a controller answer even while the keyboard interface is disabled (the datasheet; QEMU gates it)', () => {
    const b = board();
    b.command(0xad);
    b.command(0x20);
    expect(b.irq().irq1).toBe(true);
    expect(b.read()).toBe(0x03 | CommandByte.KBD_DISABLE);
  });
});

describe('output port, A20 and reset', () => {
  it('gates A20 through D1h and DDh/DFh, and reads the port back with D0h', () => {
    const b = board();
    b.command(0xd1);
    b.data(0xdd); // A20 off
    expect(b.kbc.a20()).toBe(false);
    b.command(0xd0);
    expect(b.read()).toBe(0xcd); // bits 4–5 follow the output buffer, empty when D0h was taken
    b.command(0xd1);
    b.data(0xdf);
    expect(b.kbc.a20()).toBe(true);
    b.command(0xdd);
    expect(b.kbc.a20()).toBe(false);
    b.command(0xdf);
    b.command(0xdf); // no change, no call
    expect(b.a20Levels).toEqual([true, false, true, false, true]);
    expect(b.kbc.stats()).toMatchObject({ a20Changes: 4, resetRequests: 0 });
    expect(b.resets.count).toBe(0);
  });

  it('shows output-buffer-full in output port bits 4 and 5 when D0h is taken with a byte waiting', () => {
    const b = board();
    b.command(0xd3);
    b.data(0x99);
    b.command(0xd0); // answered after the waiting aux byte
    expect(b.drain()).toEqual([0x99, 0xcf | OutputPort.AUX_OBF]);
  });

  it('requests a CPU reset for FEh, any pulse of bit 0, and D1h with bit 0 low', () => {
    const b = board();
    b.command(0xfe);
    expect(b.resets.count).toBe(1);
    b.command(0xff); // pulse nothing
    b.command(0xf1); // pulse bits 1–3 only
    expect(b.resets.count).toBe(1);
    b.command(0xf0);
    b.command(0xfc);
    expect(b.resets.count).toBe(3);
    b.command(0xd1);
    b.data(0xce);
    expect(b.resets.count).toBe(4);
    expect(b.kbc.stats().resetRequests).toBe(4);
    b.kbc.reset(); // the board resets the machine
    expect(b.status()).toBe(0x18);
    b.command(0xd0);
    expect(b.read()).toBe(0xcf);
  });
});

describe('controller commands', () => {
  it('answers C0h with the input port (80h), the interface tests with 00h', () => {
    const b = board();
    for (const [command, answer] of [[0xc0, 0x80], [0xa9, 0x00], [0xab, 0x00]] as const) {
      b.command(command);
      expect(b.drain()).toEqual([answer]);
    }
  });

  it('reads and writes the controller RAM with 20h–3Fh and 60h–7Fh', () => {
    const b = board();
    b.command(0x7f);
    b.data(0x5c);
    b.command(0x3f);
    expect(b.drain()).toEqual([0x5c]);
    b.command(0x21);
    expect(b.drain()).toEqual([0x00]);
  });

  it('counts and ignores commands it does not know, and a new command abandons one awaiting its byte', () => {
    const b = board();
    b.command(0xa1);
    expect(b.drain()).toEqual([]);
    expect(b.kbc.anomalies()).toMatchObject({ unsupportedCommands: 1 });
    b.command(0x60);
    b.command(0xaa);
    b.data(0xf2); // goes to the keyboard, not the command byte
    expect(b.drain()).toEqual([0x55, 0xfa, 0xab, 0x83]);
    b.command(0x20);
    expect(b.read()).toBe(0x03);
  });

  it('keeps a second controller answer behind an unread first, and replaces a third', () => {
    const b = board();
    b.command(0xd2);
    b.data(0x01);
    b.command(0xd2);
    b.data(0x02);
    b.command(0xd2);
    b.data(0x03);
    expect(b.drain()).toEqual([0x01, 0x03]);
    expect(b.kbc.anomalies()).toMatchObject({ controllerBytesLost: 1 });
  });

  it('holds keyboard bytes while the keyboard interface is disabled; writing to the keyboard enables it again', () => {
    const b = board();
    b.command(0xad);
    b.kbc.pressKey('KeyA');
    expect(b.status() & Status.OBF).toBe(0);
    b.command(0xae);
    expect(b.drain()).toEqual([0x1c, 0xf0, 0x1c]);
    b.command(0xad);
    b.data(0xee); // echo
    b.command(0x20);
    expect(b.drain()).toEqual([0xee, 0x03]); // the keyboard's echo, then the command byte with KBD_DISABLE cleared
  });

  it('times out a byte for the aux port when no mouse is attached', () => {
    const b = board({ mouse: false });
    b.command(0xd4);
    b.data(0xff);
    expect(b.status()).toBe(CMD_UNLOCKED | Status.OBF | Status.AUX_OBF | Status.TIMEOUT);
    expect(b.read()).toBe(0xfe);
    expect(b.status()).toBe(CMD_UNLOCKED);
    expect(b.kbc.anomalies()).toMatchObject({ writesToMissingAux: 1 });
    expect(() => { b.kbc.mouseMove(1, 1); }).toThrow('no mouse');
  });
});

describe('state', () => {
  it('re-drives irq 1 and the A20 gate from a restored state', () => {
    const first = board();
    first.command(0xdd); // A20 off
    first.kbc.typeText('q');
    expect(first.irq().irq1).toBe(true);
    const second = board();
    second.kbc.setState(first.kbc.getState());
    expect(second.irq()).toEqual({ irq1: true, irq12: false });
    expect(second.a20Levels).toEqual([true, false]);
    expect(second.drain()).toEqual(first.drain());
  });

  it('refuses a state with a mouse for an i8042 without one, and the other way round', () => {
    const withMouse = board().kbc.getState();
    const withoutMouse = board({ mouse: false }).kbc.getState();
    expect(() => { board({ mouse: false }).kbc.setState(withMouse); }).toThrow(DeviceStateError);
    expect(() => { board().kbc.setState(withoutMouse); }).toThrow(DeviceStateError);
    expect(() => { board().kbc.setState({ ...withMouse, version: 2 } as unknown as typeof withMouse); }).toThrow(DeviceStateError);
  });

  it('returns to power-on on reset(), host queue included', () => {
    const b = board();
    b.command(0x60);
    b.data(0x61);
    b.data(0xf5);
    b.kbc.typeText('held');
    b.kbc.reset();
    expect(b.status()).toBe(0x18);
    expect(b.kbc.getState().keyboard.hostQueue).toEqual([]);
    expect(b.kbc.getState().ram[0]).toBe(0x03);
  });
});
