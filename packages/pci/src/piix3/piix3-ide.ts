/**
 * Function 00:01.1, the IDE controller of the Intel 82371SB PIIX3 (order
 * number 290550, "IDE Configuration Registers"), as QEMU 7.2's `pc` machine
 * presents it (piix3-ide, hw/ide/piix.c):
 *
 *   8086h:7010h, revision 00h, class 010180h (IDE, programming interface
 *   80h: bus-master capable, both channels in legacy (compatibility) mode at
 *   1F0h/3F6h and 170h/376h, IRQ 14 and 15), header 00h, status 0280h
 *   (DEVSEL medium, fast back-to-back), subsystem 1AF4h:1100h, no interrupt
 *   pin (legacy mode uses the ISA IRQs).
 *
 *   20h BMIBA  bus master interface base address (BAR4): 16 I/O ports, the
 *              bus-master IDE registers; decoded while the command
 *              register's I/O space enable (bit 0) is set.
 *   40h–41h IDETIM primary channel timing (bit 15 IDE decode enable)
 *   42h–43h IDETIM secondary channel timing
 *   44h     SIDETIM slave IDE timing
 *
 * BARs 0–3 are absent (legacy mode). As QEMU, BMIBA's bits 31:16 are
 * writable (sizing reads FFFFFFF1h; the datasheet reserves them), IDETIM
 * reads 0 at power-on and a reset keeps it, and the legacy channel ports
 * stay decoded whatever IDETIM's decode enable says (QEMU 7.2 does not gate
 * them).
 */
import type { ConfigLayout } from '../pci/config-space.ts';
import { ConfigLayoutBuilder } from '../pci/config-space.ts';
import type { PciFunctionDefinition } from '../pci/pci-function.ts';
import { barWindows } from '../pci/pci-function.ts';
import { INTEL_VENDOR_ID, PciStatus, QemuSubsystem } from '../pci/registers.ts';

export const PIIX3_IDE_DEVICE_ID = 0x7010;

/** The PIIX3 IDE registers named above. */
export const Piix3IdeRegister = {
  BMIBA: 0x20,
  IDETIM_PRIMARY: 0x40,
  IDETIM_SECONDARY: 0x42,
  SIDETIM: 0x44,
} as const;

/** IDETIM bit 15: the channel's legacy ports are decoded. */
export const IDETIM_DECODE_ENABLE = 0x8000;

/** Ports of the bus-master interface (BMIBA). */
export const BUS_MASTER_PORTS = 16;

export function piix3IdeLayout(): ConfigLayout {
  return new ConfigLayoutBuilder({
    vendorId: INTEL_VENDOR_ID,
    deviceId: PIIX3_IDE_DEVICE_ID,
    revision: 0x00,
    classCode: 0x01_01_80,
    headerType: 0x00,
    status: PciStatus.DEVSEL_MEDIUM | PciStatus.FAST_BACK_TO_BACK,
    subsystemVendorId: QemuSubsystem.VENDOR_ID,
    subsystemId: QemuSubsystem.ID,
    interruptPin: 0,
  })
    .bar({ window: 'bus-master', slot: 4, space: 'port', bytes: BUS_MASTER_PORTS })
    .build();
}

/** The IDE controller at 00:01.1; its window is the bus-master interface. */
export function piix3IdeFunction(): PciFunctionDefinition {
  const layout = piix3IdeLayout();
  return { name: 'piix3-ide', device: 1, function: 1, layout, windows: (config) => barWindows(layout, config) };
}
