// One board device alone on a virtual clock (what `splitvisor fuzz` drives): the board's factories make every
// device, its timers fire in order at their deadlines within a firing budget, a timer that never lets time move
// is caught, DMA outside guest RAM is refused and counted, and the state check sees a restore that loses state.
import type { Device, DeviceContext } from '@splitvisor/abi';
import { DEVICES } from '@splitvisor/placement';
import { describe, expect, it } from 'vitest';
import type { LoneDeviceMaker } from '../src/lone-device.ts';
import { MAX_FIRINGS_AT_ONE_INSTANT, loneDevice, loneDeviceOf } from '../src/lone-device.ts';
import { placement } from './profiles.ts';

/** A one-register device; a write of n arms its timer n ns on (0: at the time already reached), `fire` runs when it fires. */
function timerDouble(fire: (context: DeviceContext, rearm: (at: number) => void) => void = () => undefined): LoneDeviceMaker {
  return (context) => {
    let armed = 0;
    const timer = context.timer(() => { fire(context, (at) => { timer.arm(at); }); });
    const device: Device = {
      model: 'timer-double',
      regions: [{ name: 'r', space: 'port', length: 1, sizes: [1] }],
      read: () => armed,
      write: (_region, _offset, _size, value) => {
        armed = value;
        timer.arm(context.now() + value);
        context.memory.write(value * 0x1000, new Uint8Array(16)); // a 16-byte DMA at page `value`
        context.setIrq(0, value as unknown as boolean);
      },
      getState: () => ({ model: 'timer-double', version: 1, armed }),
      setState: () => undefined, // forgets: the state check must see it
      anomalies: () => ({}),
    };
    return device;
  };
}

describe('a board device alone', () => {
  it.each(DEVICES)('makes %s as the board does, its state surviving the wire and a restore at power-on', (name) => {
    const lone = loneDevice(name, placement('kvm-irqchip'), { board: { diskBlankBytes: 1 << 20, floppyBlankBytes: 1_474_560 } });
    expect(lone.device.regions.length).toBeGreaterThan(0);
    const check = lone.checkState();
    expect(check.problem).toBeUndefined();
    expect(check.bytes).toBeGreaterThan(0);
    lone.advance(1_000_000_000);
    expect(lone.now()).toBe(1_000_000_000);
    expect(lone.counts).toMatchObject({ badIrqCalls: 0, dmaRefused: 0, stuckTimers: 0 });
  });

  it('fires timers at their deadlines, stops an advance at the firing budget, and catches a timer that never lets time move', () => {
    const times: number[] = [];
    const periodic = loneDeviceOf(timerDouble((context, rearm) => { times.push(context.now()); rearm(context.now() + 10); }), { firingBudget: 100 });
    periodic.device.write('r', 0, 1, 10);
    expect(periodic.advance(500)).toBe(50);
    expect(times.slice(0, 3)).toEqual([10, 20, 30]);
    expect(periodic.now()).toBe(500);
    expect(periodic.advance(10_000)).toBe(100); // cut short at the budget, at the deadline it reached
    expect(periodic.now()).toBe(1_500);
    expect(periodic.counts).toMatchObject({ timersFired: 150, advancesCutShort: 1, stuckTimers: 0 });

    const stuck = loneDeviceOf(timerDouble((context, rearm) => { rearm(context.now()); }));
    stuck.device.write('r', 0, 1, 5);
    expect(stuck.advance(1_000)).toBe(MAX_FIRINGS_AT_ONE_INSTANT);
    expect(stuck.now()).toBe(5);
    expect(stuck.counts.stuckTimers).toBe(1);
  });

  it('refuses DMA outside guest RAM and counts it, counts irq levels that are not booleans, and sees a restore that loses state', () => {
    const lone = loneDeviceOf(timerDouble(), { memoryBytes: 0x4000 });
    lone.device.write('r', 0, 1, 0); // page 0: inside
    lone.device.write('r', 0, 1, 3); // the last page: inside
    lone.device.write('r', 0, 1, 4); // past the end
    expect(lone.counts).toMatchObject({ dmaTransfers: 2, dmaBytes: 32, dmaRefused: 1, badIrqCalls: 3 });
    expect(lone.checkState().problem).toBe('a fresh instance given setState(getState()) gives another getState()');
  });
});
