/**
 * Device state is plain data: the same bytes whether the device runs in the
 * kernel, the monitor or the device host. It crosses the channel as
 * MessagePack, with one extension for 64-bit integers (HPET's main counter,
 * a TSC deadline), and is accepted only in canonical form so that a decoded
 * state always re-encodes to the bytes it came from.
 */
import { ExtensionCodec, decode, encode } from '@msgpack/msgpack';
import { isWellFormedText } from './codec/wire.ts';

export type PlainValue =
  | null
  | boolean
  | number
  | string
  | bigint
  | Uint8Array
  | readonly PlainValue[]
  | { readonly [key: string]: PlainValue };

/**
 * A device's whole state: a named, versioned, plain record, e.g.
 * `{ model: 'i8254', version: 1, channels: [...] }`. Declare it as a `type`
 * (not an `interface`) so it is assignable to this index signature.
 */
export type DeviceState = {
  readonly model: string;
  readonly version: number;
  readonly [field: string]: PlainValue;
};

const UINT64_EXT = 1;
const INT64_EXT = 2;
const UINT64_MAX = 0xffff_ffff_ffff_ffffn;
const INT64_MIN = -0x8000_0000_0000_0000n;

const extensionCodec = new ExtensionCodec();
extensionCodec.register({
  type: UINT64_EXT,
  encode(value: unknown): Uint8Array | null {
    if (typeof value !== 'bigint' || value < 0n) return null;
    if (value > UINT64_MAX) throw new StateEncodeError(`bigint ${value} does not fit in 64 bits`);
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigUint64(0, value, true);
    return bytes;
  },
  decode(data: Uint8Array): bigint {
    if (data.byteLength !== 8) throw new RangeError('uint64 extension is not 8 bytes');
    return new DataView(data.buffer, data.byteOffset, 8).getBigUint64(0, true);
  },
});
extensionCodec.register({
  type: INT64_EXT,
  encode(value: unknown): Uint8Array | null {
    if (typeof value !== 'bigint' || value >= 0n) return null;
    if (value < INT64_MIN) throw new StateEncodeError(`bigint ${value} does not fit in 64 bits`);
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigInt64(0, value, true);
    return bytes;
  },
  decode(data: Uint8Array): bigint {
    if (data.byteLength !== 8) throw new RangeError('int64 extension is not 8 bytes');
    return new DataView(data.buffer, data.byteOffset, 8).getBigInt64(0, true);
  },
});

/** The host handed the codec something that is not plain state: a programming error, not guest input. */
export class StateEncodeError extends Error {
  override readonly name = 'StateEncodeError';
}

function checkPlain(value: unknown, path: string): void {
  switch (typeof value) {
    case 'boolean':
    case 'bigint':
      return;
    case 'string':
      if (!isWellFormedText(value)) throw new StateEncodeError(`${path} is not well-formed Unicode`);
      return;
    case 'number':
      if (Number.isNaN(value)) throw new StateEncodeError(`${path} is NaN`);
      return;
    case 'object': {
      if (value === null || value instanceof Uint8Array) return;
      if (Array.isArray(value)) {
        value.forEach((item: unknown, i) => { checkPlain(item, `${path}[${i}]`); });
        return;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new StateEncodeError(`${path} is not a plain object or Uint8Array`);
      }
      for (const [key, item] of Object.entries(value)) {
        // MessagePack decoders refuse a __proto__ key; a key must survive UTF-8 like any string.
        if (key === '__proto__' || !isWellFormedText(key)) throw new StateEncodeError(`${path} has a key that cannot be state: ${JSON.stringify(key)}`);
        checkPlain(item, `${path}.${key}`);
      }
      return;
    }
    default:
      throw new StateEncodeError(`${path} is ${typeof value}, which is not plain state`);
  }
}

export function encodeState(state: DeviceState): Uint8Array {
  if (typeof state.model !== 'string' || !Number.isInteger(state.version)) {
    throw new StateEncodeError('device state needs a string model and an integer version');
  }
  checkPlain(state, state.model);
  return encode(state, { extensionCodec, ignoreUndefined: false });
}

export type StateDecodeResult =
  | { readonly ok: true; readonly state: DeviceState }
  | { readonly ok: false; readonly reason: string };

function isDeviceState(value: unknown): value is DeviceState {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) return false;
  const record = value as { model?: unknown; version?: unknown };
  return typeof record.model === 'string' && Number.isInteger(record.version);
}

/** Whether two byte arrays hold the same bytes. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Decodes state bytes from the other side; never throws. */
export function decodeState(bytes: Uint8Array): StateDecodeResult {
  let value: unknown;
  try {
    value = decode(bytes, { extensionCodec });
  } catch (error) {
    return { ok: false, reason: `not MessagePack state: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (!isDeviceState(value)) return { ok: false, reason: 'state is not a record with a string model and an integer version' };
  let again: Uint8Array;
  try {
    again = encodeState(value);
  } catch (error) {
    return { ok: false, reason: `state is not plain: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (!sameBytes(again, bytes)) return { ok: false, reason: 'state is not in canonical encoding' };
  return { ok: true, state: value };
}
