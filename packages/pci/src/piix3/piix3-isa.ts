/**
 * Function 00:01.0, the PCI-to-ISA bridge of the Intel 82371SB PIIX3
 * (82371FB (PIIX) and 82371SB (PIIX3) PCI ISA IDE Xcelerator datasheet,
 * order number 290550, "PCI to ISA Bridge Configuration Registers"), as
 * QEMU 7.2's `pc` machine presents it (hw/isa/piix3.c):
 *
 *   8086h:7000h, revision 00h, class 060100h (ISA bridge), header 80h (the
 *   PIIX3 is a multi-function device), status 0200h (DEVSEL medium),
 *   subsystem 1AF4h:1100h, no interrupt pin, no BARs.
 *
 * Registers with a power-on value, all restored by a system reset:
 *
 *   4Ch     IORT     ISA I/O recovery timer                     4Dh
 *   4Eh–4Fh XBCS     X-Bus chip select                          0003h
 *   60h–63h PIRQRC[A:D] PIRQx route control: bit 7 IRQROUTEN   80h each
 *                    (1 = not routed), bits 3:0 the ISA IRQ
 *   69h     TOM      top of memory                              02h
 *   70h     MBIRQ0   motherboard IRQ route control 0            80h
 *   76h–77h MBDMA    motherboard device DMA control             0Ch each
 *   78h–79h PCSC     programmable chip select control           0002h
 *   80h     APICBASE APIC base address relocation               00h
 *   82h     DLC      deterministic latency control              00h
 *   A0h     SMICNTL  SMI control                                08h
 *   A2h–A3h SMIEN    SMI enable                                 0000h
 *   A4h–A7h SEE      system event enable                        0
 *   A8h     FTMR     fast off timer                             0Fh
 *   AAh–ABh SMIREQ   SMI request                                0000h
 *   ACh     CTLTMR   clock scale STPCLK# low timer              00h
 *   AEh     CTHTMR   clock scale STPCLK# high timer             00h
 *
 * The rest of 40h–FFh is writable and kept across a reset, as in QEMU.
 *
 * The PIIX3's Reset Control Register at port CF9h sits inside the host
 * bridge's CONFIG_ADDRESS window; `I440fxPciHost` answers it (see there).
 */
import type { ConfigLayout } from '../pci/config-space.ts';
import { ConfigLayoutBuilder, readConfig } from '../pci/config-space.ts';
import type { PciFunctionDefinition } from '../pci/pci-function.ts';
import { HeaderType, INTEL_VENDOR_ID, PciStatus, QemuSubsystem } from '../pci/registers.ts';

export const PIIX3_ISA_DEVICE_ID = 0x7000;

/** The PIIX3 function 0 registers named above. */
export const Piix3IsaRegister = {
  IORT: 0x4c,
  XBCS: 0x4e,
  /** PIRQRC[A]; B, C and D follow. */
  PIRQRC: 0x60,
  TOM: 0x69,
  MBIRQ0: 0x70,
  MBDMA: 0x76,
  PCSC: 0x78,
  APICBASE: 0x80,
  DLC: 0x82,
  SMICNTL: 0xa0,
  SMIEN: 0xa2,
  SEE: 0xa4,
  FTMR: 0xa8,
  SMIREQ: 0xaa,
  CTLTMR: 0xac,
  CTHTMR: 0xae,
} as const;

/** PIRQRC bits: routing disabled, and the ISA IRQ the PIRQ drives. */
export const PirqRoute = { DISABLED: 0x80, IRQ: 0x0f } as const;

/** PIIX3 RC—Reset Control Register (I/O port CF9h) bits. */
export const ResetControl = {
  /** SRST: the next reset is a hard (system) reset rather than a soft one (INIT). */
  SYSTEM_RESET: 0x02,
  /** RCPU: writing 1 resets the CPU (QEMU: the whole machine). */
  RESET_CPU: 0x04,
} as const;

/** Power-on value of each register the PIIX3 resets, `[offset, value]`. */
const RESET_VALUES: readonly (readonly [number, number])[] = [
  [0x4c, 0x4d], [0x4e, 0x03], [0x4f, 0x00],
  [0x60, 0x80], [0x61, 0x80], [0x62, 0x80], [0x63, 0x80],
  [0x69, 0x02], [0x70, 0x80],
  [0x76, 0x0c], [0x77, 0x0c], [0x78, 0x02], [0x79, 0x00],
  [0x80, 0x00], [0x82, 0x00],
  [0xa0, 0x08], [0xa2, 0x00], [0xa3, 0x00], [0xa4, 0x00], [0xa5, 0x00], [0xa6, 0x00], [0xa7, 0x00],
  [0xa8, 0x0f], [0xaa, 0x00], [0xab, 0x00], [0xac, 0x00], [0xae, 0x00],
];

export function piix3IsaLayout(): ConfigLayout {
  const builder = new ConfigLayoutBuilder({
    vendorId: INTEL_VENDOR_ID,
    deviceId: PIIX3_ISA_DEVICE_ID,
    revision: 0x00,
    classCode: 0x06_01_00,
    headerType: HeaderType.MULTI_FUNCTION,
    status: PciStatus.DEVSEL_MEDIUM,
    subsystemVendorId: QemuSubsystem.VENDOR_ID,
    subsystemId: QemuSubsystem.ID,
    interruptPin: 0,
  });
  for (const [offset, value] of RESET_VALUES) builder.register(offset, 1, value);
  return builder.restoreOnReset(...RESET_VALUES.map(([offset]) => offset)).build();
}

/** The ISA bridge at 00:01.0. It decodes no window through its configuration; its PIRQ routing is read with `pirqRoutes`. */
export function piix3IsaFunction(): PciFunctionDefinition {
  return { name: 'piix3-isa', device: 1, function: 0, layout: piix3IsaLayout(), windows: () => [] };
}

/** Where PIRQA#–PIRQD# are routed: the ISA IRQ, or null while routing is disabled (bit 7). */
export function pirqRoutes(config: Uint8Array): (number | null)[] {
  const routes: (number | null)[] = [];
  for (let pirq = 0; pirq < 4; pirq++) {
    const value = readConfig(config, Piix3IsaRegister.PIRQRC + pirq, 1);
    routes.push((value & PirqRoute.DISABLED) !== 0 ? null : value & PirqRoute.IRQ);
  }
  return routes;
}
