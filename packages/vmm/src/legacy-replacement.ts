/**
 * The chipset's legacy replacement route (IA-PC HPET 1.0a §2.7, table 3):
 * ISA irq 0 (the 8259's IR0, I/O APIC input 2) and ISA irq 8 (IR8, input 8)
 * come from the 8254's OUT0 and the RTC's IRQ — or, while the HPET's
 * LEG_RT_CNF is set, from HPET timers 0 and 1, the PIT's and RTC's lines cut
 * off (QEMU's HPET disables the PIT's output and lowers both lines when the
 * route changes). The devices' lines reach the irqchip as board lines above
 * the GSIs; this select turns them into the GSIs the irqchip sees, wherever
 * the irqchip is — so it sits in front of each irqchip's `setGsi`.
 */

/** Board lines that are not GSIs: the select's inputs. Carried in irq-line ioctls like GSIs (u32). */
export const LegacyLine = {
  pitOut0: 0x1_0000,
  rtcIrq: 0x1_0001,
  hpetTimer0: 0x1_0002,
  hpetTimer1: 0x1_0003,
  /** High while the HPET's LEG_RT_CNF is set. */
  hpetRoute: 0x1_0004,
} as const;

/** ISA irq 0's GSI (the MADT override) and ISA irq 8's. */
const GSI_IRQ0 = 2;
const GSI_IRQ8 = 8;

/** The select: sets a board line; and, for the irqchip's notifiers going back, the board lines feeding a GSI now. */
export interface LegacySelect {
  (line: number, level: boolean): void;
  linesInto(gsi: number): readonly number[];
}

/**
 * A line setter for the board's lines in front of `setGsi`: GSIs pass
 * through; the select's inputs drive GSIs 2 and 8 from whichever source is
 * selected, only when the level the irqchip sees changes.
 */
export function legacyReplacement(setGsi: (gsi: number, level: boolean) => void): LegacySelect {
  const levels = new Map<number, boolean>();
  const seen = new Map<number, boolean>();
  const level = (line: number) => levels.get(line) ?? false;
  const drive = (gsi: number, wanted: boolean) => {
    if ((seen.get(gsi) ?? false) === wanted) return;
    seen.set(gsi, wanted);
    setGsi(gsi, wanted);
  };
  const update = () => {
    const hpet = level(LegacyLine.hpetRoute);
    drive(GSI_IRQ0, level(hpet ? LegacyLine.hpetTimer0 : LegacyLine.pitOut0));
    drive(GSI_IRQ8, level(hpet ? LegacyLine.hpetTimer1 : LegacyLine.rtcIrq));
  };
  const set = (line: number, wanted: boolean) => {
    if (line < LegacyLine.pitOut0) {
      if (line === GSI_IRQ0 || line === GSI_IRQ8) seen.set(line, wanted); // a device routed there directly (an HPET timer's own route)
      setGsi(line, wanted);
      return;
    }
    levels.set(line, wanted);
    update();
  };
  const linesInto = (gsi: number): readonly number[] => {
    const hpet = level(LegacyLine.hpetRoute);
    if (gsi === GSI_IRQ0) return [gsi, hpet ? LegacyLine.hpetTimer0 : LegacyLine.pitOut0];
    if (gsi === GSI_IRQ8) return [gsi, hpet ? LegacyLine.hpetTimer1 : LegacyLine.rtcIrq];
    return [gsi];
  };
  return Object.assign(set, { linesInto });
}
