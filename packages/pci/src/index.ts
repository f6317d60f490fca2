export type { I440fxPciHostState } from './pc-pci/i440fx-pci-host.ts';
export { ConfigAddress, I440fxPciHost, PciHostLine, PciHostRegion, stateDecode } from './pc-pci/i440fx-pci-host.ts';
export type { I440fxPciHostOptions, PciFunctionName } from './pc-pci/pc-functions.ts';
export { PCI_FUNCTION_NAMES, pcPciFunctions } from './pc-pci/pc-functions.ts';
export type { ChipsetDecode, DecodeChange, DecodeListener, DecodeWindow } from './pc-pci/decode.ts';
export { chipsetDecode, decodeChanges, pamReadsRam, pamWritesRam, windowOf } from './pc-pci/decode.ts';
export type { BarDeclaration, ConfigLayout, DecodedRange, HeaderIdentity, WindowSpace } from './pci/config-space.ts';
export { ConfigLayoutBuilder, barOffset, decodeBar, rangeDecodes, readConfig, resetConfig, writeConfig } from './pci/config-space.ts';
export { EXPANSION_ROM_MAX_BYTES, EXPANSION_ROM_MIN_BYTES, expansionRomBytes, expansionRomWindow } from './pci/expansion-rom.ts';
export type { FunctionWindow, PciFunctionDefinition } from './pci/pci-function.ts';
export { barWindows, devfn } from './pci/pci-function.ts';
export {
  BaseAddress, CONFIG_SPACE_BYTES, HEADER_BYTES, HeaderType, INTEL_VENDOR_ID, PciCommand, PciHeader, PciStatus, QemuSubsystem,
  STATUS_WRITE_ONE_TO_CLEAR,
} from './pci/registers.ts';
export type { SmramControl } from './i440fx/i440fx.ts';
export { I440FX_DEVICE_ID, I440fxRegister, Smram, dramcValue, i440fxFunction, i440fxLayout, smramControl } from './i440fx/i440fx.ts';
export type { PamAccess, PamSegment } from './i440fx/pam.ts';
export { PAM0, PAM_REGISTERS, PAM_SEGMENTS, PamAttribute, pamField, pamSegments } from './i440fx/pam.ts';
export { PIIX3_ISA_DEVICE_ID, Piix3IsaRegister, PirqRoute, ResetControl, piix3IsaFunction, piix3IsaLayout, pirqRoutes } from './piix3/piix3-isa.ts';
export { BUS_MASTER_PORTS, IDETIM_DECODE_ENABLE, PIIX3_IDE_DEVICE_ID, Piix3IdeRegister, piix3IdeFunction, piix3IdeLayout } from './piix3/piix3-ide.ts';
export type { Piix4PmOptions } from './piix4/piix4-pm.ts';
export {
  APMC_EN, PIIX4_PM_DEVICE_ID, PMIOSE, PM_PORTS, Piix4PmRegister, SMBUS_PORTS, SMB_HST_EN, piix4PmFunction, piix4PmLayout, piix4PmWindows,
} from './piix4/piix4-pm.ts';
export type { StdVgaOptions } from './std-vga/std-vga.ts';
export { STD_VGA_DEVICE_ID, STD_VGA_MMIO_BYTES, STD_VGA_VENDOR_ID, stdVgaFunction, stdVgaLayout } from './std-vga/std-vga.ts';
