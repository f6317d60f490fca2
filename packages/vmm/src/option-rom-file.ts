/**
 * An option ROM the firmware is handed through fw_cfg, as QEMU's
 * `-option-rom FILE` hands it: the file `genroms/NAME` (NAME its file's base
 * name), which SeaBIOS's run_file_roms copies below 1 MiB and runs after the
 * PCI devices' ROMs.
 */
import type { OptionRomFile } from '@splitvisor/fw-cfg';
import { checkOptionRom } from './firmware.ts';
import { VmError } from './vm-error.ts';

/** Where fw_cfg holds the option ROMs the firmware runs after the PCI devices' (SeaBIOS's run_file_roms; QEMU's -option-rom). */
const GENROMS = 'genroms/';

/**
 * The longest fw_cfg file name: 56 bytes with its NUL (QEMU docs/specs/fw_cfg.rst, FWCfgFile). `@splitvisor/fw-cfg`'s
 * FILE_NAME_MAX, which `test/vga-option-rom.test.ts` holds this to: not imported, so the VM's own bundle (whose command line checks a ROM)
 * takes in no device package.
 */
const FW_CFG_FILE_NAME_MAX = 55;

/**
 * An option ROM for fw_cfg's `genroms/NAME`, checked (`checkOptionRom`), its name one fw_cfg can hold (the file
 * name's 56 bytes with the NUL, printable ASCII). One line naming the problem otherwise.
 */
export function genromFile(name: string, image: Uint8Array, file: string): OptionRomFile {
  if (GENROMS.length + name.length > FW_CFG_FILE_NAME_MAX || !/^[\x20-\x7e]+$/.test(name)) {
    throw new VmError(`${file}: fw_cfg would name it ${GENROMS}${name}, which must be at most ${FW_CFG_FILE_NAME_MAX} printable ASCII characters`);
  }
  return { name, data: checkOptionRom(image, file) };
}
