// The suites every device runs: state round trip and ≥ 10^5 random operations, here including the host's typing and mouse.
import type { AccessSize, Device, DeviceContext, IoRegion } from '@splitvisor/abi';
import type { Op, TestContext } from '@splitvisor/device-testkit';
import { inertContext, programEquivalenceSuite, registerFuzzSuite, registerOps, stateRoundTripSuite } from '@splitvisor/device-testkit';
import fc from 'fast-check';
import { describe } from 'vitest';
import type { I8042Config, I8042State } from '../src/index.ts';
import { CommandByte, I8042, KEYBOARD_BUFFER_BYTES, KEY_CODES, MOUSE_BUFFER_BYTES, Status } from '../src/index.ts';

const HOST_QUEUE_LIMIT = 32;
const TEXT = 'aZ 9!\n\t~';

/**
 * The i8042 with its host API reachable as writes to a `host` pseudo-region, so the shared suites can
 * generate, shrink and replay host input like register operations:
 * offset 0 — a key event (value: key index × 2 + down); 1 — typeText of one character of TEXT;
 * 2 — mouseMove(signed byte 0, signed byte 1, signed nibble); 3 — mouseButtons(value).
 */
class HostDriven implements Device<I8042State> {
  readonly model = 'i8042' as const;
  readonly regions: readonly IoRegion[];
  readonly kbc: I8042;
  private readonly hasMouse: boolean;

  constructor(context: DeviceContext, config: I8042Config) {
    this.kbc = new I8042(context, config);
    this.hasMouse = config.mouse !== false;
    this.regions = this.kbc.regions;
  }

  read(region: string, offset: number, size: AccessSize): number {
    return this.kbc.read(region, offset, size);
  }

  get programs(): I8042['programs'] {
    return this.kbc.programs;
  }

  programScratch(): Uint8Array {
    return this.kbc.programScratch();
  }

  adoptProgramScratch(): void {
    this.kbc.adoptProgramScratch();
  }

  write(region: string, offset: number, size: AccessSize, value: number): void {
    if (region !== 'host') {
      this.kbc.write(region, offset, size, value);
      return;
    }
    const signed = (v: number, bits: number) => ((v & ((1 << bits) - 1)) << (32 - bits)) >> (32 - bits);
    switch (offset) {
      case 0: {
        const key = KEY_CODES[(value >> 1) % KEY_CODES.length] ?? 'KeyA';
        this.kbc.typeKeys([{ key, down: (value & 1) === 1 }]);
        return;
      }
      case 1:
        this.kbc.typeText(TEXT.charAt(value % TEXT.length));
        return;
      case 2:
        // Without a mouse the host API throws (a host error, tested elsewhere); the host would not call it.
        if (this.hasMouse) this.kbc.mouseMove(signed(value, 8) * 7, signed(value >> 8, 8) * 5, signed(value >> 16, 4));
        return;
      default:
        if (this.hasMouse) this.kbc.mouseButtons(value);
    }
  }

  getState(): I8042State {
    return this.kbc.getState();
  }

  setState(state: I8042State): void {
    this.kbc.setState(state);
  }

  anomalies(): Readonly<Record<string, number>> {
    return this.kbc.anomalies();
  }
}

const write = (region: string, value: number): Op => ({ kind: 'write', region, offset: 0, size: 1, value });
const read = (region: string): Op => ({ kind: 'read', region, offset: 0, size: 1 });

const CONTROLLER_COMMANDS = [0x20, 0x21, 0x60, 0x7f, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xad, 0xae, 0xc0, 0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xdd, 0xdf, 0xfe, 0xff];
const DEVICE_BYTES = [0x00, 0x01, 0x02, 0x03, 0x07, 0x50, 0x64, 0x80, 0xc8, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xf0, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xfa, 0xfc, 0xfe, 0xff];

/** Weighted towards what drivers do (read status and data, command a port, write command bytes), every byte still reachable. */
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(read('command'), read('data')) },
  { weight: 3, arbitrary: fc.constantFrom(...CONTROLLER_COMMANDS).map((v) => write('command', v)) },
  { weight: 3, arbitrary: fc.oneof(fc.constantFrom(...DEVICE_BYTES), fc.nat({ max: 0xff })).map((v) => write('data', v)) },
  { weight: 1, arbitrary: fc.nat({ max: 0x7f }).map((v) => write('data', v | (v & 0x40 ? 0 : CommandByte.KBD_INT))) },
  { weight: 1, arbitrary: registerOps(new I8042(inertContext()).regions, fc.nat({ max: 0xff })) },
  { weight: 3, arbitrary: fc.tuple(fc.nat({ max: 3 }), fc.nat({ max: 0xffffff })).map(([offset, value]): Op => ({ kind: 'write', region: 'host', offset, size: 1, value })) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 2_000_000 }).map((ns): Op => ({ kind: 'advance', ns })) },
);

function invariant(device: HostDriven, context: TestContext): void {
  const fail = (what: string) => { throw new Error(`${what}: ${JSON.stringify(device.getState())}`); };
  const state = device.getState();
  const status = device.read('command', 0, 1);
  const obf = (status & Status.OBF) !== 0;
  const aux = (status & Status.AUX_OBF) !== 0;
  const commandByte = state.ram[0] ?? 0;
  if (obf !== (state.outputBuffer !== null)) fail('OBF does not follow the output buffer');
  if (aux && !obf) fail('AUX_OBF without OBF');
  if (context.irqLevel(0) !== (obf && !aux && (commandByte & CommandByte.KBD_INT) !== 0)) fail(`irq 1 is ${context.irqLevel(0)} with status ${status}`);
  if (context.irqLevel(1) !== (obf && aux && (commandByte & CommandByte.AUX_INT) !== 0)) fail(`irq 12 is ${context.irqLevel(1)} with status ${status}`);
  const { keyboard, mouse } = state;
  if (keyboard.buffer.length > KEYBOARD_BUFFER_BYTES) fail('keyboard buffer beyond 16 bytes');
  if (keyboard.replies.length > 3) fail('more than three reply bytes');
  if (keyboard.hostQueue.length > HOST_QUEUE_LIMIT) fail('host queue beyond its limit');
  if (mouse !== null) {
    if (mouse.buffer.length > MOUSE_BUFFER_BYTES) fail('mouse buffer beyond 16 bytes');
    if ([mouse.dx, mouse.dy, mouse.dz].some((d) => Math.abs(d) > 1 << 15)) fail('pending motion beyond its bound');
  }
  const bytes = [...state.ram, state.outputPort, state.lastRead, state.outputBuffer?.value ?? 0, ...keyboard.buffer, ...keyboard.replies, ...(mouse?.buffer ?? [])];
  if (bytes.some((b) => !Number.isInteger(b) || b < 0 || b > 0xff)) fail('a byte out of range');
}

for (const mouse of [true, false]) {
  describe(`i8042 ${mouse ? 'with' : 'without'} a mouse`, () => {
    const subject = {
      create: (context: DeviceContext) => new HostDriven(context, { mouse, hostQueueLimit: HOST_QUEUE_LIMIT }),
      op,
      irqOutputs: [0, 1],
    };
    stateRoundTripSuite(subject, mouse ? 300 : 100);
    programEquivalenceSuite({ ...subject, minTaken: 50 }, mouse ? 200 : 50);
    registerFuzzSuite(subject, invariant, mouse ? { runs: 250, opsPerRun: 400 } : { runs: 50, opsPerRun: 400 });
  });
}
