/**
 * The Differentiated System Description Table, signature "DSDT" (ACPI 6.4,
 * §5.2.11.1), revision 1 (its integers 32 bits): the AML that describes a
 * PC's devices the OS cannot find by enumeration — the PCI host bridge and
 * what it decodes, and the ISA devices behind the PCI-to-ISA bridge:
 *
 *   Scope (\_SB) {
 *     Device (PCI0) {                       PCI host bridge (§6.1.5 _HID PNP0A03)
 *       Name (_HID, EisaId ("PNP0A03"))
 *       Name (_UID, 0)
 *       Name (_CRS, ResourceTemplate () {   what it passes to the bus (§6.2.2)
 *         bus numbers 0–FFh; the configuration ports it consumes;
 *         every other I/O port; the memory windows })
 *       Device (ISA) {                      the PCI-to-ISA bridge function
 *         Name (_ADR, device << 16 | function)
 *         Device (KBD) { Name (_HID, EisaId ("PNP0303")) Name (_CRS, …) }
 *         …one per ISA device
 *       }
 *     }
 *     Device (HPET) { Name (_HID, EisaId ("PNP0103")) Name (_UID, 0) Name (_CRS, …) }
 *   }
 *
 * Each device's names come before its child devices: SeaBIOS's scan
 * (dsdt_parser.c) attaches a Name to the device it is in only until that
 * device's first child device. No _STA: a device without one is present,
 * enabled and working (§6.3.7) — and that is how SeaBIOS reads it
 * (acpi_dsdt_present_eisaid), e.g. PNP0303 before it sets up the PS/2 port.
 */
import { aml, amlDevice, amlInteger, amlName, amlScope, eisaId } from './aml.ts';
import { busNumberWindow, dmaResource, ioResource, ioWindow, irqResource, memory32FixedResource, memoryWindow, resourceTemplate } from './resources.ts';
import type { AcpiOem } from './sdt.ts';
import { sdt } from './sdt.ts';

export interface PortRange {
  readonly base: number;
  readonly length: number;
}

/** An ISA device as the DSDT lists it: its name, its PnP ID, and its resources (_CRS). */
export interface IsaDeviceDescription {
  /** The AML name, 1–4 characters (`KBD`, `COM1`). */
  readonly name: string;
  /** Its EISA (PnP) ID, as `PNP0303`. */
  readonly hid: string;
  /** Its _UID, to tell apart devices with one _HID (COM1, COM2). */
  readonly uid?: number;
  /** I/O port ranges, each 1–255 ports. */
  readonly ports: readonly PortRange[];
  /** ISA IRQs, 0–15. */
  readonly irqs: readonly number[];
  /** ISA DMA channels, 0–7. */
  readonly dmaChannels?: readonly number[];
}

export interface PciMemoryWindow {
  readonly base: number;
  readonly length: number;
  readonly cacheable: boolean;
}

export interface DsdtConfig {
  /** The host bridge's configuration ports (CONFIG_ADDRESS, CONFIG_DATA): consumed by it, not passed to the bus. */
  readonly pciConfigPorts: PortRange;
  /** Memory the host bridge passes to PCI (the legacy video window, the hole below the APICs). */
  readonly pciMemoryWindows: readonly PciMemoryWindow[];
  /** The ISA bridge's _ADR: its PCI device in bits 31–16, function in 15–0. */
  readonly isaBridgeAddress: number;
  readonly isaDevices: readonly IsaDeviceDescription[];
  /** The HPET's registers, or null for none. */
  readonly hpet: { readonly address: number; readonly length: number } | null;
}

export const DSDT_REVISION = 1;

function isaDevice(device: IsaDeviceDescription): Uint8Array {
  const resources = [
    ...device.ports.map((p) => ioResource(p.base, p.length)),
    ...(device.irqs.length > 0 ? [irqResource(device.irqs)] : []),
    ...(device.dmaChannels !== undefined && device.dmaChannels.length > 0 ? [dmaResource(device.dmaChannels)] : []),
  ];
  return amlDevice(
    device.name,
    amlName('_HID', eisaId(device.hid)),
    ...(device.uid !== undefined ? [amlName('_UID', amlInteger(device.uid))] : []),
    amlName('_CRS', resourceTemplate(...resources)),
  );
}

function hostBridgeResources(config: DsdtConfig): Uint8Array {
  const { base, length } = config.pciConfigPorts;
  return resourceTemplate(
    busNumberWindow(0, 0xff),
    ioResource(base, length),
    ...(base > 0 ? [ioWindow(0, base - 1)] : []),
    ...(base + length <= 0xffff ? [ioWindow(base + length, 0xffff)] : []),
    ...config.pciMemoryWindows.map((w) => memoryWindow(w.base, w.base + w.length - 1, w.cacheable)),
  );
}

/** The DSDT's AML (after the header). */
export function dsdtAml(config: DsdtConfig): Uint8Array {
  const pci = amlDevice(
    'PCI0',
    amlName('_HID', eisaId('PNP0A03')),
    amlName('_UID', amlInteger(0)),
    amlName('_CRS', hostBridgeResources(config)),
    amlDevice('ISA', amlName('_ADR', amlInteger(config.isaBridgeAddress)), ...config.isaDevices.map(isaDevice)),
  );
  const hpet = config.hpet === null ? [] : [amlDevice(
    'HPET',
    amlName('_HID', eisaId('PNP0103')),
    amlName('_UID', amlInteger(0)),
    amlName('_CRS', resourceTemplate(memory32FixedResource(config.hpet.address, config.hpet.length, true))),
  )];
  return aml(amlScope('\\_SB', pci, ...hpet));
}

export function dsdt(config: DsdtConfig, oem: AcpiOem): Uint8Array {
  return sdt('DSDT', DSDT_REVISION, dsdtAml(config), oem);
}
