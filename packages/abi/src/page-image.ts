/**
 * A large byte image as state carries it: only its pages that hold anything
 * but zeros, each [page number, its bytes], in page order. Guest RAM and
 * video memory are mostly never written; a snapshot of them is the pages
 * that were.
 */

/** The pages a page image is cut into. */
export const IMAGE_PAGE_BYTES = 4096;

export type ImagePages = readonly (readonly [number, Uint8Array])[];

/** `image`'s pages holding anything but zeros, copied (a whole page each; the last may be short). */
export function writtenPages(image: Uint8Array): [number, Uint8Array][] {
  const pages: [number, Uint8Array][] = [];
  const aligned = image.byteOffset % 4 === 0;
  const words = aligned ? new Uint32Array(image.buffer, image.byteOffset, image.byteLength >>> 2) : undefined;
  const perPage = IMAGE_PAGE_BYTES >>> 2;
  for (let page = 0; page * IMAGE_PAGE_BYTES < image.length; page++) {
    const start = page * IMAGE_PAGE_BYTES;
    const end = Math.min(start + IMAGE_PAGE_BYTES, image.length);
    if (pageWritten(image, words, page * perPage, start, end)) pages.push([page, image.slice(start, end)]);
  }
  return pages;
}

function pageWritten(image: Uint8Array, words: Uint32Array | undefined, firstWord: number, start: number, end: number): boolean {
  if (words !== undefined && end - start === IMAGE_PAGE_BYTES) {
    for (let i = firstWord; i < firstWord + (IMAGE_PAGE_BYTES >>> 2); i++) if (words[i] !== 0) return true;
    return false;
  }
  for (let i = start; i < end; i++) if (image[i] !== 0) return true;
  return false;
}

/**
 * Why `pages` is not an image of `length` bytes — a page out of order, out
 * of range or of the wrong size — or undefined when it is one.
 */
export function pagesProblem(pages: unknown, length: number): string | undefined {
  if (!Array.isArray(pages)) return 'pages must be a list of [page number, bytes]';
  let last = -1;
  for (const entry of pages as unknown[]) {
    const [page, bytes] = Array.isArray(entry) ? (entry as unknown[]) : [];
    if (typeof page !== 'number' || !Number.isInteger(page) || page <= last || page * IMAGE_PAGE_BYTES >= length) return `page ${String(page)} is out of order or past ${length} bytes`;
    const size = Math.min(IMAGE_PAGE_BYTES, length - page * IMAGE_PAGE_BYTES);
    if (!(bytes instanceof Uint8Array) || bytes.length !== size) return `page ${page} is not ${size} bytes`;
    last = page;
  }
  return undefined;
}

/** Lays `pages` out over `into` (zeroed first): the image they describe. Check them with `pagesProblem` first. */
export function layOutPages(pages: ImagePages, into: Uint8Array): Uint8Array {
  into.fill(0);
  for (const [page, bytes] of pages) into.set(bytes, page * IMAGE_PAGE_BYTES);
  return into;
}
