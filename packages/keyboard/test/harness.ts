// A PC's view of the i8042 on a virtual clock: ports 60h/64h as a driver uses them.
import type { TestContext } from '@splitvisor/device-testkit';
import { createTestContext } from '@splitvisor/device-testkit';
import type { I8042Config } from '../src/index.ts';
import { I8042, Status } from '../src/index.ts';

export interface Board {
  readonly context: TestContext;
  readonly kbc: I8042;
  /** Every level handed to onA20, in order. */
  readonly a20Levels: boolean[];
  readonly resets: { count: number };
  /** outb(0x64, command) */
  command(byte: number): void;
  /** outb(0x60, byte) */
  data(byte: number): void;
  /** inb(0x64) */
  status(): number;
  /** inb(0x60) */
  read(): number;
  /** Reads 60h while the status says a byte is there: every byte read, in order. */
  drain(): number[];
  irq(): { irq1: boolean; irq12: boolean };
  /** Rising edges so far on an output (0: irq 1, 1: irq 12). */
  rises(output: number): number;
}

export function board(config: I8042Config = {}): Board {
  const context = createTestContext();
  const a20Levels: boolean[] = [];
  const resets = { count: 0 };
  const kbc = new I8042(context, {
    ...config,
    onA20: (level) => { a20Levels.push(level); },
    onReset: () => { resets.count++; },
  });
  const status = (): number => kbc.read('command', 0, 1);
  const read = (): number => kbc.read('data', 0, 1);
  return {
    context, kbc, a20Levels, resets, status, read,
    command: (byte) => { kbc.write('command', 0, 1, byte); },
    data: (byte) => { kbc.write('data', 0, 1, byte); },
    drain: () => {
      const bytes: number[] = [];
      while ((status() & Status.OBF) !== 0) bytes.push(read());
      return bytes;
    },
    irq: () => ({ irq1: context.irqLevel(0), irq12: context.irqLevel(1) }),
    rises: (output) => context.irqEdges.filter((e) => e.output === output && e.level).length,
  };
}
