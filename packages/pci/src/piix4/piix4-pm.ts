/**
 * Function 00:01.3, the power management function of the Intel 82371AB
 * PIIX4 (82371AB PCI-to-ISA/IDE Xcelerator datasheet, order number 290562,
 * "Power Management Function (Function 3) PCI Configuration Space"), which
 * QEMU's `pc` machine puts beside the PIIX3 (PIIX4_PM, hw/acpi/piix4.c):
 *
 *   8086h:7113h, revision 03h, class 068000h (other bridge), header 00h,
 *   status 0280h (DEVSEL medium, fast back-to-back), subsystem
 *   1AF4h:1100h, interrupt pin 1 (INTA#): the SCI, which QEMU wires to
 *   IRQ 9 whatever the interrupt line register (SeaBIOS writes 9 there).
 *
 *   40h–43h PMBA      PM I/O base: bits 15:6 the base of 64 ports, bit 0
 *                     RTE (reads 1: I/O). The ACPI registers sit there:
 *                     PM1 event at +0, PM1 control at +4, PM timer at +8.
 *   58h–5Bh DEVACTB   device activity B; bit 25 (5Bh bit 1) APMC_EN: a
 *                     write to the APM control port B2h raises SMI#.
 *   5Ch–5Fh DEVRESA, 60h–63h DEVRESB, 64h–67h DEVRESC: device resources.
 *   80h     PMREGMISC bit 0 PMIOSE: the PM I/O space is decoded.
 *   90h–93h SMBBA     SMBus I/O base: bits 15:4 (QEMU: 15:6, 64 ports),
 *                     bit 0 RTE.
 *   D2h     SMBHSTCFG bit 0 SMB_HST_EN: the SMBus host interface is
 *                     decoded; bits 3:1 its interrupt (100b: IRQ 9).
 *
 * Values QEMU sets from the machine (defaults of `-M pc`, options here):
 * 5Bh is 02h when SMM is unavailable (KVM without SMM; "SMM already
 * initialised" for SeaBIOS), 00h under TCG; 5Fh is 10h, plus 80h with a
 * parallel port at 378h; 63h is 60h; 67h is 08h with a serial port at 3F8h,
 * plus 90h with one at 2F8h; SMBBA holds QEMU's SMBus base B100h, enabled
 * (D2h = 09h). A system reset restores 40h, 58h–5Bh and 80h only.
 *
 * Where QEMU and the datasheet differ, QEMU is followed: every bit of
 * 40h–FFh is writable (PMBA's RTE bit included), the PM and SMBus spaces
 * follow PMIOSE and SMB_HST_EN alone (the datasheet also gates the SMBus
 * space with the command register's I/O enable), and the SMBus space is 64
 * ports.
 */
import type { ConfigLayout } from '../pci/config-space.ts';
import { ConfigLayoutBuilder, readConfig } from '../pci/config-space.ts';
import type { FunctionWindow, PciFunctionDefinition } from '../pci/pci-function.ts';
import { INTEL_VENDOR_ID, PciStatus, QemuSubsystem } from '../pci/registers.ts';

export const PIIX4_PM_DEVICE_ID = 0x7113;

/** The PIIX4 function 3 registers named above. */
export const Piix4PmRegister = {
  PMBA: 0x40,
  DEVACTB: 0x58,
  DEVRESA: 0x5c,
  DEVRESB: 0x60,
  DEVRESC: 0x64,
  PMREGMISC: 0x80,
  SMBBA: 0x90,
  SMBHSTCFG: 0xd2,
} as const;

/** PMREGMISC bit 0: PM I/O space enable. */
export const PMIOSE = 0x01;
/** SMBHSTCFG bit 0: SMBus host interface enable. */
export const SMB_HST_EN = 0x01;
/** DEVACTB bit 25: APM control port writes raise SMI#. */
export const APMC_EN = 0x0200_0000;

/** QEMU decodes PMBA and SMBBA bits 15:6: 64-port spaces (pm_io_space_update, smbus_io_space_update). */
const BASE_MASK = 0xffc0;
/** Ports of the PM space and of QEMU's SMBus space. */
export const PM_PORTS = 64;
export const SMBUS_PORTS = 64;

/** What QEMU's command line decides of this function. The defaults are `-M pc`'s under TCG. */
export interface Piix4PmOptions {
  /** SMM is available to the guest (TCG: yes; KVM without SMM: no, and DEVACTB reads 02000000h). Default true. */
  readonly smm?: boolean;
  /** A parallel port at 378h (LPT1). Default true. */
  readonly parallelPort?: boolean;
  /** A serial port at 3F8h (COM1). Default true. */
  readonly com1?: boolean;
  /** A serial port at 2F8h (COM2). Default false. */
  readonly com2?: boolean;
  /** QEMU's `smb_io_base`: where the SMBus space starts, enabled, at power-on. Default B100h. */
  readonly smbusBase?: number;
}

export function piix4PmLayout(options: Piix4PmOptions = {}): ConfigLayout {
  const smbusBase = (options.smbusBase ?? 0xb100) & BASE_MASK;
  return new ConfigLayoutBuilder({
    vendorId: INTEL_VENDOR_ID,
    deviceId: PIIX4_PM_DEVICE_ID,
    revision: 0x03,
    classCode: 0x06_80_00,
    headerType: 0x00,
    status: PciStatus.DEVSEL_MEDIUM | PciStatus.FAST_BACK_TO_BACK,
    subsystemVendorId: QemuSubsystem.VENDOR_ID,
    subsystemId: QemuSubsystem.ID,
    interruptPin: 1,
  })
    .register(Piix4PmRegister.PMBA, 1, 0x01)
    .register(Piix4PmRegister.DEVACTB, 4, (options.smm ?? true) ? 0 : 0x0200_0000)
    .register(Piix4PmRegister.DEVRESA + 3, 1, 0x10 | ((options.parallelPort ?? true) ? 0x80 : 0))
    .register(Piix4PmRegister.DEVRESB + 3, 1, 0x60)
    .register(Piix4PmRegister.DEVRESC + 3, 1, ((options.com1 ?? true) ? 0x08 : 0) | ((options.com2 ?? false) ? 0x90 : 0))
    .register(Piix4PmRegister.SMBBA, 2, smbusBase | 0x01)
    .register(Piix4PmRegister.SMBHSTCFG, 1, 0x09)
    .restoreOnReset(Piix4PmRegister.PMBA, 0x58, 0x59, 0x5a, 0x5b, Piix4PmRegister.PMREGMISC)
    .build();
}

/** The PM space (`pm`) and the SMBus space (`smbus`) as `config` places and enables them. */
export function piix4PmWindows(config: Uint8Array): FunctionWindow[] {
  return [
    {
      window: 'pm',
      space: 'port',
      base: readConfig(config, Piix4PmRegister.PMBA, 4) & BASE_MASK,
      size: PM_PORTS,
      enabled: (readConfig(config, Piix4PmRegister.PMREGMISC, 1) & PMIOSE) !== 0,
    },
    {
      window: 'smbus',
      space: 'port',
      base: readConfig(config, Piix4PmRegister.SMBBA, 4) & BASE_MASK,
      size: SMBUS_PORTS,
      enabled: (readConfig(config, Piix4PmRegister.SMBHSTCFG, 1) & SMB_HST_EN) !== 0,
    },
  ];
}

/** The PM function at 00:01.3. */
export function piix4PmFunction(options: Piix4PmOptions = {}): PciFunctionDefinition {
  return { name: 'piix4-pm', device: 1, function: 3, layout: piix4PmLayout(options), windows: piix4PmWindows };
}
