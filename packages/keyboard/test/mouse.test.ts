// The PS/2 mouse on the 8042's auxiliary port, driven as Linux's psmouse drives it.
import { describe, expect, it } from 'vitest';
import { MouseButton } from '../src/index.ts';
import type { Board } from './harness.ts';
import { board } from './harness.ts';

/** Sends each byte to the mouse (D4h) and reads the answer before the next. */
function aux(b: Board, ...bytes: number[]): number[] {
  return bytes.flatMap((byte) => {
    b.command(0xd4);
    b.data(byte);
    return b.drain();
  });
}

function mouseBoard() {
  const b = board();
  b.command(0x60);
  b.data(0x47); // both interrupts, both ports, translation
  return b;
}

describe('PS/2 mouse commands', () => {
  it('resets (FA AA 00), identifies (FA 00), and reports its status (E9h)', () => {
    const b = mouseBoard();
    expect(aux(b, 0xff)).toEqual([0xfa, 0xaa, 0x00]);
    expect(aux(b, 0xf2)).toEqual([0xfa, 0x00]);
    expect(aux(b, 0xe9)).toEqual([0xfa, 0x00, 0x02, 100]); // stream, disabled, 1:1; 4 counts/mm; 100/s
    expect(aux(b, 0xf3, 40, 0xe8, 3, 0xe7, 0xf0, 0xf4, 0xe9)).toEqual([0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0x70, 0x03, 40]);
    expect(aux(b, 0xf6, 0xe9)).toEqual([0xfa, 0xfa, 0x00, 0x02, 100]);
  });

  it('answers every aux byte on the aux side of the status register, with irq 12', () => {
    const b = mouseBoard();
    b.command(0xd4);
    b.data(0xf2);
    expect(b.status()).toBe(0x39); // OBF, AUX_OBF (no self-test yet: no system flag, whatever the command byte says)
    expect(b.irq()).toEqual({ irq1: false, irq12: true });
    expect(b.drain()).toEqual([0xfa, 0x00]);
    expect(b.rises(1)).toBe(2);
  });

  it('refuses a sample rate or resolution that does not exist with Resend, and unknown commands too', () => {
    const b = mouseBoard();
    expect(aux(b, 0xf3, 55)).toEqual([0xfa, 0xfe]);
    expect(aux(b, 0xe8, 9)).toEqual([0xfa, 0xfe]);
    expect(aux(b, 0x33)).toEqual([0xfe]);
    expect(b.kbc.anomalies()).toMatchObject({ invalidMouseOptions: 2, unknownMouseCommands: 1 });
  });

  it('becomes an IntelliMouse (ID 3) after rates 200, 100, 80 and an Explorer (ID 4) after 200, 200, 80', () => {
    const b = mouseBoard();
    aux(b, 0xf3, 200, 0xf3, 100, 0xf3, 80);
    expect(aux(b, 0xf2)).toEqual([0xfa, 0x03]);
    aux(b, 0xf3, 200, 0xf3, 200, 0xf3, 80);
    expect(aux(b, 0xf2)).toEqual([0xfa, 0x04]);
    expect(aux(b, 0xff)).toEqual([0xfa, 0xaa, 0x00]);
    expect(aux(b, 0xf2)).toEqual([0xfa, 0x00]);
  });

  it('echoes everything in wrap mode until ECh, but still resets on FFh', () => {
    const b = mouseBoard();
    expect(aux(b, 0xee, 0x12, 0xf2, 0xec, 0xf2)).toEqual([0xfa, 0x12, 0xf2, 0xfa, 0xfa, 0x00]);
    expect(aux(b, 0xee, 0xff)).toEqual([0xfa, 0xfa, 0xaa, 0x00]);
  });
});

describe('PS/2 mouse data reports', () => {
  it('reports nothing until data reporting is enabled, then 3-byte packets for movement and buttons', () => {
    const b = mouseBoard();
    b.kbc.mouseMove(5, 5);
    expect(b.drain()).toEqual([]);
    expect(aux(b, 0xf4)).toEqual([0xfa]);
    b.kbc.mouseMove(5, -3); // screen sense: 3 up
    expect(b.drain()).toEqual([0x08, 5, 3]);
    b.kbc.mouseMove(-2, 4);
    expect(b.drain()).toEqual([0x08 | 0x10 | 0x20, 0xfe, 0xfc]);
    b.kbc.mouseButtons(MouseButton.LEFT | MouseButton.RIGHT);
    expect(b.drain()).toEqual([0x0b, 0, 0]);
    expect(aux(b, 0xe9)).toEqual([0xfa, 0x25, 0x02, 100]); // enabled, left and right held
  });

  it('splits large movements into as many reports as it takes (9-bit range each), bounding what is pending', () => {
    const b = mouseBoard();
    aux(b, 0xf4);
    b.kbc.mouseMove(600, 0);
    expect(b.drain()).toEqual([0x08, 255, 0, 0x08, 255, 0, 0x08, 90, 0]);
    b.command(0xa7); // hold the reports in the mouse
    b.kbc.mouseMove(1 << 20, 0);
    expect(b.kbc.anomalies()).toMatchObject({ mouseRepliesLost: 0 });
    const state = b.kbc.getState().mouse;
    expect(state?.buffer.length).toBeLessThanOrEqual(12);
    expect(state?.dx).toBeLessThanOrEqual(1 << 15);
  });

  it('applies 2:1 scaling to stream reports (1 1 3 6 9, then twice the count)', () => {
    const b = mouseBoard();
    aux(b, 0xe7, 0xf4);
    const reported = [1, 2, 3, 4, 5, 10, -4].map((dx) => {
      b.kbc.mouseMove(dx, 0);
      const [first = 0, x = 0] = b.drain();
      return (first & 0x10) !== 0 ? x - 256 : x;
    });
    expect(reported).toEqual([1, 1, 3, 6, 9, 20, -6]);
  });

  it('adds the wheel as a fourth byte once it is an IntelliMouse', () => {
    const b = mouseBoard();
    aux(b, 0xf3, 200, 0xf3, 100, 0xf3, 80, 0xf4);
    b.kbc.mouseMove(1, 0, -2);
    expect(b.drain()).toEqual([0x08, 1, 0, 0xfe]);
  });

  it('answers Read Data (EBh) in remote mode, and streams nothing there', () => {
    const b = mouseBoard();
    aux(b, 0xf4, 0xf0);
    b.kbc.mouseMove(7, 0);
    expect(b.drain()).toEqual([]);
    expect(aux(b, 0xeb)).toEqual([0xfa, 0x08, 7, 0]);
    expect(aux(b, 0xeb)).toEqual([0xfa, 0x08, 0, 0]); // the report reset the counters
    b.kbc.mouseMove(300, 0);
    expect(aux(b, 0xeb)).toEqual([0xfa, 0x08 | 0x40, 0xff, 0]); // X overflow, and the rest is gone
    b.kbc.mouseMove(7, 0);
    expect(aux(b, 0xfe)).toEqual([0]); // Resend repeats the last byte sent and keeps the counters…
    expect(aux(b, 0xe9, 0xeb)).toEqual([0xfa, 0x60, 0x02, 100, 0xfa, 0x08, 0, 0]); // …any other command resets them
  });

  it('holds its bytes while the aux interface is disabled; sending to it enables it again', () => {
    const b = mouseBoard();
    aux(b, 0xf4);
    b.command(0xa7);
    b.kbc.mouseMove(1, 0);
    expect(b.drain()).toEqual([]);
    b.command(0xa8);
    expect(b.drain()).toEqual([0x08, 1, 0]);
    b.command(0xa7);
    expect(aux(b, 0xf2)).toEqual([0xfa, 0x00]);
    b.command(0x20);
    expect(b.read() & 0x20).toBe(0);
  });
});
