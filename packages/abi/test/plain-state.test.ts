import { encode } from '@msgpack/msgpack';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeviceStateError, StateEncodeError, decodeState, encodeState, expectState } from '../src/index.ts';
import { deviceState } from './arbitraries.ts';

describe('device state encoding', () => {
  it('round-trips plain records, 64-bit counters and memory', () => {
    const state = {
      model: 'hpet', version: 1, counter: 0xffff_ffff_ffff_fff0n, offset: -5n, enabled: true,
      timers: [{ comparator: 0x1_0000_0000n, period: 14_318n }], ram: Uint8Array.of(1, 2, 3), note: null,
    };
    expect(decodeState(encodeState(state))).toEqual({ ok: true, state });
  });

  it('round-trips any generated state', () => {
    fc.assert(fc.property(deviceState, (state) => {
      expect(decodeState(encodeState(state))).toEqual({ ok: true, state });
    }), { numRuns: 500 });
  });

  it('refuses what is not plain data, naming where', () => {
    const bad = (extra: unknown) => encodeState({ model: 'x', version: 1, extra } as never);
    expect(() => bad(new Uint16Array(2))).toThrow(/x\.extra is not a plain object/);
    expect(() => bad(undefined)).toThrow(StateEncodeError);
    expect(() => bad([1, () => 0])).toThrow(/x\.extra\[1\] is function/);
    expect(() => bad(Number.NaN)).toThrow(/NaN/);
    expect(() => bad(1n << 64n)).toThrow(/64 bits/);
    expect(() => bad('\uDC00 lone')).toThrow(/x\.extra is not well-formed Unicode/);
    expect(() => bad(JSON.parse('{"__proto__": 1}'))).toThrow(/key that cannot be state: "__proto__"/);
    expect(() => bad({ ['\uD800']: 1 })).toThrow(/key that cannot be state/);
  });

  it('rejects bytes that are not a canonical state, without throwing', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      const decoded = decodeState(bytes);
      if (decoded.ok) expect(encodeState(decoded.state)).toEqual(bytes);
    }), { numRuns: 5000 });
    expect(decodeState(encode({ version: 1 }))).toMatchObject({ ok: false, reason: /string model/ });
    // 7 as a uint32 (0xce) where the canonical form is a positive fixint.
    expect(decodeState(Uint8Array.of(0x82, 0xa5, ...new TextEncoder().encode('model'), 0xa1, 0x78,
      0xa7, ...new TextEncoder().encode('version'), 0xce, 0, 0, 0, 7))).toMatchObject({ ok: false, reason: /canonical/ });
  });

  it('lets a device refuse a state of another model or version', () => {
    expect(() => { expectState({ model: 'i8259', version: 1 }, 'i8254', 1); }).toThrow(DeviceStateError);
    expect(() => { expectState({ model: 'i8254', version: 2 }, 'i8254', 1); }).toThrow(/version 2/);
    expect(() => { expectState({ model: 'i8254', version: 1 }, 'i8254', 1); }).not.toThrow();
  });
});
