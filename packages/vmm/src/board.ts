/**
 * The PC board: where each device's regions sit and which line each irq
 * output drives, with the source of each number. Devices see offsets; this
 * is the only place that knows addresses.
 */
import type { AddressSpace } from '@splitvisor/abi';
import { msrAddress } from '@splitvisor/abi';
import { LegacyLine } from './legacy-replacement.ts';
import type { DeviceName } from '@splitvisor/placement';

export interface BoardRegion {
  readonly region: string;
  readonly space: AddressSpace;
  readonly base: number;
}

export interface BoardSlot {
  readonly regions: readonly BoardRegion[];
  /** The GSI each irq output drives (index = output). */
  readonly gsis: readonly number[];
  readonly source: string;
}

export const PC_BOARD: Partial<Record<DeviceName, BoardSlot>> = {
  pit: {
    regions: [{ region: 'counters', space: 'port', base: 0x40 }, { region: 'nmisc', space: 'port', base: 0x61 }],
    gsis: [LegacyLine.pitOut0], // ISA irq 0 (I/O APIC input 2 by the MADT override, the 8259's IR0) through the legacy replacement select
    source: 'IBM PC/AT technical reference (8254 at 40h, port 61h); ACPI MADT override: ISA irq 0 → GSI 2',
  },
  'pm-timer': {
    regions: [{ region: 'pm1-event', space: 'port', base: 0x600 }, { region: 'pm-timer', space: 'port', base: 0x608 }],
    gsis: [9], // SCI on irq 9
    source: "QEMU's pc machine: PIIX4 PM at PMBASE 600h (PM1 event block 600h, PM_TMR 608h), SCI on irq 9",
  },
  rtc: {
    regions: [{ region: 'index', space: 'port', base: 0x70 }, { region: 'data', space: 'port', base: 0x71 }],
    gsis: [LegacyLine.rtcIrq], // ISA irq 8 through the legacy replacement select
    source: 'IBM PC/AT technical reference: MC146818 at 70h/71h, IRQF on irq 8',
  },
  vga: {
    // The linear framebuffer sits in a PCI BAR, which this board has not: VBE modes use the banked window.
    regions: [
      { region: 'ports', space: 'port', base: 0x3b0 },
      { region: 'window', space: 'mmio', base: 0xa_0000 },
      { region: 'vbe', space: 'port', base: 0x1ce },
    ],
    gsis: [],
    source: 'IBM VGA technical reference (registers at 3B0h–3DFh, the legacy window A0000h–BFFFFh); Bochs/QEMU VBE dispi index/data at 1CEh/1CFh',
  },
  floppy: {
    // 3F6h belongs to the fixed disk's control register on the PC, so the controller's block stops at 3F5h and resumes at 3F7h.
    regions: [{ region: 'registers', space: 'port', base: 0x3f0 }, { region: 'dir-ccr', space: 'port', base: 0x3f7 }],
    gsis: [6],
    source: 'IBM PC/AT technical reference: the diskette controller at 3F0h–3F7h (3F6h is the fixed disk\'s), irq 6, DMA channel 2',
  },
  dma: {
    // Port 80h between them is the POST diagnostic port, not a page register.
    regions: [{ region: 'controller-8', space: 'port', base: 0x00 }, { region: 'page', space: 'port', base: 0x81 }, { region: 'controller-16', space: 'port', base: 0xc0 }],
    gsis: [],
    source: 'IBM PC/AT technical reference: 8237 #1 at 00h–0Fh, #2 at C0h–DFh, page registers 81h–8Fh',
  },
  disk: {
    // The PIIX's bus-master registers sit where the firmware puts the IDE function's BAR4 over PCI. This board
    // has no PCI configuration space yet, so they are fixed where SeaBIOS puts them on QEMU's pc machine: its
    // first I/O BAR goes at C000h, the primary channel's eight registers first (the shared traces show the same).
    regions: [{ region: 'command', space: 'port', base: 0x1f0 }, { region: 'control', space: 'port', base: 0x3f6 }, { region: 'bus-master', space: 'port', base: 0xc000 }],
    gsis: [14],
    source: 'IBM PC/AT technical reference: the primary fixed-disk controller at 1F0h–1F7h and 3F6h, irq 14; PIIX3 datasheet 2.7 (BMIBA, bus master IDE I/O at BAR4) at C000h as SeaBIOS assigns it under QEMU',
  },
  keyboard: {
    regions: [{ region: 'data', space: 'port', base: 0x60 }, { region: 'command', space: 'port', base: 0x64 }],
    gsis: [1, 12], // the keyboard on irq 1, the PS/2 mouse on irq 12
    source: 'IBM PC/AT technical reference (8042 at 60h/64h, irq 1); PS/2 mouse on irq 12 (IBM PS/2 hardware interface technical reference)',
  },
  serial: {
    regions: [{ region: 'registers', space: 'port', base: 0x3f8 }],
    gsis: [4],
    source: 'IBM PC/AT technical reference: COM1 at 3F8h on irq 4',
  },
  hpet: {
    regions: [{ region: 'registers', space: 'mmio', base: 0xfed0_0000 }],
    // Outputs 0–23 → GSIs; 32, 33 and 34 → the legacy replacement select (timer 0 for irq 0, timer 1 for irq 8, LEG_RT_CNF).
    gsis: [...Array.from({ length: 24 }, (_, i) => i), ...Array.from({ length: 8 }, (_, i) => 24 + i), LegacyLine.hpetTimer0, LegacyLine.hpetTimer1, LegacyLine.hpetRoute],
    source: 'IA-PC HPET specification 1.0a: the block at FED00000h; legacy replacement (2.7) routes timer 0 to irq 0 and timer 1 to irq 8 in place of the PIT and RTC',
  },
};

/** Board addresses of the interrupt controllers (they are wired by PcInterrupts, not by outputs). */
export const IRQCHIP_REGIONS = {
  pic: [{ region: 'master', space: 'port', base: 0x20 }, { region: 'slave', space: 'port', base: 0xa0 }, { region: 'elcr', space: 'port', base: 0x4d0 }],
  ioapic: [{ region: 'registers', space: 'mmio', base: 0xfec0_0000 }],
  lapic: [{ region: 'registers', space: 'mmio', base: 0xfee0_0000 }, { region: 'tsc-deadline', space: 'msr', base: msrAddress(0x6e0) }],
  source: 'IBM PC/AT (8259s at 20h and A0h); PIIX ELCR at 4D0h; Intel MP specification (I/O APIC FEC00000h, local APIC FEE00000h); Intel SDM 3A 11.5.4.1 (IA32_TSC_DEADLINE, MSR 6E0h)',
} as const satisfies Record<string, unknown>;
