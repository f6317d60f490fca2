export type { FwCfgConfig, FwCfgFile, FwCfgItem, FwCfgState } from './fw-cfg/fw-cfg.ts';
export { FwCfg } from './fw-cfg/fw-cfg.ts';
export {
  DMA_ACCESS_BYTES, DmaControl, FILE_ENTRY_BYTES, FILE_NAME_MAX, FILE_SLOTS, FW_CFG_DMA_SIGNATURE, FW_CFG_SIGNATURE, FwCfgFeature, FwCfgKey, ITEM_KEY_MASK,
} from './fw-cfg/keys.ts';
export type { E820Entry, QemuPcConfig } from './fw-cfg/qemu-pc.ts';
export { E820Type, E820_ENTRY_BYTES, bootOrderFile, e820File, qemuPcItems } from './fw-cfg/qemu-pc.ts';
