/**
 * The functions on bus 0 of QEMU 7.2's `pc` machine (`-M pc`, i440FX +
 * PIIX3, `-vga std`, `-nic none`), in the order firmware finds them:
 *
 *   00:00.0 i440fx     82441FX host bridge        8086:1237
 *   00:01.0 piix3-isa  PIIX3 PCI-to-ISA bridge    8086:7000
 *   00:01.1 piix3-ide  PIIX3 IDE                  8086:7010
 *   00:01.3 piix4-pm   PIIX4 power management     8086:7113
 *   00:02.0 std-vga    QEMU standard VGA          1234:1111
 *
 * Every other device and function number reads as absent (all ones).
 */
import { i440fxFunction } from '../i440fx/i440fx.ts';
import type { PciFunctionDefinition } from '../pci/pci-function.ts';
import { piix3IdeFunction } from '../piix3/piix3-ide.ts';
import { piix3IsaFunction } from '../piix3/piix3-isa.ts';
import type { Piix4PmOptions } from '../piix4/piix4-pm.ts';
import { piix4PmFunction } from '../piix4/piix4-pm.ts';
import type { StdVgaOptions } from '../std-vga/std-vga.ts';
import { stdVgaFunction } from '../std-vga/std-vga.ts';

/** The functions' names, as decode changes and the state name them. */
export type PciFunctionName = 'i440fx' | 'piix3-isa' | 'piix3-ide' | 'piix4-pm' | 'std-vga';

export const PCI_FUNCTION_NAMES: readonly PciFunctionName[] = ['i440fx', 'piix3-isa', 'piix3-ide', 'piix4-pm', 'std-vga'];

/** What QEMU's command line decides of the bus (the values it shows depend on them). */
export interface I440fxPciHostOptions {
  /**
   * Guest RAM, which QEMU reports in the host bridge's DRAMC (57h) in 8 MiB
   * units. The shared traces ran with `-m 256`: 256 MiB.
   */
  readonly ramBytes: number;
  readonly pm?: Piix4PmOptions;
  readonly vga?: StdVgaOptions;
}

export function pcPciFunctions(options: I440fxPciHostOptions): readonly PciFunctionDefinition[] {
  return [
    i440fxFunction(options.ramBytes),
    piix3IsaFunction(),
    piix3IdeFunction(),
    piix4PmFunction(options.pm),
    stdVgaFunction(options.vga),
  ];
}
