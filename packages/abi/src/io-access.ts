/**
 * How any domain's bus turns one guest access into device calls. Shared by
 * every domain so that a device answers identically wherever it is placed.
 *
 * A guest access wider than the region accepts is split into accepted widths,
 * lowest address first (an `inw` on a byte-wide port reads port and port+1,
 * as on the ISA bus; an 8-byte MMIO read of a 4-byte register file is two
 * reads, as QEMU's memory core splits by `valid.max_access_size`). Bytes the
 * device cannot answer — past the region's end, or an access narrower than
 * any width it accepts — read as open bus (0xff) and are dropped on write;
 * the outcome says so, for the bus to count.
 */
import type { Device } from './device.ts';
import type { AccessSize, IoRegion } from './io-region.ts';

export type AccessOutcome = 'ok' | 'unaccepted-size' | 'outside-region';

const OPEN_BUS = 0xff;

function widthAt(region: IoRegion, remaining: number): AccessSize | undefined {
  let best: AccessSize | undefined;
  for (const size of region.sizes) if (size <= remaining && (best === undefined || size > best)) best = size;
  return best;
}

/** Whether `region` takes accesses of exactly `width` bytes. */
function accepts(region: IoRegion, width: number): width is AccessSize {
  for (const size of region.sizes) if (size === width) return true;
  return false;
}

/** Fills `into` with the little-endian bytes read at `offset` of `region`. */
export function readBytes(device: Device, region: IoRegion, offset: number, into: Uint8Array): AccessOutcome {
  const width = into.length;
  if (offset + width <= region.length && accepts(region, width)) {
    // The common access, one call of a width the region takes: no splitting.
    let value = device.read(region.name, offset, width);
    for (let i = 0; i < width; i++) {
      into[i] = value & 0xff;
      value >>>= 8;
    }
    return 'ok';
  }
  let outcome: AccessOutcome = 'ok';
  let pos = 0;
  while (pos < into.length) {
    const at = offset + pos;
    const size = widthAt(region, into.length - pos);
    if (size === undefined || at + size > region.length) {
      outcome = size === undefined ? 'unaccepted-size' : 'outside-region';
      into.fill(OPEN_BUS, pos);
      return outcome;
    }
    let value = device.read(region.name, at, size);
    for (let i = 0; i < size; i++) {
      into[pos + i] = value & 0xff;
      value >>>= 8;
    }
    pos += size;
  }
  return outcome;
}

/** Writes the little-endian bytes of `data` at `offset` of `region`. */
export function writeBytes(device: Device, region: IoRegion, offset: number, data: Uint8Array): AccessOutcome {
  const width = data.length;
  if (width === 1 && offset < region.length && accepts(region, 1)) {
    // The common access, a byte to a byte-wide register: no splitting, no assembling.
    device.write(region.name, offset, 1, data[0] ?? 0);
    return 'ok';
  }
  let pos = 0;
  while (pos < data.length) {
    const at = offset + pos;
    const size = widthAt(region, data.length - pos);
    if (size === undefined) return 'unaccepted-size';
    if (at + size > region.length) return 'outside-region';
    let value = 0;
    for (let i = size - 1; i >= 0; i--) value = (value * 256) + (data[pos + i] ?? 0);
    device.write(region.name, at, size, value >>> 0);
    pos += size;
  }
  return 'ok';
}
