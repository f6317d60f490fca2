/**
 * Function 00:02.0, QEMU's standard VGA (`-vga std`, the `VGA` device,
 * hw/display/vga-pci.c), the Bochs VBE display adapter as a PCI function:
 *
 *   1234h:1111h, revision 02h, class 030000h (VGA-compatible display),
 *   header 00h, status 0000h, subsystem 1AF4h:1100h, no interrupt pin.
 *
 *   BAR0 (10h) the linear framebuffer: prefetchable 32-bit memory, the size
 *        of the video memory (QEMU's vgamem_mb, 16 MiB by default).
 *   BAR2 (18h) the MMIO BAR: 4 KiB of memory (EDID blob at 0, the VGA
 *        ioports at 400h, the Bochs VBE registers at 500h, the QEMU
 *        extended registers at 600h).
 *   30h  the expansion ROM: the VGA BIOS (vgabios-stdvga.bin, 39936 bytes,
 *        rounded up to 64 KiB); bit 0 enables its decode.
 *
 * All three are memory: decoded while the command register's memory space
 * enable (bit 1) is set, the ROM also needing its own enable. The legacy
 * VGA ports (3B0h–3DFh) and window (A0000h–BFFFFh) are not decoded through
 * configuration space on QEMU; the board keeps them mapped.
 */
import type { ConfigLayout } from '../pci/config-space.ts';
import { ConfigLayoutBuilder } from '../pci/config-space.ts';
import { EXPANSION_ROM_MAX_BYTES, EXPANSION_ROM_MIN_BYTES } from '../pci/expansion-rom.ts';
import type { PciFunctionDefinition } from '../pci/pci-function.ts';
import { barWindows } from '../pci/pci-function.ts';
import { QemuSubsystem } from '../pci/registers.ts';

export const STD_VGA_VENDOR_ID = 0x1234;
export const STD_VGA_DEVICE_ID = 0x1111;

/** Bytes of the std-VGA's MMIO BAR (QEMU's PCI_VGA_MMIO_SIZE). */
export const STD_VGA_MMIO_BYTES = 0x1000;

const MIB = 1024 * 1024;

export interface StdVgaOptions {
  /** Video memory, the framebuffer BAR's size: a power of two from 1 MiB to 512 MiB (QEMU's vgamem_mb). Default 16 MiB. */
  readonly videoMemoryBytes?: number;
  /**
   * The expansion ROM's size, a power of two of at least 2 KiB, or 0 for no ROM BAR. Default 64 KiB (QEMU's VGA
   * BIOS); for an image the board maps there, `expansionRomBytes(image.length)`.
   */
  readonly romBytes?: number;
}

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

/** Throws a RangeError for a size the function cannot decode: a host configuration error. */
export function stdVgaLayout(options: StdVgaOptions = {}): ConfigLayout {
  const videoMemoryBytes = options.videoMemoryBytes ?? 16 * MIB;
  const romBytes = options.romBytes ?? 0x10000;
  if (!isPowerOfTwo(videoMemoryBytes) || videoMemoryBytes < MIB || videoMemoryBytes > 512 * MIB) {
    throw new RangeError(`std-VGA video memory of ${videoMemoryBytes} bytes: a power of two from 1 MiB to 512 MiB`);
  }
  if (romBytes !== 0 && (!isPowerOfTwo(romBytes) || romBytes < EXPANSION_ROM_MIN_BYTES || romBytes > EXPANSION_ROM_MAX_BYTES)) {
    throw new RangeError(`std-VGA ROM of ${romBytes} bytes: 0 or a power of two from 2 KiB to 16 MiB`);
  }
  const builder = new ConfigLayoutBuilder({
    vendorId: STD_VGA_VENDOR_ID,
    deviceId: STD_VGA_DEVICE_ID,
    revision: 0x02,
    classCode: 0x03_00_00,
    headerType: 0x00,
    status: 0x0000,
    subsystemVendorId: QemuSubsystem.VENDOR_ID,
    subsystemId: QemuSubsystem.ID,
    interruptPin: 0,
  })
    .bar({ window: 'framebuffer', slot: 0, space: 'mmio', bytes: videoMemoryBytes, prefetchable: true })
    .bar({ window: 'mmio', slot: 2, space: 'mmio', bytes: STD_VGA_MMIO_BYTES });
  if (romBytes !== 0) builder.bar({ window: 'rom', slot: 'rom', space: 'mmio', bytes: romBytes });
  return builder.build();
}

/** The std-VGA at 00:02.0: its framebuffer, MMIO and ROM windows. */
export function stdVgaFunction(options: StdVgaOptions = {}): PciFunctionDefinition {
  const layout = stdVgaLayout(options);
  return { name: 'std-vga', device: 2, function: 0, layout, windows: (config) => barWindows(layout, config) };
}
