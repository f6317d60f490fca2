/**
 * Function 00:00.0, the Intel 82441FX PCI and Memory Controller (PMC) of the
 * 440FX PCIset — the host bridge (Intel 440FX PCIset 82441FX PMC and 82442FX
 * DBX datasheet, order number 290549, "PCI Configuration Registers"),
 * as QEMU 7.2's `pc` machine presents it (i440FX, hw/pci-host/i440fx.c):
 *
 *   8086h:1237h, revision 02h, class 060000h (host bridge), header 00h,
 *   status 0000h, subsystem 1AF4h:1100h, no interrupt pin, no BARs.
 *
 *   57h  DRAMC: QEMU puts the RAM size here in 8 MiB units (at most 255) —
 *        a register real 82441FXs use for DRAM control; old coreboot read
 *        RAM size from it. Depends on -m: 20h for 256 MiB.
 *   59h–5Fh PAM0–PAM6: see ./pam.ts.
 *   72h  SMRAM: bit 6 D_OPEN (SMRAM visible to non-SMM accesses), bit 5
 *        D_CLS, bit 4 D_LCK, bit 3 G_SMRAME (SMRAM enabled), bits 2:0
 *        C_BASE_SEG (010b: A0000h–BFFFFh). 02h at power-on.
 *
 * Every byte of 40h–FFh is writable, SMRAM included (QEMU implements no
 * D_LCK), and a system reset keeps them: QEMU has no reset handler for the
 * i440FX, so PAM and SMRAM keep what the firmware wrote.
 */
import type { ConfigLayout } from '../pci/config-space.ts';
import { ConfigLayoutBuilder, readConfig } from '../pci/config-space.ts';
import type { PciFunctionDefinition } from '../pci/pci-function.ts';
import { INTEL_VENDOR_ID, QemuSubsystem } from '../pci/registers.ts';

export const I440FX_DEVICE_ID = 0x1237;

/** The 82441FX registers this model gives meaning to. */
export const I440fxRegister = {
  /** DRAMC: where QEMU reports RAM size in 8 MiB units. */
  DRAMC: 0x57,
  SMRAM: 0x72,
} as const;

/** SMRAM—System Management RAM Control register bits (82441FX datasheet, register 72h). */
export const Smram = {
  D_OPEN: 0x40,
  D_CLS: 0x20,
  D_LCK: 0x10,
  G_SMRAME: 0x08,
  /** Compatible SMM space base segment, bits 2:0: 010b, A0000h–BFFFFh. */
  C_BASE_SEG: 0x07,
} as const;

/** What the SMRAM register sets, in the terms QEMU acts on (i440fx_update_memory_mappings). */
export interface SmramControl {
  /** The register's value. */
  readonly value: number;
  /** D_OPEN: non-SMM accesses to A0000h–BFFFFh see SMRAM (DRAM) instead of the VGA window. */
  readonly open: boolean;
  /** G_SMRAME: SMM accesses to A0000h–BFFFFh see SMRAM. */
  readonly enabled: boolean;
}

const MIB = 1024 * 1024;

/** DRAMC as QEMU fills it: RAM in 8 MiB units, at most 255. */
export function dramcValue(ramBytes: number): number {
  return Math.min(255, Math.floor(ramBytes / (8 * MIB)));
}

export function i440fxLayout(ramBytes: number): ConfigLayout {
  return new ConfigLayoutBuilder({
    vendorId: INTEL_VENDOR_ID,
    deviceId: I440FX_DEVICE_ID,
    revision: 0x02,
    classCode: 0x06_00_00,
    headerType: 0x00,
    status: 0x0000,
    subsystemVendorId: QemuSubsystem.VENDOR_ID,
    subsystemId: QemuSubsystem.ID,
    interruptPin: 0,
  })
    .register(I440fxRegister.DRAMC, 1, dramcValue(ramBytes))
    .register(I440fxRegister.SMRAM, 1, 0x02)
    .build();
}

/** The host bridge at 00:00.0. It decodes no window of its own: its PAM and SMRAM settings are read with `pamSegments` and `smramControl`. */
export function i440fxFunction(ramBytes: number): PciFunctionDefinition {
  return { name: 'i440fx', device: 0, function: 0, layout: i440fxLayout(ramBytes), windows: () => [] };
}

/** The SMRAM register of the host bridge's configuration space, decoded. */
export function smramControl(config: Uint8Array): SmramControl {
  const value = readConfig(config, I440fxRegister.SMRAM, 1);
  return { value, open: (value & Smram.D_OPEN) !== 0, enabled: (value & Smram.G_SMRAME) !== 0 };
}
