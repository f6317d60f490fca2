/**
 * The PC board: where each device's regions sit and which line each irq
 * output drives, with the source of each number — the interrupt controllers
 * included, in the same table (as Firecracker's legacy device manager holds
 * every legacy device's address). Devices see offsets; this is the only
 * place that knows addresses.
 */
import type { AddressSpace } from '@splitvisor/abi';
import { msrAddress } from '@splitvisor/abi';
import { LegacyLine } from './legacy-replacement.ts';
import type { DeviceName } from '@splitvisor/placement';

export interface BoardRegion {
  readonly region: string;
  readonly space: AddressSpace;
  readonly base: number;
  /** The window's size on the board, which the device's region must match (checked when it is placed). */
  readonly length: number;
}

export interface BoardSlot {
  readonly regions: readonly BoardRegion[];
  /** The GSI each irq output drives (index = output). */
  readonly gsis: readonly number[];
  readonly source: string;
}

/**
 * Where the ACPI PM timer's block starts at power-on: PMBASE 600h, where SeaBIOS puts the PIIX4's PMBA on QEMU's
 * pc machine (src/fw/pciinit.c piix4_pm_setup, acpi_pm_base, moved from its own B000h when fw_cfg holds QEMU's ACPI
 * tables; the seabios-post trace: "Moving pm_base to 0x600", PMBA written 601h). A guest that moves PMBA moves the
 * timer (`chipset-windows.ts`); SeaBIOS on this board, whose fw_cfg holds ACPI tables too, leaves it at 600h.
 */
export const PM_BASE = 0x600;

export const PC_BOARD: Partial<Record<DeviceName, BoardSlot>> = {
  // The interrupt controllers: their inputs are the board's lines (GSIs), wired by the irqchip topology.
  pic: {
    regions: [{ region: 'master', space: 'port', base: 0x20, length: 2 }, { region: 'slave', space: 'port', base: 0xa0, length: 2 }, { region: 'elcr', space: 'port', base: 0x4d0, length: 2 }],
    gsis: [],
    source: 'IBM PC/AT technical reference (8259s at 20h and A0h); PIIX ELCR at 4D0h',
  },
  ioapic: {
    regions: [{ region: 'registers', space: 'mmio', base: 0xfec0_0000, length: 0x1000 }],
    gsis: [],
    source: 'Intel MP specification: the I/O APIC at FEC00000h',
  },
  lapic: {
    // Every CPU's local APIC answers at the one page; the running vCPU's is the one reached.
    regions: [{ region: 'registers', space: 'mmio', base: 0xfee0_0000, length: 0x1000 }, { region: 'tsc-deadline', space: 'msr', base: msrAddress(0x6e0), length: 8 }],
    gsis: [],
    source: 'Intel MP specification (local APIC at FEE00000h); Intel SDM 3A 11.5.4.1 (IA32_TSC_DEADLINE, MSR 6E0h)',
  },
  pit: {
    regions: [{ region: 'counters', space: 'port', base: 0x40, length: 4 }, { region: 'nmisc', space: 'port', base: 0x61, length: 1 }],
    gsis: [LegacyLine.pitOut0], // ISA irq 0 (I/O APIC input 2 by the MADT override, the 8259's IR0) through the legacy replacement select
    source: 'IBM PC/AT technical reference (8254 at 40h, port 61h); ACPI MADT override: ISA irq 0 → GSI 2',
  },
  'pm-timer': {
    // At power-on, where firmware puts it; after, wherever the guest's PMBA and PMREGMISC put the PM space (`chipset-windows.ts`).
    regions: [{ region: 'pm1-event', space: 'port', base: PM_BASE, length: 4 }, { region: 'pm-timer', space: 'port', base: PM_BASE + 8, length: 4 }],
    gsis: [9], // SCI on irq 9
    source: "QEMU's pc machine: PIIX4 PM at PMBASE 600h (PM1 event block 600h, PM_TMR 608h), SCI on irq 9",
  },
  rtc: {
    regions: [{ region: 'index', space: 'port', base: 0x70, length: 1 }, { region: 'data', space: 'port', base: 0x71, length: 1 }],
    gsis: [LegacyLine.rtcIrq], // ISA irq 8 through the legacy replacement select
    source: 'IBM PC/AT technical reference: MC146818 at 70h/71h, IRQF on irq 8',
  },
  vga: {
    // The linear framebuffer (`lfb`) and the option ROM (`rom`) sit in the std-VGA function's BAR0 and ROM BAR, where
    // the guest puts them: the board maps them as the PCI host's decode changes say (`chipset-windows.ts`).
    regions: [
      { region: 'ports', space: 'port', base: 0x3b0, length: 48 },
      { region: 'window', space: 'mmio', base: 0xa_0000, length: 0x20000 },
      { region: 'vbe', space: 'port', base: 0x1ce, length: 3 },
    ],
    gsis: [],
    source: 'IBM VGA technical reference (registers at 3B0h–3DFh, the legacy window A0000h–BFFFFh); Bochs/QEMU VBE dispi index/data at 1CEh/1CFh',
  },
  floppy: {
    // 3F6h belongs to the fixed disk's control register on the PC, so the controller's block stops at 3F5h and resumes at 3F7h.
    regions: [{ region: 'registers', space: 'port', base: 0x3f0, length: 6 }, { region: 'dir-ccr', space: 'port', base: 0x3f7, length: 1 }],
    gsis: [6],
    source: 'IBM PC/AT technical reference: the diskette controller at 3F0h–3F7h (3F6h is the fixed disk\'s), irq 6, DMA channel 2',
  },
  dma: {
    // Port 80h between them is the POST diagnostic port, not a page register.
    regions: [{ region: 'controller-8', space: 'port', base: 0x00, length: 16 }, { region: 'page', space: 'port', base: 0x81, length: 15 }, { region: 'controller-16', space: 'port', base: 0xc0, length: 32 }],
    gsis: [],
    source: 'IBM PC/AT technical reference: 8237 #1 at 00h–0Fh, #2 at C0h–DFh, page registers 81h–8Fh',
  },
  disk: {
    // The PIIX's bus-master registers sit where the firmware puts the IDE function's BAR4 over PCI. The PCI host
    // decodes BMIBA, but the board does not follow it yet: they are fixed where SeaBIOS puts them on QEMU's pc
    // machine, its first I/O BAR at C000h, the primary channel's eight registers first (the shared traces show the same).
    regions: [{ region: 'command', space: 'port', base: 0x1f0, length: 8 }, { region: 'control', space: 'port', base: 0x3f6, length: 1 }, { region: 'bus-master', space: 'port', base: 0xc000, length: 8 }],
    gsis: [14],
    source: 'IBM PC/AT technical reference: the primary fixed-disk controller at 1F0h–1F7h and 3F6h, irq 14; PIIX3 datasheet 2.7 (BMIBA, bus master IDE I/O at BAR4) at C000h as SeaBIOS assigns it under QEMU',
  },
  cdrom: {
    // The secondary channel's bus-master registers are the second eight of the IDE function's BAR4, beside the primary's.
    regions: [{ region: 'command', space: 'port', base: 0x170, length: 8 }, { region: 'control', space: 'port', base: 0x376, length: 1 }, { region: 'bus-master', space: 'port', base: 0xc008, length: 8 }],
    gsis: [15],
    source: "IBM PC/AT technical reference and PIIX3 datasheet 2.7: the secondary IDE channel at 170h–177h and 376h, irq 15, its bus master at BMIBA + 8h (C008h as SeaBIOS assigns BAR4 under QEMU); QEMU's pc machine puts its default CD-ROM there, ide1-cd0",
  },
  keyboard: {
    regions: [{ region: 'data', space: 'port', base: 0x60, length: 1 }, { region: 'command', space: 'port', base: 0x64, length: 1 }],
    gsis: [1, 12], // the keyboard on irq 1, the PS/2 mouse on irq 12
    source: 'IBM PC/AT technical reference (8042 at 60h/64h, irq 1); PS/2 mouse on irq 12 (IBM PS/2 hardware interface technical reference)',
  },
  serial: {
    regions: [{ region: 'registers', space: 'port', base: 0x3f8, length: 8 }],
    gsis: [4],
    source: 'IBM PC/AT technical reference: COM1 at 3F8h on irq 4',
  },
  debugcon: {
    regions: [{ region: 'port', space: 'port', base: 0x402, length: 1 }],
    gsis: [],
    source: "SeaBIOS's debug port (src/hw/serialio.c DebugOutputPort, 402h), where QEMU's pc machine puts an isa-debugcon for it (-device isa-debugcon,iobase=0x402)",
  },
  port92: {
    // Named output lines, not irqs: `a20` and `reset`, wired by the VM to the CPU's side (vm.ts, `outputLines`).
    regions: [{ region: 'control', space: 'port', base: 0x92, length: 1 }],
    gsis: [],
    source: 'IBM PS/2 hardware interface technical reference: System Control Port A at 92h (QEMU\'s pc machine: port92)',
  },
  'fw-cfg': {
    regions: [{ region: 'selector-data', space: 'port', base: 0x510, length: 2 }, { region: 'dma-address', space: 'port', base: 0x514, length: 8 }],
    gsis: [],
    source: 'QEMU docs/specs/fw_cfg.rst, x86: selector 510h, data 511h, DMA address 514h (hw/i386/fw_cfg.c FW_CFG_IO_BASE)',
  },
  pci: {
    // CF9h, inside the first window, is the PIIX3's Reset Control Register: its `reset` is a named output line, not an
    // irq, routed as port 92h's is (vm.ts, `outputLines`: `pci.reset`).
    regions: [{ region: 'config-address', space: 'port', base: 0xcf8, length: 4 }, { region: 'config-data', space: 'port', base: 0xcfc, length: 4 }],
    gsis: [],
    source: 'PCI Local Bus Specification 3.0 §3.2.2.3.2: configuration mechanism #1, CONFIG_ADDRESS at CF8h, CONFIG_DATA at CFCh; 82371SB (PIIX3) datasheet: the Reset Control Register at CF9h',
  },
  parallel: {
    // The SPP's three registers. QEMU's LPT1 decodes 378h–37Fh, but answers past 37Ah as nothing does (FFh): left unclaimed.
    regions: [{ region: 'registers', space: 'port', base: 0x378, length: 3 }],
    gsis: [7], // never raised: no printer is attached to acknowledge (see @splitvisor/parallel)
    source: "IBM PC technical reference, printer adapter: LPT1 data, status and control at 378h–37Ah, its interrupt on irq 7 (QEMU's pc machine: its one isa-parallel, at 378h on irq 7)",
  },
  hpet: {
    regions: [{ region: 'registers', space: 'mmio', base: 0xfed0_0000, length: 0x400 }],
    // Outputs 0–23 → GSIs; 32, 33 and 34 → the legacy replacement select (timer 0 for irq 0, timer 1 for irq 8, LEG_RT_CNF).
    gsis: [...Array.from({ length: 24 }, (_, i) => i), ...Array.from({ length: 8 }, (_, i) => 24 + i), LegacyLine.hpetTimer0, LegacyLine.hpetTimer1, LegacyLine.hpetRoute],
    source: 'IA-PC HPET specification 1.0a: the block at FED00000h; legacy replacement (2.7) routes timer 0 to irq 0 and timer 1 to irq 8 in place of the PIT and RTC',
  },
};

/** Devices the board places that are part of the interrupt controller, wired by the irqchip topology rather than by irq outputs. */
export const IRQCHIP_PARTS: readonly DeviceName[] = ['pic', 'ioapic', 'lapic'];
