/**
 * Whether a state record sent for a device here is one that device could
 * have given: its model and version, and the form of the state it holds now
 * — the same fields, each of the same kind (a number where it has a number,
 * a record where it has a record, …). Null stands for what may be absent: a
 * deadline not armed, a drive not fitted — where the device holds a number
 * or a part, the record may hold null, and where the device holds null, any
 * plain value. An array's elements are each like their counterpart (past its
 * end, like its first). It judges the record's form, not its values: whether a count fits
 * its register is the device's to say. Device models trust the record they
 * are given (each checks its model and version, then copies fields), so a
 * record of another form would leave a device half-restored, or holding a
 * string where its arithmetic expects a number.
 */
import type { DeviceState } from '@splitvisor/abi';
import { isRecord, shown } from './request-checks.ts';

/** Deeper than any device's state: a record nested further is refused rather than walked (a cycle would never end). */
const MAX_DEPTH = 32;

type Kind = 'absent' | 'number' | 'boolean' | 'string' | 'bigint' | 'bytes' | 'array' | 'record' | 'other';

function kindOf(value: unknown): Kind {
  if (value === null || value === undefined) return 'absent';
  if (value instanceof Uint8Array) return 'bytes';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'number': return 'number';
    case 'boolean': return 'boolean';
    case 'string': return 'string';
    case 'bigint': return 'bigint';
    case 'object': {
      const proto: unknown = Object.getPrototypeOf(value);
      return proto === Object.prototype || proto === null ? 'record' : 'other';
    }
    default: return 'other';
  }
}

const A: Readonly<Record<Kind, string>> = {
  absent: 'nothing', number: 'a number', boolean: 'a boolean', string: 'a string', bigint: 'a 64-bit integer',
  bytes: 'bytes', array: 'an array', record: 'a record', other: 'something that is not plain data',
};

/** Why `value` (where the device has nothing to compare it with) is not plain data, or undefined. */
function notPlain(value: unknown, path: string, depth: number): string | undefined {
  if (depth > MAX_DEPTH) return `${path} is nested deeper than any device's state`;
  const kind = kindOf(value);
  if (kind === 'other') return `${path} is ${A.other}`;
  if (kind === 'number' && Number.isNaN(value)) return `${path} is NaN`;
  if (kind === 'array') {
    const items = value as readonly unknown[];
    for (let i = 0; i < items.length; i++) {
      const bad = notPlain(items[i], `${path}[${i}]`, depth + 1);
      if (bad !== undefined) return bad;
    }
  }
  if (kind === 'record') {
    for (const [key, item] of Object.entries(value as object)) {
      const bad = notPlain(item, `${path}.${key}`, depth + 1);
      if (bad !== undefined) return bad;
    }
  }
  return undefined;
}

function unlike(held: unknown, given: unknown, path: string, depth: number): string | undefined {
  if (depth > MAX_DEPTH) return `${path} is nested deeper than any device's state`;
  const was = kindOf(held);
  const is = kindOf(given);
  if (was === 'absent') return notPlain(given, path, depth);
  // A number or a part may be absent (a deadline not armed, a drive not fitted); no device's flag or name is.
  if (is === 'absent') return was === 'boolean' || was === 'string' || was === 'bigint' ? `${path} is nothing where the device has ${A[was]}` : undefined;
  if (was !== is) return `${path} is ${A[is]} where the device has ${A[was]}`;
  switch (is) {
    case 'number':
      return Number.isNaN(given) ? `${path} is NaN` : undefined;
    case 'array': {
      const heldItems = held as readonly unknown[];
      const givenItems = given as readonly unknown[];
      for (let i = 0; i < givenItems.length; i++) {
        // An empty array compares as nothing: its elements are only checked to be plain.
        const counterpart = heldItems[i < heldItems.length ? i : 0];
        const bad = unlike(counterpart, givenItems[i], `${path}[${i}]`, depth + 1);
        if (bad !== undefined) return bad;
      }
      return undefined;
    }
    case 'record': {
      const heldRecord = held as Readonly<Record<string, unknown>>;
      const givenRecord = given as Readonly<Record<string, unknown>>;
      for (const key of Object.keys(heldRecord)) if (!Object.hasOwn(givenRecord, key)) return `${path}.${key} is missing`;
      for (const key of Object.keys(givenRecord)) {
        if (!Object.hasOwn(heldRecord, key)) return `${path}.${key} is no field of the device's state`;
        const bad = unlike(heldRecord[key], givenRecord[key], `${path}.${key}`, depth + 1);
        if (bad !== undefined) return bad;
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

/** Why `given` is not a state `held`'s device could have given (see above), or undefined. */
export function unlikeState(held: DeviceState, given: unknown): string | undefined {
  if (!isRecord(given)) return `${shown(given)} is no state record`;
  // Worded as the devices' own check words it (`expectState`).
  if (given.model !== held.model) return `state of ${typeof given.model === 'string' ? given.model : shown(given.model)} given to ${held.model}`;
  if (given.version !== held.version) return `${held.model} state version ${shown(given.version)} is not the supported version ${held.version}`;
  return unlike(held, given, held.model, 0);
}
