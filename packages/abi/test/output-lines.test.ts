// A device's named output lines (DeviceContext.setLine): pins the board wires to the CPU or the machine, not to
// the irqchip. A domain hands each line to the board's sink with the name of the device that drove it; unrouted,
// it is dropped; a context rewired for its irq outputs keeps its lines.
import { describe, expect, it } from 'vitest';
import type { DomainTimers } from '../src/index.ts';
import { DeviceDomain, NEVER, withIrqOutputs } from '../src/index.ts';

/** A domain's timer queue with nothing armed: the lines need no time. */
const NO_TIMERS: DomainTimers = {
  timer: () => ({ arm: () => undefined, cancel: () => undefined, deadline: undefined }),
  runDue: () => 0,
  forEachDue: () => undefined,
  advanceTo: () => 0,
  nextDeadline: () => NEVER,
  nextTimer: () => undefined,
};

describe('named output lines', () => {
  it('reach the sink the board routes them to, named by the device that drove them', () => {
    const domain = new DeviceDomain('monitor', { now: () => 0, timers: NO_TIMERS });
    const seen: [string, string, boolean][] = [];
    domain.routeLines((device, line, level) => { seen.push([device, line, level]); });
    const context = domain.context('port92', (output) => output);
    context.setLine?.('a20', true);
    context.setLine?.('reset', true);
    context.setLine?.('reset', false);
    expect(seen).toEqual([['port92', 'a20', true], ['port92', 'reset', true], ['port92', 'reset', false]]);
  });

  it('are dropped where nothing is routed, and go nowhere near the irqchip', () => {
    const domain = new DeviceDomain('user', { now: () => 0, timers: NO_TIMERS });
    const irqs: [number, boolean][] = [];
    domain.routeIrqs((gsi, level) => { irqs.push([gsi, level]); });
    const context = domain.context('port92', (output) => output);
    expect(() => context.setLine?.('a20', true)).not.toThrow();
    expect(irqs).toEqual([]);
  });

  it('survive a context rewired for its irq outputs, and are absent where the host wires none', () => {
    const domain = new DeviceDomain('kernel', { now: () => 0, timers: NO_TIMERS });
    const seen: string[] = [];
    domain.routeLines((device, line, level) => { seen.push(`${device}.${line}=${String(level)}`); });
    const rewired = withIrqOutputs(domain.context('keyboard', (output) => output), () => undefined);
    rewired.setLine?.('a20', false);
    expect(seen).toEqual(['keyboard.a20=false']);
    const { setLine: _wired, ...unwired } = rewired;
    expect(withIrqOutputs(unwired, () => undefined).setLine).toBeUndefined();
  });
});
