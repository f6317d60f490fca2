import { describe, expect, it } from 'vitest';
import { DEFAULT_GROW_START_NS, DEFAULT_MAX_SPIN_NS, HaltPoll } from '../src/index.ts';

describe('halt polling (how long a wait spins)', () => {
  it('starts at no spin, and grows from the first step by doubling up to the ceiling while sleeps are short', () => {
    const poll = new HaltPoll();
    expect(poll.budgetNs).toBe(0);
    const seen: number[] = [];
    for (let i = 0; i < 8; i++) {
      poll.slept(50_000);
      seen.push(poll.budgetNs);
    }
    expect(seen).toEqual([DEFAULT_GROW_START_NS, 20_000, 40_000, 80_000, 160_000, DEFAULT_MAX_SPIN_NS, DEFAULT_MAX_SPIN_NS, DEFAULT_MAX_SPIN_NS]);
  });

  it('halves on a sleep longer than the ceiling, down to none below the first step', () => {
    const poll = new HaltPoll({ maxSpinNs: 200_000, growStartNs: 10_000 });
    for (let i = 0; i < 6; i++) poll.slept(1_000);
    expect(poll.budgetNs).toBe(200_000);
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) {
      poll.slept(5_000_000); // an idle peer: 5 ms
      seen.push(poll.budgetNs);
    }
    expect(seen).toEqual([100_000, 50_000, 25_000, 12_500, 0, 0]);
  });

  it('never spins with a zero ceiling', () => {
    const poll = new HaltPoll({ maxSpinNs: 0 });
    poll.slept(0);
    poll.slept(1);
    expect(poll.budgetNs).toBe(0);
  });

  it('refuses a ceiling that is no duration', () => {
    expect(() => new HaltPoll({ maxSpinNs: -1 })).toThrow(/spin ceiling/);
    expect(() => new HaltPoll({ maxSpinNs: Number.POSITIVE_INFINITY })).toThrow(/spin ceiling/);
  });
});
