import { describe, expect, it } from 'vitest';
import { SERIAL_CONSOLE, SERIAL_VECTOR, consoleLine, serialConsole } from '../src/serial-console.ts';
import { resolveParameters } from '../src/workload.ts';
import type { Access } from './guest-driver.ts';
import { drive, show } from './guest-driver.ts';

/** A UART that is always ready (LSR THRE|TEMT) and whose IIR says `iir()`. */
function setUp(mode: 'polling' | 'thre-irq', iir: () => number = () => 0xc1) {
  const workload = serialConsole({ mode, linesPerSecond: 1000 });
  const driver = drive(workload.guest, (_kind, at) => (at === 0x3fd ? 0x60 : at === 0x3fa ? iir() : at === 0x3f9 ? 0x05 : 0));
  const uart = (log: readonly Access[]) => log.filter((a) => a.at >= 0x3f8 && a.at <= 0x3ff);
  return { workload, driver, uart };
}

describe('serial-console', () => {
  it('starts the port as serial8250_do_startup and set_termios do, for 115200 8N1 with FIFOs', () => {
    const { driver, uart } = setUp('thre-irq');
    driver.toHalt();
    expect(uart(driver.log).map(show)).toEqual([
      'out 3fa=1', 'out 3fa=7', 'out 3fa=0', // serial8250_clear_fifos
      'in 3fd=60', 'in 3f8=0', 'in 3fa=c1', 'in 3fe=0', 'in 3fd=60', // clear interrupts; LSR != FFh
      'out 3f9=2', 'in 3fa=c1', 'out 3f9=0', 'out 3f9=2', 'in 3fa=c1', 'out 3f9=0', // UART_BUG_THRE probe
      'out 3fb=3', 'out 3fc=8', // 8N1; OUT2
      'out 3f9=2', 'in 3fd=60', 'in 3fa=c1', 'out 3f9=0', // UART_BUG_TXEN probe
      'in 3fd=60', 'in 3f8=0', 'in 3fa=c1', 'in 3fe=0', 'out 3f9=5', // clear again; IER RLSI|RDI
      'out 3f9=5', 'out 3fb=83', 'out 3f8=1', 'out 3f9=0', 'out 3fb=3', 'out 3fa=1', 'out 3fa=81', 'out 3fc=8', 'out 3fc=b', // set_termios, dtr_rts
      'out 3f9=7', // serial8250_start_tx for the first line
    ]);
  });

  it('polls LSR for THRE before each byte on the console path, CR before LF, with IER saved and restored', () => {
    const { workload, driver, uart } = setUp('polling');
    driver.toHalt();
    const line = consoleLine(1, 0).replace(/\[.*\]/, '');
    const writes = uart(driver.log).map(show);
    const start = writes.indexOf('in 3f9=5'); // the console saves IER
    expect(writes.slice(start, start + 4)).toEqual(['in 3f9=5', 'out 3f9=0', 'in 3fd=60', 'out 3f8=5b']);
    expect(writes.slice(-6)).toEqual(['in 3fd=60', 'out 3f8=d', 'in 3fd=60', 'out 3f8=a', 'in 3fd=60', 'out 3f9=5']);
    expect(workload.written().endsWith(`${line.slice(0, -1)}\r\n`)).toBe(true);
    expect([workload.lines(), workload.bytes(), workload.lsrPolls()]).toEqual([1, workload.written().length, workload.bytes() + 1]);
  });

  it('sends 16 bytes per THRE interrupt and clears THRI when the buffer empties', () => {
    let iir = 0xc1;
    const { workload, driver, uart } = setUp('thre-irq', () => iir);
    driver.toHalt();
    const total = consoleLine(1, 0).length + 1;
    const refills: string[][] = [];
    for (let sent = 0; sent < total; sent += 16) {
      iir = 0xc2;
      const before = driver.log.length;
      driver.inject(SERIAL_VECTOR);
      driver.step(1_000, (a) => {
        if (a.at === 0x3fa && a.kind === 'in') iir = iir === 0xc2 ? 0xc1 : iir; // the second pass finds nothing
        return a.kind === 'out' && a.at === 0x21 && a.value === 0xee; // the unmask after the handler
      });
      refills.push(uart(driver.log.slice(before)).map(show));
    }
    expect(refills[0]?.slice(0, 3)).toEqual(['in 3fa=c2', 'in 3fd=60', 'in 3fe=0']);
    expect(refills[0]?.filter((s) => s.startsWith('out 3f8='))).toHaveLength(16);
    expect(refills[0]?.at(-1)).toBe('in 3fa=c1');
    const last = refills.at(-1) ?? [];
    expect(last.slice(-2)).toEqual(['out 3f9=5', 'in 3fa=c1']); // __stop_tx, then nothing pending
    expect(workload.bytes()).toBe(total);
    expect(workload.written()).toMatch(/console line 1\r\n$/);
  });

  it('takes the mode and the line rate, checked', () => {
    expect(() => resolveParameters(SERIAL_CONSOLE, { mode: 'dma' })).toThrow(/mode/);
    const created = SERIAL_CONSOLE.create(resolveParameters(SERIAL_CONSOLE, { mode: 'polling' }));
    expect(created.progress()).toEqual({ bytes: 0, lines: 0, interrupts: 0, lsrPolls: 0, timeouts: 0 });
  });
});
