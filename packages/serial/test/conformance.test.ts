// The suites every device runs: state round trip and ≥ 10^5 random register operations, here with the host
// side (characters typed, breaks, modem lines) driven through the same operations.
import type { AccessSize, Device, DeviceContext, IoRegion } from '@splitvisor/abi';
import type { Op, TestContext } from '@splitvisor/device-testkit';
import { registerFuzzSuite, registerOps, stateRoundTripSuite } from '@splitvisor/device-testkit';
import fc from 'fast-check';
import { describe } from 'vitest';
import type { CharacterTiming, Ns16550aState } from '../src/index.ts';
import {
  FIFO_DEPTH, Fcr, Iir, Lcr, Mcr, Msr, Ns16550a, Reg, characterTime, interruptId, triggerLevel,
} from '../src/index.ts';

const QUEUE_LIMIT = 64;

/**
 * The UART plus a `host` region the suites can write, standing for the host API: offset 0 types a character,
 * 1 sends a break, 2 a character with a parity error, 3 sets the modem lines (value bits 7–4 as MSR).
 */
class HostDriven implements Device<Ns16550aState> {
  readonly model = 'ns16550a' as const;
  readonly regions: readonly IoRegion[];
  readonly uart: Ns16550a;

  constructor(context: DeviceContext, timing: CharacterTiming, opened = false) {
    this.uart = new Ns16550a(context, { timing, receiveQueueLimit: QUEUE_LIMIT });
    this.regions = [...this.uart.regions, { name: 'host', space: 'port', length: 4, sizes: [1] }];
    if (opened) {
      // As Linux leaves an open port: 8N1 at 115 200 baud, FIFOs on (trigger 14), every interrupt enabled, DTR|RTS|OUT2.
      for (const [reg, value] of [[Reg.LCR, 0x83], [Reg.DLL, 1], [Reg.DLM, 0], [Reg.LCR, 0x03], [Reg.FCR, 0xc7], [Reg.IER, 0x0f], [Reg.MCR, 0x0b]] as const) {
        this.uart.write('registers', reg, 1, value);
      }
    }
  }

  read(region: string, offset: number, size: AccessSize): number {
    return region === 'host' ? this.uart.pendingReceive() : this.uart.read(region, offset, size);
  }

  write(region: string, offset: number, size: AccessSize, value: number): void {
    if (region !== 'host') {
      this.uart.write(region, offset, size, value);
      return;
    }
    if (offset === 0) this.uart.receive([value & 0xff]);
    else if (offset === 1) this.uart.receiveBreak();
    else if (offset === 2) this.uart.receiveWithError(value & 0xff, 'parity');
    else this.uart.setModemInputs({ cts: (value & Msr.CTS) !== 0, dsr: (value & Msr.DSR) !== 0, ri: (value & Msr.RI) !== 0, dcd: (value & Msr.DCD) !== 0 });
  }

  getState(): Ns16550aState {
    return this.uart.getState();
  }

  setState(state: Ns16550aState): void {
    this.uart.setState(state);
  }

  anomalies(): Readonly<Record<string, number>> {
    return this.uart.anomalies();
  }
}

const write = (offset: number, value: number, region = 'registers'): Op => ({ kind: 'write', region, offset, size: 1, value });
const read = (offset: number): Op => ({ kind: 'read', region: 'registers', offset, size: 1 });

/** What drivers and hosts do, weighted so sequences reach deep states; registerOps keeps every port and value reachable. */
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.nat({ max: 255 }).map((v) => write(Reg.THR, v)) },
  { weight: 2, arbitrary: fc.nat({ max: 15 }).map((v) => write(Reg.IER, v)) },
  { weight: 3, arbitrary: fc.constantFrom(0x00, 0x01, 0x07, 0x41, 0x81, 0xc1, 0xc7, 0x03, 0x05, 0x81, 0xc1).map((v) => write(Reg.FCR, v)) },
  { weight: 2, arbitrary: fc.tuple(fc.nat({ max: 0x7f }), fc.boolean()).map(([v, dlab]) => write(Reg.LCR, v | (dlab ? Lcr.DLAB : 0))) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(Reg.DLL, Reg.DLM), fc.oneof(fc.integer({ min: 0, max: 3 }), fc.nat({ max: 255 })))
    .map(([reg, v]) => write(reg, reg === Reg.DLM ? v & 1 : v)) },
  { weight: 2, arbitrary: fc.nat({ max: 0x1f }).map((v) => write(Reg.MCR, v | Mcr.OUT2)) },
  { weight: 6, arbitrary: fc.constantFrom(Reg.RBR, Reg.IIR, Reg.LSR, Reg.LSR, Reg.MSR).map(read) },
  // Typing: characters now and then, often a burst of a few.
  { weight: 6, arbitrary: fc.nat({ max: 255 }).map((v) => write(0, v, 'host')) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.nat({ max: 255 })).map(([offset, v]) => write(offset, v, 'host')) },
  { weight: 1, arbitrary: registerOps(new HostDriven(inert(), 'line-rate').regions) },
  // Mostly within a few character times at high rates, sometimes a whole second.
  { weight: 6, arbitrary: fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: 0, max: 200_000 }) },
    { weight: 4, arbitrary: fc.integer({ min: 0, max: 8_000_000 }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 1_000_000_000 }) },
  ).map((ns): Op => ({ kind: 'advance', ns })) },
);

function inert(): DeviceContext {
  return {
    now: () => 0,
    timer: () => ({ arm: () => undefined, cancel: () => undefined, deadline: undefined }),
    setIrq: () => undefined,
    memory: { size: 0, read: () => false, write: () => false },
    log: { debug: () => undefined, warn: () => undefined },
  };
}

/**
 * Recomputes INTR from the state alone — through the exported pure functions, not the device's own path —
 * and checks the line, the pins and the FIFO bounds against it.
 */
function invariant(device: HostDriven, context: TestContext): void {
  const s = device.getState();
  const now = context.now();
  const fail = (what: string) => { throw new Error(`${what} at ${now} ns: ${JSON.stringify(s)}`); };
  const fifo = (s.fcr & Fcr.FIFO_ENABLE) !== 0;
  const timedOut = fifo && s.rxFifo.length > 0 && (s.rxTimedOut || now >= s.rxActivityAt + 4 * characterTime(s.lcr, s.divisor));
  const id = interruptId({
    ier: s.ier, lineErrors: s.lineErrors, characterTimeout: timedOut,
    rxDataAvailable: fifo ? s.rxFifo.length >= triggerLevel(s.fcr) : s.rxFifo.length > 0,
    thrEmpty: s.thrEmptyPending, msrDeltas: s.msrDeltas,
  });
  const intr = id !== Iir.NO_INTERRUPT;
  const gate = (s.mcr & Mcr.OUT2) !== 0 && (s.mcr & Mcr.LOOP) === 0;
  if (context.irqLevel(0) !== (intr && gate)) fail(`irq ${context.irqLevel(0)} with IIR ${id}, MCR ${s.mcr}`);
  if (device.uart.pins().intr !== intr) fail('INTR pin disagrees with IIR');
  const depth = fifo ? FIFO_DEPTH : 1;
  if (s.rxFifo.length > depth || s.txFifo.length > depth) fail('FIFO over its depth');
  if (s.wire.length > QUEUE_LIMIT) fail('host queue over its limit');
  if ((s.tsr === -1) !== (s.tsrDoneAt === -1)) fail('TSR and its deadline disagree');
  if (s.tsrDoneAt !== -1 && s.tsrDoneAt <= now) fail('a finished character still in the TSR');
  if (s.thrEmptyPending && s.txFifo.length > 0) fail('THRE interrupt pending with THR full');
  if (s.rxFifo.some((e) => e < 0 || e > 0x1fff)) fail('RX FIFO entry out of range');
  const deadline = context.nextDeadline();
  if (deadline !== undefined && deadline < now) fail('timer in the past');
}

const variants = [
  { name: 'line-rate, from reset', timing: 'line-rate', opened: false },
  { name: 'line-rate, opened by a driver', timing: 'line-rate', opened: true },
  { name: 'instant, from reset', timing: 'instant', opened: false },
] as const;

for (const { name, timing, opened } of variants) {
  describe(`16550A (${name})`, () => {
    const subject = { create: (context: DeviceContext) => new HostDriven(context, timing, opened), op, irqOutputs: [0] };
    // The opened port reaches the deep receive states (a latched character timeout, errors in the FIFO) more often: more runs there.
    stateRoundTripSuite(subject, opened ? 1000 : 300);
    registerFuzzSuite(subject, invariant, { runs: 250, opsPerRun: 400 });
  });
}

