/**
 * `--firmware FILE`: the guest is real firmware — a PC BIOS image (Debian's
 * SeaBIOS, /usr/share/seabios/bios-256k.bin) run by the x86 CPU from the
 * reset vector over the VM's RAM — in place of a workload's scripted guest.
 *
 * The std VGA's option ROM comes with it, as QEMU finds both in its data
 * folder: `vgabios-stdvga.bin` beside FILE, when it is there (Debian's
 * seabios package puts SeaVGABIOS there), behind the VGA's PCI expansion ROM
 * BAR for the firmware to run; `--vga-bios IMAGE` names another, `--vga-bios
 * none` gives the VGA none (QEMU's `-device VGA,romfile=`). `--option-rom
 * IMAGE` (repeatable) hands the firmware more option ROMs through fw_cfg's
 * `genroms/` files, as QEMU's `-option-rom` does: SeaBIOS runs each after the
 * PCI devices' (QEMU's own kvmvapic.bin comes this way).
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { OptionRomFile } from '@splitvisor/vmm';
import { DEFAULT_MEMORY_BYTES, VmError, checkBiosImage, checkOptionRom, firmwareCpu, genromFile } from '@splitvisor/vmm';
import type { Workload } from '@splitvisor/workloads';
import { CliError } from './cli-error.ts';

/** A firmware run's guest: the CPU and the RAM it runs from, which the VM must use too. */
export interface FirmwareWorkload extends Workload {
  readonly cpu: ReturnType<typeof firmwareCpu>;
  readonly ram: SharedArrayBuffer;
  /** The std VGA's option ROM, for the board (`BoardOptions.vgaBios`); none: the VGA has none. */
  readonly vgaBios?: Uint8Array;
  /** More option ROMs for the firmware (`BoardOptions.optionRoms`), fw_cfg's `genroms/` files. */
  readonly optionRoms: readonly OptionRomFile[];
}

/** The std VGA's option ROM as QEMU's data folder and Debian's seabios package name it. */
export const VGA_BIOS_FILE = 'vgabios-stdvga.bin';

/** `--vga-bios none`: the VGA gets no option ROM. */
export const NO_VGA_BIOS = 'none';

export function isFirmware(workload: Workload): workload is FirmwareWorkload {
  return 'ram' in workload;
}

/** The bytes of `file`, named by `flag` when they cannot be read. */
function imageFile(flag: string, file: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(file));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(`${flag} ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a folder, not an image' : String(error)}`);
  }
}

/** The VGA's option ROM file for a firmware run: `vgaBios` as given (`none`: no file), else the one beside the firmware if there. */
export function vgaBiosFile(firmware: string, vgaBios?: string): string | undefined {
  if (vgaBios !== undefined) return vgaBios === NO_VGA_BIOS ? undefined : vgaBios;
  const beside = join(dirname(firmware), VGA_BIOS_FILE);
  return existsSync(beside) ? beside : undefined;
}

/** `--option-rom`'s files, each checked and named by its base name (QEMU's fw_cfg name for it), which must be unique. */
function optionRomFiles(files: readonly string[]): OptionRomFile[] {
  const roms: OptionRomFile[] = [];
  for (const file of files) {
    const name = basename(file);
    if (roms.some((rom) => rom.name === name)) throw new CliError(`--option-rom ${file}: another option ROM is named ${name} too, and fw_cfg holds one genroms/${name}`);
    roms.push(checked('--option-rom', () => genromFile(name, imageFile('--option-rom', file), file)));
  }
  return roms;
}

/**
 * The image in `file`, checked, and a CPU at its reset vector, with the VGA's option ROM (`vgaBios`: a file, `none`,
 * or by default the one beside `file`) and `optionRoms`' files, checked; one line naming the problem otherwise.
 */
export function firmwareWorkload(file: string, vgaBios?: string, optionRoms: readonly string[] = []): FirmwareWorkload {
  const ram = new SharedArrayBuffer(DEFAULT_MEMORY_BYTES);
  const cpu = checked('--firmware', () => firmwareCpu(checkBiosImage(imageFile('--firmware', file), file), ram));
  const romFile = vgaBiosFile(file, vgaBios);
  // The default ROM is named as the firmware's, so a user who gave no --vga-bios sees where it came from.
  const flag = vgaBios === undefined ? '--firmware\'s VGA BIOS' : '--vga-bios';
  const rom = romFile === undefined ? undefined : checked(flag, () => checkOptionRom(imageFile(flag, romFile), romFile));
  const roms = optionRomFiles(optionRoms);
  return { guest: cpu, cpu, ram, progress: () => ({ halted: cpu.halted ? 1 : 0 }), optionRoms: roms, ...(rom === undefined ? {} : { vgaBios: rom }) };
}

/** What `make` returns; its VmError as the CliError of `flag`. */
function checked<T>(flag: string, make: () => T): T {
  try {
    return make();
  } catch (error) {
    if (error instanceof VmError) throw new CliError(`${flag} ${error.message}`);
    throw error;
  }
}

/** A firmware CPU that stopped for good (a triple fault, an instruction it cannot run): one line with where, why, its state and its last instructions. */
export function firmwareStop(workload: Workload): CliError | undefined {
  if (!isFirmware(workload)) return undefined;
  const fault = workload.cpu.fault;
  if (fault === undefined) return undefined;
  const at = `${fault.cs.toString(16).padStart(4, '0')}:${fault.eip.toString(16).padStart(8, '0')}`;
  const last = fault.lastInstructions.map((a) => a.toString(16)).join(' ');
  return new CliError(`the firmware stopped the CPU at ${at}: ${fault.reason}; ${fault.state}; last instructions at ${last}`);
}
