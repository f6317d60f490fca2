/**
 * A PC BIOS image as the board maps it, and the CPU that runs it: the whole
 * image ending at the top of the 4 GiB space (the reset vector, FFFFFFF0h,
 * 16 bytes below its end), and its last 128 KiB also at E0000h–FFFFFh, the
 * "isa-bios" alias below 1 MiB through which it runs in real mode (QEMU's
 * pc_system_firmware_init: the same two mappings, for an image of up to
 * 16 MiB in whole 64 KiB units).
 *
 * The alias is loaded into guest RAM, read and written as RAM from the first
 * instruction: the i440FX's PAM registers are not followed (QEMU starts the
 * segments read from the ROM, and SeaBIOS makes them RAM before it writes
 * there; read-only again after POST, which this board does not enforce).
 */
import { X86Cpu } from '@splitvisor/cpu-x86';
import type { X86CpuOptions } from '@splitvisor/cpu-x86';
import { EXPANSION_ROM_MAX_BYTES } from '@splitvisor/pci';
import { PC_BOARD } from './board.ts';
import { VmError } from './vm-error.ts';

const KIB = 1024;
/** The alias below 1 MiB: E0000h–FFFFFh. */
const ISA_BIOS_BYTES = 128 * KIB;
const ISA_BIOS_END = 0x10_0000;
/** The board's MMIO regions (the VGA window below 1 MiB among them), as [start, end) pairs. */
const BOARD_MMIO: readonly (readonly [number, number])[] = Object.values(PC_BOARD)
  .flatMap((slot) => slot.regions)
  .filter((region) => region.space === 'mmio')
  .map((region) => [region.base, region.base + region.length] as const);

/** The image, checked: whole 64 KiB units up to 16 MiB, and a jump at its reset vector. One line naming the problem otherwise. */
export function checkBiosImage(image: Uint8Array, name: string): Uint8Array {
  if (image.length === 0 || image.length % (64 * KIB) !== 0 || image.length > 16 * KIB * KIB) {
    throw new VmError(`${name}: a BIOS image is whole 64 KiB units up to 16 MiB; this one is ${image.length} bytes`);
  }
  const reset = image[image.length - 16];
  // A far JMP (EAh), a near one (E9h) or a short one (EBh): what every PC BIOS has at its reset vector.
  if (reset !== 0xea && reset !== 0xe9 && reset !== 0xeb) {
    throw new VmError(`${name}: not a PC BIOS image (no jump at its reset vector, 16 bytes before its end: ${(reset ?? 0).toString(16).padStart(2, '0')}h)`);
  }
  return image;
}

/**
 * An option ROM image, checked: the ROM header's 55h AAh at its start (PCI Local Bus Specification 3.0 §6.3.1.1; what
 * SeaBIOS looks for before it copies one), at most what a ROM BAR decodes. One line naming the problem otherwise.
 */
export function checkOptionRom(image: Uint8Array, name: string): Uint8Array {
  if (image.length === 0 || image.length > EXPANSION_ROM_MAX_BYTES) {
    throw new VmError(`${name}: an option ROM is 1 byte to 16 MiB; this one is ${image.length} bytes`);
  }
  if (image[0] !== 0x55 || image[1] !== 0xaa) {
    const start = [...image.subarray(0, 2)].map((b) => `${b.toString(16).toUpperCase().padStart(2, '0')}h`).join(' ');
    throw new VmError(`${name}: not an option ROM (it starts ${start}, not 55h AAh)`);
  }
  return image;
}

/**
 * The bootstrap processor for `image` over the VM's RAM (`ram`, the same
 * bytes every domain's DMA reaches), at the reset vector: the image's
 * isa-bios alias loaded into RAM; every address that is neither RAM nor
 * the image a device's (MMIO), as are the board's MMIO regions inside RAM
 * (the VGA window).
 */
export function firmwareCpu(image: Uint8Array, ram: SharedArrayBuffer, options: Pick<X86CpuOptions, 'cpi' | 'decodeCache'> = {}): X86Cpu {
  const memory = new Uint8Array(ram);
  if (memory.length < ISA_BIOS_END) throw new VmError(`guest memory of ${memory.length} bytes: firmware needs at least 1 MiB`);
  const alias = image.subarray(Math.max(0, image.length - ISA_BIOS_BYTES));
  memory.set(alias, ISA_BIOS_END - alias.length);
  const romBase = 0x1_0000_0000 - image.length;
  const ramTop = memory.length;
  return new X86Cpu(memory, {
    rom: image,
    mmio: (address) => (address >= ramTop && address < romBase) || BOARD_MMIO.some(([start, end]) => address >= start && address < end),
    ...options,
  });
}
