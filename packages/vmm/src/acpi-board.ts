/**
 * The PC board as its ACPI tables describe it, for fw_cfg to hand to
 * firmware as QEMU's `pc` machine does (`@splitvisor/fw-cfg`'s
 * `AcpiBoard`: the RSDT, FADT, FACS, DSDT, MADT and HPET tables in
 * `etc/acpi/tables`, loaded by `etc/table-loader`). Every address and line
 * comes from the board's table (`PC_BOARD`), every device from the
 * placement: a device the placement leaves out is not in the DSDT, so
 * firmware and OS skip it as they would on a PC without it (SeaBIOS's
 * PS/2 setup looks for PNP0303 there first).
 */
import type { AcpiBoard, IsaDeviceDescription, PortRange } from '@splitvisor/fw-cfg';
import type { DeviceName, Placement } from '@splitvisor/placement';
import type { BoardSlot } from './board.ts';
import { PC_BOARD, PM_BASE } from './board.ts';

/** The board's port windows of `name`, adjacent ones joined (the RTC's 70h and 71h are one range, 70h–71h). */
function portRanges(name: DeviceName): PortRange[] {
  const regions = (PC_BOARD[name]?.regions ?? []).filter((r) => r.space === 'port').sort((a, b) => a.base - b.base);
  const ranges: { base: number; length: number }[] = [];
  for (const r of regions) {
    const last = ranges.at(-1);
    if (last !== undefined && last.base + last.length === r.base) last.length += r.length;
    else ranges.push({ base: r.base, length: r.length });
  }
  return ranges;
}

/** The ISA IRQ of `name`'s `output`th line on the board (a GSI below 16 is the ISA IRQ of that number). */
function isaIrq(slot: BoardSlot | undefined, output: number): number[] {
  const gsi = slot?.gsis[output];
  return gsi !== undefined && gsi < 16 ? [gsi] : [];
}

/**
 * The ISA devices of the board, as the DSDT lists them (PnP IDs from the
 * PnP ID registry Microsoft's "Plug and Play ISA" specification names):
 * the 8042's keyboard and mouse ports, the diskette controller with its DMA
 * channel 2 (`floppyFactory`'s), LPT1, COM1 (_UID 1), the RTC.
 */
const ISA_DEVICES: readonly { readonly device: DeviceName; readonly describe: () => IsaDeviceDescription[] }[] = [
  {
    device: 'keyboard',
    describe: () => [
      { name: 'KBD', hid: 'PNP0303', ports: portRanges('keyboard'), irqs: isaIrq(PC_BOARD.keyboard, 0) },
      { name: 'MOU', hid: 'PNP0F13', ports: [], irqs: isaIrq(PC_BOARD.keyboard, 1) },
    ],
  },
  { device: 'floppy', describe: () => [{ name: 'FDC0', hid: 'PNP0700', ports: portRanges('floppy'), irqs: isaIrq(PC_BOARD.floppy, 0), dmaChannels: [2] }] },
  { device: 'parallel', describe: () => [{ name: 'LPT1', hid: 'PNP0400', ports: portRanges('parallel'), irqs: isaIrq(PC_BOARD.parallel, 0) }] },
  { device: 'serial', describe: () => [{ name: 'COM1', hid: 'PNP0501', uid: 1, ports: portRanges('serial'), irqs: isaIrq(PC_BOARD.serial, 0) }] },
  // Its interrupt is ISA irq 8, reached through the HPET's legacy replacement select (the board's line for it is that select's input).
  { device: 'rtc', describe: () => [{ name: 'RTC', hid: 'PNP0B00', ports: portRanges('rtc'), irqs: [8] }] },
];

const regionBase = (name: DeviceName, region: string): number => {
  const found = PC_BOARD[name]?.regions.find((r) => r.region === region);
  if (found === undefined) throw new Error(`the board has no ${name} region ${region}`);
  return found.base;
};

/**
 * The board's ACPI description for `placement`, its RAM ending at
 * `ramTop` below 4 GiB (where the PCI hole starts).
 */
export function acpiBoard(placement: Placement, ramTop: number): AcpiBoard {
  const present = (name: DeviceName) => placement.devices[name] !== 'absent';
  const ioApic = regionBase('ioapic', 'registers');
  const pciPorts = portRanges('pci');
  const [pciConfigPorts] = pciPorts;
  if (pciPorts.length !== 1 || pciConfigPorts === undefined) throw new Error('the board\'s PCI configuration ports are not one range');
  const sci = PC_BOARD['pm-timer']?.gsis[0] ?? 9;
  const hpet = PC_BOARD.hpet?.regions[0];
  return {
    localApicAddress: regionBase('lapic', 'registers'),
    // ID 0, the I/O APIC's own at reset; its inputs are GSIs 0–23.
    ioApic: { id: 0, address: ioApic, gsiBase: 0 },
    // The SCI, and the IRQs PCI interrupts reach on QEMU's pc (its PIRQ links offer 5, 10 and 11; SeaBIOS routes
    // PIRQA–D to 10, 10, 11, 11): shared, level-triggered, active high.
    levelIrqs: [sci, 5, 10, 11],
    // The PIIX4's PM block at PMBASE (82371AB datasheet, PM I/O space): PM1 status/enable at +0, PM1 control at +4,
    // the 24-bit PM timer at +8; no fixed power button modelled (the PM timer's PM1 block holds only TMR_STS).
    pm: { pm1aEvent: PM_BASE, pm1aControl: PM_BASE + 4, pmTimer: PM_BASE + 8, pmTimer32: false, sciIrq: sci, powerButton: false },
    // The PIIX4's APM control port, with the values QEMU's PIIX4 takes for entering and leaving ACPI mode.
    smiCommand: { port: 0xb2, acpiEnable: 0xf1, acpiDisable: 0xf0 },
    // The PIIX3's Reset Control Register: 06h, a hard reset now (the PCI host's `reset` line).
    resetRegister: { port: 0xcf9, value: 0x06 },
    // The MC146818's century byte, CMOS 32h (the RTC's default, the PC/AT's).
    rtcCentury: present('rtc') ? 0x32 : 0,
    i8042: present('keyboard'),
    hpet: present('hpet') && hpet !== undefined
      // GCAP_ID of the HPET here (and QEMU's): vendor 8086h, legacy-replacement capable, a 64-bit counter, timers 0–2,
      // revision 1. A minimum periodic tick of 128 counter ticks (1.28 µs at 100 MHz), the common chipset figure.
      ? { address: hpet.base, length: hpet.length, eventTimerBlockId: 0x8086_a201, minimumTick: 128 }
      : null,
    dsdt: {
      pciConfigPorts,
      pciMemoryWindows: [
        { base: regionBase('vga', 'window'), length: 0x2_0000, cacheable: true },
        // The PCI hole: from the top of RAM to the I/O APIC (where SeaBIOS's PCI allocation stops too).
        ...(ramTop < ioApic ? [{ base: ramTop, length: ioApic - ramTop, cacheable: false }] : []),
      ],
      // The PIIX3's ISA bridge, PCI function 00:01.0.
      isaBridgeAddress: 0x0001_0000,
      isaDevices: ISA_DEVICES.filter((d) => present(d.device)).flatMap((d) => d.describe()),
    },
  };
}
