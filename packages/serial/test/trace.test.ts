// Replays every COM1 access of the shared QEMU traces (SeaBIOS POST, two Linux 6.1 boots) and compares our
// answers with QEMU's; on the serial-console boot, also compares our INTR with QEMU's COM1 interrupt messages.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { ReplayResult, TraceAccess, TraceName } from '@splitvisor/device-testkit';
import { TRACE_NAMES, createTestContext, loadTrace, replayTrace } from '@splitvisor/device-testkit';
import { describe, expect, it } from 'vitest';
import type { Ns16550aConfig } from '../src/index.ts';
import { Iir, Lsr, Mcr, Ns16550a, Reg } from '../src/index.ts';

/** The PC's COM1: 3F8h–3FFh (IBM PC/AT technical reference; QEMU's `pc` machine, region `serial`). */
const COM1 = 0x3f8;
const placements = [{ space: 'port', base: COM1, length: 8, region: 'registers' }] as const;

/** QEMU's pc machine resets its 16550 with OUT2 set (the datasheet's reset clears MCR): the board's choice for replay. */
const QEMU_PC: Ns16550aConfig = { resetMcr: Mcr.OUT2 };

const isCom1 = (a: TraceAccess) => a.kind === 'pio' && a.addr >= COM1 && a.addr < COM1 + 8;

function replay(name: TraceName, config: Ns16550aConfig, options: Parameters<typeof replayTrace>[4] = {}): { result: ReplayResult; uart: Ns16550a; sent: number } {
  const context = createTestContext();
  const uart = new Ns16550a(context, config);
  let sent = 0;
  uart.onTransmit(() => { sent++; });
  const result = replayTrace(uart, context, loadTrace(name), placements, options);
  return { result, uart, sent };
}

function summary(result: ReplayResult): string {
  const td = Object.entries(result.timeDependent).map(([k, v]) => `${k}: ${v.reads} reads, ${v.exact} exact, ${v.close} within tolerance`);
  const plain = result.reads - Object.values(result.timeDependent).reduce((n, v) => n + v.reads, 0);
  return `${result.accesses} accesses, ${result.reads} reads; ${result.identical}/${plain} other reads identical; `
    + `${td.length > 0 ? td.join('; ') : 'no time-dependent reads'}; ${result.mismatches.length} mismatches`;
}

/**
 * With line-rate timing, which reads depend on time, and how.
 *
 * QEMU's 16550 hands each character to its backend the moment THR is written, so in the traces THRE and TEMT are
 * set again before the guest's next access, and the THRE interrupt is re-raised at once. Ours keeps a character
 * in the transmitter for its frame time (1.04 ms at the 9600 baud Linux programs): the guest in the trace, which
 * did not wait, finds THR still full. Those bits are genuinely time-dependent:
 * - LSR bits 6–5 (TEMT, THRE). Every other LSR bit (DR, OE, PE, FE, BI, bit 7) must match exactly.
 * - IIR bits 3–0 where they say "THRE interrupt" against "none" (02h vs 01h): whether THR has emptied by
 *   then. The FIFO bits 7–6 and any other interrupt ID must match exactly.
 * Everything else (IER, LCR, MCR, MSR, RBR, DLL/DLM, SCR) does not depend on time and must be identical.
 */
const lineRate = {
  timeDependent: (access: TraceAccess): string | undefined => {
    if (access.addr === COM1 + Reg.LSR) return 'LSR THRE/TEMT';
    if (access.addr === COM1 + Reg.IIR) return 'IIR THRE source';
    return undefined;
  },
  close: (access: TraceAccess, ours: number): boolean => {
    if (access.addr === COM1 + Reg.LSR) return ((ours ^ access.value) & ~(Lsr.THRE | Lsr.TEMT)) === 0;
    const threOrNone = (v: number) => (v & 0x0f) === Iir.NO_INTERRUPT || (v & 0x0f) === Iir.THR_EMPTY;
    return (ours & Iir.FIFOS_ENABLED) === (access.value & Iir.FIFOS_ENABLED) && threOrNone(ours) && threOrNone(access.value);
  },
};

describe.each(TRACE_NAMES)('trace %s', (name) => {
  it('with QEMU\'s timing (instant), answers every read exactly as QEMU did', () => {
    const { result, sent } = replay(name, { ...QEMU_PC, timing: 'instant' });
    expect(result.mismatches).toEqual([]);
    expect(result.identical).toBe(result.reads);
    // Every THR write reached the host (the trace's two divisor-latch writes go to DLL instead).
    const thrWrites = loadTrace(name).filter((a) => isCom1(a) && a.op === 'w' && a.addr === COM1).length;
    expect(sent).toBe(name === 'linux-boot-serial' ? thrWrites - 2 : thrWrites);
    console.log(`${name} (instant): ${summary(result)}`);
  }, 60_000);

  it('with line-rate timing, differs only in the bits timing explains', () => {
    const { result } = replay(name, QEMU_PC, lineRate);
    expect(result.mismatches).toEqual([]);
    for (const [register, counts] of Object.entries(result.timeDependent)) expect({ register, close: counts.close }).toEqual({ register, close: counts.reads });
    console.log(`${name} (line-rate): ${summary(result)}`);
  }, 60_000);

  it('with the datasheet\'s reset MCR, differs only where the guest reads MCR before writing it', () => {
    const { result } = replay(name, { timing: 'instant' });
    const firstMcrWrite = loadTrace(name).find((a) => isCom1(a) && a.op === 'w' && a.addr === COM1 + Reg.MCR)?.t ?? Infinity;
    for (const m of result.mismatches) expect({ addr: m.addr, expected: m.expected, actual: m.actual, early: m.t < firstMcrWrite }).toEqual({ addr: COM1 + Reg.MCR, expected: Mcr.OUT2, actual: 0, early: true });
    console.log(`${name} (instant, MCR 0 at reset): ${summary(result)}`);
  }, 60_000);
});

describe('trace linux-boot-serial: the interrupt line', () => {
  /**
   * QEMU delivers COM1 through IOAPIC pin 4, which Linux gave vector 25h in this boot; each message in the sidecar is
   * one assertion QEMU made while the pin was unmasked (QEMU re-asserts on every update, so there are far more
   * messages than edges). Both directions are checked: at every message our INTR is high, and every rising edge of
   * our INTR in that period is followed by a message within 50 µs (QEMU logs its message after the access).
   */
  it('asserts INTR whenever QEMU sent a COM1 interrupt, and only then', () => {
    const url = new URL('../../../../shared/traces/linux-boot-serial.irqmsg.jsonl.gz', import.meta.url);
    const messages = gunzipSync(readFileSync(url)).toString('utf8').split('\n').filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { t: number; vector: number; ctx: string })
      .filter((m) => m.vector === 0x25);
    const accesses = loadTrace('linux-boot-serial').filter(isCom1);
    const context = createTestContext();
    const uart = new Ns16550a(context, { ...QEMU_PC, timing: 'instant' });
    const apply = (a: TraceAccess) => {
      if (a.t > context.now()) context.advanceTo(a.t);
      if (a.op === 'w') uart.write('registers', a.addr - COM1, 1, a.value);
      else uart.read('registers', a.addr - COM1, 1);
    };
    // Our INTR at each message.
    let next = 0;
    let high = 0;
    let gatedByOut2 = 0;
    for (const message of messages) {
      for (let a = accesses[next]; a !== undefined && a.t <= message.t; a = accesses[++next]) apply(a);
      if (uart.pins().intr) {
        high++;
        if (!context.irqLevel(0)) gatedByOut2++;
      }
    }
    // Each rising edge of our INTR while the pin was in use.
    const first = messages[0]?.t ?? 0;
    const last = messages.at(-1)?.t ?? 0;
    const again = createTestContext();
    const replayed = new Ns16550a(again, { ...QEMU_PC, timing: 'instant' });
    let previous = false;
    let rises = 0;
    let followed = 0;
    for (const a of accesses) {
      if (a.t > again.now()) again.advanceTo(a.t);
      if (a.op === 'w') replayed.write('registers', a.addr - COM1, 1, a.value);
      else replayed.read('registers', a.addr - COM1, 1);
      const intr = replayed.pins().intr;
      if (intr && !previous && a.t >= first && a.t <= last) {
        rises++;
        if (messages.some((m) => m.t >= a.t && m.t <= a.t + 50_000)) followed++;
      }
      previous = intr;
    }
    expect(high).toBe(messages.length);
    expect(followed).toBe(rises);
    // Linux probes THRE (UART_BUG_THRE) while MCR is DTR only: QEMU raised irq 4 regardless; a PC's adapter would not.
    expect(gatedByOut2).toBe(2);
    console.log(`linux-boot-serial irq: ${messages.length} QEMU COM1 messages, INTR high at ${high} (${gatedByOut2} with OUT2 clear, so no irq on a PC); ${rises} rising edges of INTR, ${followed} followed by a QEMU message`);
  }, 60_000);
});
