/**
 * The BIOS linker/loader script, fw_cfg file `etc/table-loader`: how QEMU
 * hands firmware tables that point into each other without knowing where
 * they will land (QEMU hw/acpi/bios-linker-loader.c, the interface its
 * header documents; SeaBIOS src/fw/romfile_loader.c runs it). The script
 * is a sequence of 128-byte entries, little-endian, each a 32-bit command
 * and its arguments, names NUL-padded in 56 bytes; an entry with an
 * unknown command is skipped.
 *
 * * ALLOCATE (1): file name, alignment (32-bit, a power of 2), zone (8-bit:
 *   1 high memory, 2 the F-segment, below 1 MiB) — load the fw_cfg file
 *   there. Once per file, before any command names it.
 * * ADD_POINTER (2): destination file, source file, offset in the
 *   destination (32-bit), size (8-bit: 1, 2, 4 or 8) — add the source
 *   file's load address to the little-endian integer of that size at that
 *   offset. The integer starts as the offset of the target in the source.
 * * ADD_CHECKSUM (3): file, the checksum byte's offset, then the start and
 *   length of the range it covers (32-bit each) — subtract the range's
 *   8-bit sum from that byte, so that the range adds to 0. Run after the
 *   range's pointers are patched.
 *
 *   offset  ALLOCATE     ADD_POINTER     ADD_CHECKSUM
 *   0       command      command         command
 *   4       file[56]     dest file[56]   file[56]
 *   60      align        src file[56]    checksum offset
 *   64      zone                         start
 *   68                                   length
 *   116                  offset
 *   120                  size
 *
 * (WRITE_POINTER, 4, which hands an address back to QEMU through a
 * writable fw_cfg file, is not used: fw_cfg here has no writable files.)
 */

export const LOADER_ENTRY_BYTES = 128;
/** Room for a file name in an entry, its NUL included. */
export const LOADER_FILE_NAME_BYTES = 56;

export const LoaderCommand = { ALLOCATE: 1, ADD_POINTER: 2, ADD_CHECKSUM: 3 } as const;
/** Where ALLOCATE puts a file: high memory (the top of RAM below 4 GiB), or the F-segment (E0000h–FFFFFh, where an RSDP is searched for). */
export const LoaderZone = { HIGH: 1, FSEG: 2 } as const;

export type LoaderEntry =
  | { readonly command: 'allocate'; readonly file: string; readonly align: number; readonly zone: 'high' | 'fseg' }
  | { readonly command: 'add-pointer'; readonly destFile: string; readonly srcFile: string; readonly offset: number; readonly size: 1 | 2 | 4 | 8 }
  | { readonly command: 'add-checksum'; readonly file: string; readonly offset: number; readonly start: number; readonly length: number };

function putName(entry: Uint8Array, at: number, name: string): void {
  if (name.length === 0 || name.length >= LOADER_FILE_NAME_BYTES || !/^[\x20-\x7e]+$/.test(name)) {
    throw new RangeError(`loader file name "${name}": expected 1 to ${LOADER_FILE_NAME_BYTES - 1} printable ASCII characters`);
  }
  for (let i = 0; i < name.length; i++) entry[at + i] = name.charCodeAt(i);
}

function put32(view: DataView, at: number, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) throw new RangeError(`loader argument ${value}: expected 32 bits`);
  view.setUint32(at, value, true);
}

/** The script's bytes: one 128-byte entry per command, in order. */
export function tableLoaderFile(entries: readonly LoaderEntry[]): Uint8Array {
  const bytes = new Uint8Array(LOADER_ENTRY_BYTES * entries.length);
  entries.forEach((e, i) => {
    const entry = bytes.subarray(LOADER_ENTRY_BYTES * i, LOADER_ENTRY_BYTES * (i + 1));
    const view = new DataView(entry.buffer, entry.byteOffset, LOADER_ENTRY_BYTES);
    switch (e.command) {
      case 'allocate':
        if (!Number.isInteger(e.align) || e.align < 1 || (e.align & (e.align - 1)) !== 0) throw new RangeError(`alignment ${e.align}: expected a power of 2`);
        put32(view, 0, LoaderCommand.ALLOCATE);
        putName(entry, 4, e.file);
        put32(view, 60, e.align);
        entry[64] = e.zone === 'high' ? LoaderZone.HIGH : LoaderZone.FSEG;
        break;
      case 'add-pointer':
        put32(view, 0, LoaderCommand.ADD_POINTER);
        putName(entry, 4, e.destFile);
        putName(entry, 60, e.srcFile);
        put32(view, 116, e.offset);
        entry[120] = e.size;
        break;
      case 'add-checksum':
        put32(view, 0, LoaderCommand.ADD_CHECKSUM);
        putName(entry, 4, e.file);
        put32(view, 60, e.offset);
        put32(view, 64, e.start);
        put32(view, 68, e.length);
        break;
    }
  });
  return bytes;
}
