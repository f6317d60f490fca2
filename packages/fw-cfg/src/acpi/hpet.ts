/**
 * The HPET description table, signature "HPET" (IA-PC HPET (High
 * Precision Event Timers) Specification 1.0a, §3.2.4 "The ACPI 2.0 HPET
 * Description Table (HPET)", Table 3), revision 1: where an event timer
 * block is and what it is.
 *
 *   offset  size  field
 *   36      4     Event Timer Block ID: the block's General Capabilities
 *                 and ID register, low 32 bits (vendor, legacy-replacement
 *                 and 64-bit counter capabilities, the last timer's number,
 *                 the revision)
 *   40      12    Base Address: a Generic Address Structure, system memory,
 *                 64 bits wide
 *   52      1     HPET Number (0 for the first block)
 *   53      2     Main Counter Minimum Clock_tick in Periodic Mode
 *   55      1     Page Protection and OEM Attribute (0: no guarantee)
 */
import type { AcpiOem } from './sdt.ts';
import { putLe, sdt } from './sdt.ts';

export const HpetField = { EVENT_TIMER_BLOCK_ID: 36, BASE_ADDRESS: 40, NUMBER: 52, MINIMUM_TICK: 53 } as const;

export interface HpetTableConfig {
  /** The block's base address (system memory). */
  readonly address: number;
  /** Its General Capabilities and ID register, low 32 bits. */
  readonly eventTimerBlockId: number;
  /** The smallest period, in counter ticks, the OS may program in periodic mode. */
  readonly minimumTick: number;
}

export function hpetTable(config: HpetTableConfig, oem: AcpiOem): Uint8Array {
  const body = new Uint8Array(20);
  putLe(body, 0, 4, config.eventTimerBlockId);
  body[4] = 0; // system memory
  body[5] = 64; // the registers are 64 bits wide
  putLe(body, 8, 8, config.address);
  body[16] = 0;
  putLe(body, 17, 2, config.minimumTick);
  body[19] = 0;
  return sdt('HPET', 1, body, oem);
}
