// The 8254's fast-path program (seed 002's bytecode): counter 0's latch-and-read answered from the scratch the
// device publishes. That it answers as the device does is property-tested in conformance.test.ts (the testkit's
// programEquivalenceSuite); here, the read Linux's i8253 clocksource makes.
import { programRunner, tickTime } from '@splitvisor/abi';
import { createTestContext, regionIo } from '@splitvisor/device-testkit';
import { describe, expect, it } from 'vitest';
import { I8254, PIT_HZ } from '../src/index.ts';

describe("the 8254's latch program", () => {
  it('takes Linux\'s i8253 clocksource read (latch, LSB, MSB) in mode 2 without the device', () => {
    const context = createTestContext();
    const pit = new I8254(context);
    const ports = regionIo(pit, 'counters');
    for (const [port, value] of [[3, 0x34], [0, 1193 & 0xff], [0, 1193 >> 8]] as const) ports.out(port, value);
    context.advanceTo(tickTime(100, PIT_HZ));
    const [program] = pit.programs;
    if (program === undefined) throw new Error('no program');
    const run = programRunner(program.program);
    const scratch = pit.programScratch();
    const now = context.now();
    expect(run(scratch, { offset: 3, isWrite: true, value: 0x00, width: 1 }, now).kind).toBe('answered');
    const lsb = run(scratch, { offset: 0, isWrite: false, value: 0, width: 1 }, now);
    const msb = run(scratch, { offset: 0, isWrite: false, value: 0, width: 1 }, now);
    expect(lsb.kind === 'answered' && msb.kind === 'answered' ? lsb.value | (msb.value << 8) : -1).toBe(1193 - 99); // loaded on CLK 1, decremented by the 99 pulses after
  });
});
