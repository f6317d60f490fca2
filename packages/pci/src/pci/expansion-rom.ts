/**
 * An expansion ROM image as a function's ROM base address register decodes
 * it (PCI Local Bus Specification 3.0 §6.2.5.2, §6.3.1): the register's
 * bits 31:11 are the base, so the window is a power of two of at least
 * 2 KiB, which sizing reads back; the image is what answers in it from
 * its first byte (55h AAh, the ROM header's signature, then the code).
 *
 * A window larger than the image reads zeros past its end, as QEMU's
 * romfile does: the file loaded at the start of a zeroed ROM of the next
 * power of two. The window's upper bound, 16 MiB, is this board's.
 */

/** The smallest window a ROM BAR decodes: bits 10:1 are reserved, bit 0 is the enable. */
export const EXPANSION_ROM_MIN_BYTES = 0x800;
/** The largest ROM this board decodes. */
export const EXPANSION_ROM_MAX_BYTES: number = 16 * 1024 * 1024;

/** The size of the ROM BAR that holds an image of `imageBytes`; a RangeError (a host configuration error) for none or too large. */
export function expansionRomBytes(imageBytes: number): number {
  if (!Number.isInteger(imageBytes) || imageBytes <= 0 || imageBytes > EXPANSION_ROM_MAX_BYTES) {
    throw new RangeError(`an expansion ROM of ${imageBytes} bytes: from 1 byte to 16 MiB`);
  }
  let bytes = EXPANSION_ROM_MIN_BYTES;
  while (bytes < imageBytes) bytes *= 2;
  return bytes;
}

/** What the ROM BAR's window holds for `image`: the image, then zeros to the window's size. */
export function expansionRomWindow(image: Uint8Array): Uint8Array {
  const window = new Uint8Array(expansionRomBytes(image.length));
  window.set(image);
  return window;
}
