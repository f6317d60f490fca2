export type { FwCfgConfig, FwCfgFile, FwCfgItem, FwCfgState } from './fw-cfg/fw-cfg.ts';
export { FwCfg } from './fw-cfg/fw-cfg.ts';
export {
  DMA_ACCESS_BYTES, DmaControl, FILE_ENTRY_BYTES, FILE_NAME_MAX, FILE_SLOTS, FW_CFG_DMA_SIGNATURE, FW_CFG_SIGNATURE, FwCfgFeature, FwCfgKey, ITEM_KEY_MASK,
} from './fw-cfg/keys.ts';
export type { E820Entry, OptionRomFile, QemuPcConfig } from './fw-cfg/qemu-pc.ts';
export { E820Type, E820_ENTRY_BYTES, bootOrderFile, e820File, qemuPcItems } from './fw-cfg/qemu-pc.ts';
export type { AcpiBoard, AcpiPcConfig, AcpiTables } from './acpi/pc-tables.ts';
export { AcpiFile, acpiFiles, acpiTables } from './acpi/pc-tables.ts';
export type { DsdtConfig, IsaDeviceDescription, PciMemoryWindow, PortRange } from './acpi/dsdt.ts';
export type { AcpiOem } from './acpi/sdt.ts';
export { SPLITVISOR_OEM } from './acpi/sdt.ts';
export type { LoaderEntry } from './acpi/table-loader.ts';
export { LOADER_ENTRY_BYTES, LOADER_FILE_NAME_BYTES, LoaderCommand, LoaderZone, tableLoaderFile } from './acpi/table-loader.ts';
