/**
 * The host typing at the guest's keyboard: one character at a time at fixed
 * intervals of virtual time, as a person (or a test harness's `sendkey`)
 * would, through the 8042's host side. Driven by the device's own timer, so
 * it types on the guest's clock in whichever domain the keyboard lives —
 * the device host's worker included — and a modelled run stays
 * byte-identical.
 */
import type { DeviceContext } from '@splitvisor/abi';
import type { I8042 } from '@splitvisor/keyboard';
import { strokesFor } from '@splitvisor/keyboard';

export interface Typing {
  readonly text: string;
  /** When the first character is typed, ns of guest time. */
  readonly startNs: number;
  /** Between one character and the next, ns. */
  readonly intervalNs: number;
}

/**
 * Starts typing `typing.text` into `keyboard`. A character the keyboard's
 * queue has no room for is typed again at the next interval (a held key
 * repeats into a full buffer no faster). Throws before anything is typed if
 * a character has no key on a US layout.
 */
export function startTyping(keyboard: I8042, context: DeviceContext, typing: Typing): void {
  const characters = Array.from(typing.text); // by code point: a character is one key stroke
  if (!Number.isFinite(typing.startNs) || typing.startNs < 0 || !Number.isFinite(typing.intervalNs) || typing.intervalNs <= 0) {
    throw new RangeError(`typing starts at a time ≥ 0 and steps by a positive interval, not ${typing.startNs} and ${typing.intervalNs} ns`);
  }
  const untypable = characters.find((char) => strokesFor(char) === undefined);
  if (untypable !== undefined) throw new RangeError(`no key types ${JSON.stringify(untypable)} on a US keyboard`);
  let next = 0;
  const timer = context.timer((now) => {
    const char = characters[next];
    if (char === undefined) return;
    if (keyboard.typeText(char) === 1) next++;
    if (next < characters.length) timer.arm(now + typing.intervalNs);
  });
  if (characters.length > 0) timer.arm(typing.startNs);
}
