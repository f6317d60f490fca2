import { describe, expect, it } from 'vitest';
import { TickPacer } from '../src/index.ts';

describe('TickPacer', () => {
  const pacer = (mode: 'discard' | 'delay' | 'merge') => {
    let delivered = 0;
    const p = new TickPacer(mode, () => { delivered++; });
    return { p, delivered: () => delivered };
  };

  it('discard delivers every tick as it comes due and ignores acknowledgements', () => {
    const { p, delivered } = pacer('discard');
    for (let i = 0; i < 3; i++) p.tick();
    p.acknowledged();
    expect([delivered(), p.ticks]).toEqual([3, { inFlight: false, pending: 0 }]);
  });

  it('delay holds ticks behind the one in flight and delivers one per acknowledgement', () => {
    const { p, delivered } = pacer('delay');
    for (let i = 0; i < 4; i++) p.tick();
    expect([delivered(), p.ticks]).toEqual([1, { inFlight: true, pending: 3 }]);
    p.acknowledged();
    p.acknowledged();
    expect([delivered(), p.ticks]).toEqual([3, { inFlight: true, pending: 1 }]);
    p.acknowledged();
    p.acknowledged();
    expect([delivered(), p.ticks]).toEqual([4, { inFlight: false, pending: 0 }]);
  });

  it('merge collapses the ticks waiting into one late tick', () => {
    const { p, delivered } = pacer('merge');
    for (let i = 0; i < 4; i++) p.tick();
    p.acknowledged();
    p.acknowledged();
    expect([delivered(), p.ticks]).toEqual([2, { inFlight: false, pending: 0 }]);
  });

  it('an unmask lets the tick in flight go; a reset forgets what waits; a restore brings both back', () => {
    const { p, delivered } = pacer('delay');
    p.tick();
    p.tick();
    p.released();
    p.tick(); // nothing in flight: delivered at once, the one waiting still waits
    expect([delivered(), p.ticks]).toEqual([2, { inFlight: true, pending: 1 }]);
    p.reset();
    expect(p.ticks).toEqual({ inFlight: false, pending: 0 });
    p.restore({ inFlight: true, pending: 5 });
    p.acknowledged();
    expect([delivered(), p.ticks]).toEqual([3, { inFlight: true, pending: 4 }]);
  });
});
