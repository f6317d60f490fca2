import { describe, expect, it } from 'vitest';
import { TIMER_VECTOR, workloadDefinition, pitTick } from '../src/index.ts';

describe('pit-tick', () => {
  it('programs the 8259 and the 8254 as Linux does, then idles with interrupts on', () => {
    const { guest } = pitTick({ hz: 250 });
    const writes: string[] = [];
    for (let i = 0; i < 8; i++) {
      const { exit } = guest.run(Number.POSITIVE_INFINITY);
      if (exit.kind === 'io') writes.push(`${exit.port.toString(16)}=${exit.data[0]?.toString(16) ?? ''}`);
    }
    expect(writes).toEqual(['20=11', '21=20', '21=4', '21=1', '21=fe', '43=34', '40=a5', '40=12']); // LATCH 4773 = 12A5h
    expect(guest.run(Number.POSITIVE_INFINITY).exit).toEqual({ kind: 'hlt' }); // after its work, idle
    expect(guest.interruptible).toBe(true);
  });

  it('counts a jiffy per timer interrupt and EOIs the 8259', () => {
    const { guest, jiffies } = pitTick();
    for (let i = 0; i < 8; i++) guest.run(Number.POSITIVE_INFINITY);
    guest.run(60_000); // into the idle loop
    guest.inject(TIMER_VECTOR);
    const { exit } = guest.run(Number.POSITIVE_INFINITY);
    expect([jiffies(), exit.kind === 'io' && exit.port, exit.kind === 'io' && exit.data[0]]).toEqual([1, 0x20, 0x20]);
  });

  it('refuses an HZ the PIT cannot produce, and lists itself', () => {
    expect(() => pitTick({ hz: 10 })).toThrow(/outside 1–65535/);
    expect(workloadDefinition('pit-tick')?.name).toBe('linux-idle-pit');
  });
});
