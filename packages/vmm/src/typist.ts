/**
 * The host typing at the guest's keyboard: one character at a time at fixed
 * intervals of virtual time, as a person (or a test harness's `sendkey`)
 * would, through the 8042's host side. Driven by the device's own timer, so
 * it types on the guest's clock in whichever domain the keyboard lives —
 * the device host's worker included — and a modelled run stays
 * byte-identical.
 */
import type { DeviceContext, DeviceState, StatefulDevice } from '@splitvisor/abi';
import { expectState } from '@splitvisor/abi';
import type { I8042 } from '@splitvisor/keyboard';
import { strokesFor } from '@splitvisor/keyboard';

export interface Typing {
  readonly text: string;
  /** When the first character is typed, ns of guest time. */
  readonly startNs: number;
  /** Between one character and the next, ns. */
  readonly intervalNs: number;
}

/** The name the typist's state has in the keyboard's domain (host input, not a device: a snapshot carries it beside the 8042's). */
export const TYPIST = 'keyboard-typist';

/** Where the typing is: the next character to type, and when (undefined: done). */
type TypistState = { readonly model: 'typist'; readonly version: 1; readonly next: number; readonly at: number | null };

/**
 * Starts typing `typing.text` into `keyboard`. A character the keyboard's
 * queue has no room for is typed again at the next interval (a held key
 * repeats into a full buffer no faster). Throws before anything is typed if
 * a character has no key on a US layout. Returns where the typing is, as
 * state a snapshot keeps.
 */
export function startTyping(keyboard: I8042, context: DeviceContext, typing: Typing): StatefulDevice {
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
  return {
    name: TYPIST,
    getState: (): TypistState => ({ model: 'typist', version: 1, next, at: timer.deadline ?? null }),
    setState: (state: DeviceState) => {
      expectState(state, 'typist', 1);
      const { next: at, at: deadline } = state as TypistState;
      if (!Number.isInteger(at) || at < 0 || at > characters.length) throw new RangeError(`the typist's next character ${at} is not in its text of ${characters.length}`);
      next = at;
      if (deadline === null) timer.cancel();
      else timer.arm(deadline);
    },
  };
}
