/**
 * The Multiple APIC Description Table, signature "APIC" (ACPI 6.4,
 * §5.2.12, Table 5.19), revision 1: where the local APICs and I/O APICs are,
 * which processors there are, and how ISA interrupts reach the I/O APIC.
 *
 *   offset  size  field
 *   36      4     Local Interrupt Controller Address (32-bit)
 *   40      4     Flags: bit 0 PCAT_COMPAT (there are 8259s too)
 *   44      …     Interrupt controller structures, each type, length, body:
 *
 * * Processor Local APIC (type 0, 8 bytes; §5.2.12.2): ACPI processor UID,
 *   APIC ID, flags (bit 0 Enabled).
 * * I/O APIC (type 1, 12 bytes; §5.2.12.3): I/O APIC ID, reserved, its
 *   32-bit address, the GSI its input 0 is.
 * * Interrupt Source Override (type 2, 10 bytes; §5.2.12.5): bus 0 (ISA),
 *   the ISA IRQ, the GSI it reaches, MPS INTI flags (Table 5.26: bits 1–0
 *   polarity, 0 as the bus says, 1 active high, 3 active low; bits 3–2
 *   trigger, 0 as the bus says, 1 edge, 3 level). Without one, ISA IRQ n
 *   is GSI n, edge-triggered and active high.
 * * Local APIC NMI (type 4, 6 bytes; §5.2.12.7): ACPI processor UID (FFh:
 *   every processor), MPS INTI flags, the LINT input (0 or 1).
 */
import type { AcpiOem } from './sdt.ts';
import { leBytes, sdt } from './sdt.ts';

export const MadtType = { LOCAL_APIC: 0, IO_APIC: 1, INTERRUPT_OVERRIDE: 2, LOCAL_APIC_NMI: 4 } as const;

/** MPS INTI flags. */
export const IntiFlags = { CONFORMING: 0x0000, ACTIVE_HIGH: 0x0001, ACTIVE_LOW: 0x0003, EDGE: 0x0004, LEVEL: 0x000c } as const;

export const MADT_PCAT_COMPAT = 1;
/** A Local APIC NMI structure's processor UID meaning every processor. */
export const ALL_PROCESSORS = 0xff;

export interface InterruptOverride {
  /** The ISA IRQ. */
  readonly irq: number;
  /** The GSI it reaches. */
  readonly gsi: number;
  /** MPS INTI flags. */
  readonly flags: number;
}

export interface MadtConfig {
  readonly localApicAddress: number;
  /** Processors with APIC IDs 0 to cpus − 1, the ACPI processor UID the same. */
  readonly cpus: number;
  readonly ioApic: { readonly id: number; readonly address: number; readonly gsiBase: number };
  readonly overrides: readonly InterruptOverride[];
  /** The LINT input every local APIC takes NMI on, or null. */
  readonly nmiLint: number | null;
  /** 8259s beside the APICs (PCAT_COMPAT). */
  readonly pcatCompatible: boolean;
}

export function madt(config: MadtConfig, oem: AcpiOem): Uint8Array {
  if (!Number.isInteger(config.cpus) || config.cpus < 1 || config.cpus > 0xff) throw new RangeError(`${config.cpus} CPUs: an xAPIC MADT holds 1 to 255`);
  const entries: number[][] = [];
  const le = (size: number, value: number) => [...leBytes(size, value)];
  for (let cpu = 0; cpu < config.cpus; cpu++) entries.push([MadtType.LOCAL_APIC, 8, cpu, cpu, ...le(4, 1)]);
  const { ioApic } = config;
  entries.push([MadtType.IO_APIC, 12, ioApic.id, 0, ...le(4, ioApic.address), ...le(4, ioApic.gsiBase)]);
  for (const o of config.overrides) entries.push([MadtType.INTERRUPT_OVERRIDE, 10, 0, o.irq, ...le(4, o.gsi), ...le(2, o.flags)]);
  if (config.nmiLint !== null) entries.push([MadtType.LOCAL_APIC_NMI, 6, ALL_PROCESSORS, ...le(2, IntiFlags.CONFORMING), config.nmiLint]);
  const body = Uint8Array.from([...le(4, config.localApicAddress), ...le(4, config.pcatCompatible ? MADT_PCAT_COMPAT : 0), ...entries.flat()]);
  return sdt('APIC', 1, body, oem);
}
