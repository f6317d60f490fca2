/**
 * The Data register (ATA/ATAPI-6: 16 bits; 32 by the PIIX's doubleword PIO,
 * IDENTIFY word 48): each access moves the next `size` bytes of the current
 * DRQ block, the first of them in the low byte. An access that runs past the
 * block's end reads zeros there and writes nothing there, as QEMU's.
 */

/** The `size` bytes of the DRQ block `block[0, end)` from `position`, little-endian; zero past `end`. */
export function readDataWord(block: Uint8Array, end: number, position: number, size: 2 | 4): number {
  let value = 0;
  for (let i = size - 1; i >= 0; i--) value = value * 256 + (position + i < end ? (block[position + i] ?? 0) : 0);
  return value;
}

/** Puts `value` into the DRQ block `block[0, end)` from `position`, little-endian; the bytes past `end` are dropped. */
export function writeDataWord(block: Uint8Array, end: number, position: number, size: 2 | 4, value: number): void {
  for (let i = 0; i < size; i++) {
    if (position + i < end) block[position + i] = Math.floor(value / 256 ** i) & 0xff;
  }
}
