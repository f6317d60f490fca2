/**
 * How each PC device is made for a domain, from the placement (its lost-tick
 * policies) and the board's media: one factory per device, gathered in a
 * registry. A domain's assembly creates a device only through its registry,
 * so a VMM built for one placement — whose registry names only the devices
 * placed there — need not contain the others.
 */
import type { Device, DeviceContext, StatefulDevice } from '@splitvisor/abi';
import { AcpiPmTimer, Hpet } from '@splitvisor/counters';
import type { ImageSize } from '@splitvisor/devhost';
import { FileBlockBackend } from '@splitvisor/devhost';
import { IsaDebugcon } from '@splitvisor/debugcon';
import { AtaChannel, LOGICAL_BLOCK_BYTES as CD_BLOCK_BYTES, MemoryBlockBackend, SECTOR_SIZE } from '@splitvisor/disk';
import { I8237Pair } from '@splitvisor/dma';
import { I82077aa, MEDIA_FORMATS, MemoryFloppyImage, SECTOR_BYTES } from '@splitvisor/floppy';
import { E820Type, FwCfg, qemuPcItems } from '@splitvisor/fw-cfg';
import { I8042 } from '@splitvisor/keyboard';
import { I440fxPciHost, expansionRomBytes, expansionRomWindow } from '@splitvisor/pci';
import { ParallelPort } from '@splitvisor/parallel';
import { I8254 } from '@splitvisor/pit';
import type { DeviceName, Placement } from '@splitvisor/placement';
import { Port92 } from '@splitvisor/port92';
import { Mc146818 } from '@splitvisor/rtc';
import { Mcr, Ns16550a } from '@splitvisor/serial';
import { Vga } from '@splitvisor/vga';
import { acpiBoard } from './acpi-board.ts';
import { PC_BOARD } from './board.ts';
import type { BoardOptions, Release, Shared, Sinks } from './devices.ts';
import { DEFAULT_MEMORY_BYTES } from './devices.ts';
import { memoryMedia } from './memory-media.ts';
import { startTyping } from './typist.ts';

/** What a factory is given: the device's context in its domain, and what the board and the domain provide. */
export interface FactoryInput {
  readonly context: DeviceContext;
  readonly placement: Placement;
  readonly board: BoardOptions;
  /** What the device opened, to release when the VM stops. */
  readonly releases: Release[];
  /** Chips the domain's devices share (the 8237 pair). */
  readonly shared: Shared;
  /** Another device's context in the same domain (the floppy's DMA channel is the 8237's). */
  readonly contextOf: (name: DeviceName) => DeviceContext;
  readonly sinks: Sinks;
  /** Makes state beside the device's reachable by name in its domain (the host's typing at the keyboard), for snapshots. */
  readonly register: (state: StatefulDevice) => void;
}

export type DeviceFactory = (input: FactoryInput) => Device;

/** The devices a build can make, by name (the interrupt controllers are the irqchip topology's, not here). */
export type DeviceRegistry = Readonly<Partial<Record<DeviceName, DeviceFactory>>>;

export const dmaFactory: DeviceFactory = ({ context, shared }) => (shared.dma ??= new I8237Pair(context));

/** The sizes a diskette image may have: one per format the floppy drive reads (720K, 1.44M, 2.88M). */
export const FLOPPY_IMAGE_SIZES: readonly ImageSize[] = Object.values(MEDIA_FORMATS).map((format) => ({ bytes: format.sectors * SECTOR_BYTES, name: format.name }));

/** On ISA DMA channel 2 (the placement keeps the two in one domain). One empty 1.44 MB drive, as QEMU's default. */
export const floppyFactory: DeviceFactory = ({ context, board, releases, shared, contextOf, register }) => {
  const dma = (shared.dma ??= new I8237Pair(contextOf('dma'))).channel(2);
  if (board.floppyImage === undefined) {
    if (board.floppyBlankBytes === undefined) return new I82077aa(context, { dma, drives: [] }); // no image: no drives
    const image = new MemoryFloppyImage(new Uint8Array(board.floppyBlankBytes));
    register(memoryMedia('floppy', image.bytes));
    return new I82077aa(context, { dma, drives: [{ image }] });
  }
  // A size no diskette has is refused here, naming the file and the sizes (not the hard disk's 512-byte rule).
  const image = FileBlockBackend.open(board.floppyImage, { medium: 'floppy image', sizes: FLOPPY_IMAGE_SIZES });
  releases.push(() => { image.close(); });
  return new I82077aa(context, { dma, drives: [{ image }] });
};

export const pitFactory: DeviceFactory = ({ context, placement }) => new I8254(context, { lostTickPolicy: placement.lostTicks.pit });

export const pmTimerFactory: DeviceFactory = ({ context }) => new AcpiPmTimer(context);

export const hpetFactory: DeviceFactory = ({ context, placement }) => new Hpet(context, { lostTickPolicy: placement.lostTicks.hpet });

/** A fixed date, never the host's: modelled runs stay byte-identical (the RTC's own default, 2000-01-01 00:00:00 UTC). */
/** The CMOS setup bytes from the board, as QEMU's pc_cmos_init writes them: the RAM the guest has (firmware sizes memory by them), the vCPUs. */
export const rtcFactory: DeviceFactory = ({ context, placement, board }) => new Mc146818(context, {
  lostTickPolicy: placement.lostTicks.rtc,
  cmos: { ramBytes: board.memoryBytes ?? DEFAULT_MEMORY_BYTES, cpus: board.cpus ?? 1 },
});

/**
 * The 8042's output port drives the board's A20 gate (bit 1) and the CPU's reset (bit 0 pulsed low) as named
 * lines, `a20` and a `reset` pulse, as port 92h's: the VM sends them to the CPU (vm.ts).
 */
export const keyboardFactory: DeviceFactory = ({ context, board, register }) => {
  const keyboard = new I8042(context, {
    onA20: (level) => { context.setLine?.('a20', level); },
    onReset: () => {
      context.setLine?.('reset', true);
      context.setLine?.('reset', false);
    },
  });
  if (board.typing !== undefined) register(startTyping(keyboard, context, board.typing));
  return keyboard;
};

/** QEMU's reset value of MCR has OUT2 set (its serial.c), so the PC's COM irq is enabled from power-on, as guests there expect. */
export const serialFactory: DeviceFactory = ({ context, sinks }) => {
  const uart = new Ns16550a(context, { resetMcr: Mcr.OUT2 });
  if (sinks.console !== undefined) uart.onTransmit(sinks.console);
  return uart;
};

/**
 * QEMU's std VGA has 16 MiB of video memory, which its VBE reports (VBE_DISPI_INDEX_VIDEO_MEMORY_64K = 100h). The
 * board's option ROM, padded to its ROM BAR's size as `pciFactory` sizes it, is its region `rom`; the board puts it
 * where the guest enables the BAR (`chipset-windows.ts`).
 */
export const vgaFactory: DeviceFactory = ({ context, board }) => new Vga(context, {
  memoryBytes: 16 * 1024 * 1024,
  ...(board.vgaBios === undefined ? {} : { optionRom: expansionRomWindow(board.vgaBios) }),
});

export const diskFactory: DeviceFactory = ({ context, board, releases, register }) => {
  if (board.diskImage === undefined) {
    if (board.diskBlankBytes === undefined) return new AtaChannel(context);
    if (board.diskBlankBytes % SECTOR_SIZE !== 0) throw new RangeError(`a blank disk is a whole number of ${SECTOR_SIZE}-byte sectors, not ${board.diskBlankBytes} bytes`);
    const backend = new MemoryBlockBackend(board.diskBlankBytes / SECTOR_SIZE);
    register(memoryMedia('disk', backend.image));
    return new AtaChannel(context, { master: { backend } });
  }
  // Read-only: the file is opened O_RDONLY, and the drive on it (the backend says `readOnly`) aborts write commands.
  const backend = FileBlockBackend.open(board.diskImage, { readOnly: board.diskReadOnly === true });
  const channel = new AtaChannel(context, { master: { backend } });
  releases.push(() => {
    channel.flushWriteCaches();
    backend.close();
  });
  return channel;
};

/**
 * The secondary IDE channel with an ATAPI CD-ROM as its master, as QEMU's pc machine has by default: empty (SeaBIOS
 * finds it and reports MEDIUM NOT PRESENT), or with the board's disc in it (QEMU's `-cdrom`), read-only.
 */
export const cdromFactory: DeviceFactory = ({ context, board, releases }) => {
  if (board.cdromImage === undefined) return new AtaChannel(context, { master: { kind: 'cdrom' } });
  const medium = FileBlockBackend.open(board.cdromImage, { readOnly: true, medium: 'CD-ROM image', blockBytes: CD_BLOCK_BYTES });
  releases.push(() => { medium.close(); });
  return new AtaChannel(context, { master: { kind: 'cdrom', medium } });
};

/** SeaBIOS's debug log. Its text is the device's state, read by the VM wherever the device runs (`Vm.debugConsole`). */
export const debugconFactory: DeviceFactory = () => new IsaDebugcon();

/** Its `a20` and `reset` lines go where the domain routes named lines (the VM's record; no CPU acts on them yet). */
export const port92Factory: DeviceFactory = ({ context }) => new Port92(context);

/** LPT1 with no printer attached: it needs nothing of its context (no printer acknowledges, so its irq 7 is never raised). */
export const parallelFactory: DeviceFactory = () => new ParallelPort();

/**
 * The lowest MMIO window at or above 1 MiB on the board (the I/O APIC's, FEC00000h): guest RAM is flat from 0, so
 * what lies at and above it is the devices', not RAM, and the memory map the firmware is given stops there.
 */
function mmioFloor(): number {
  return Math.min(...Object.values(PC_BOARD).flatMap((slot) => slot.regions).filter((r) => r.space === 'mmio' && r.base >= 0x10_0000).map((r) => r.base));
}

/**
 * The HyperTransport range below 1 TiB (FD_0000_0000h–FF_FFFF_FFFFh) that QEMU 7.2's pc reserves in the e820 map
 * it gives the firmware when its CPU is AMD's, as its default qemu64 is (the seabios-post trace's e820 item 6):
 * nothing is there on this board either.
 */
const HT_RESERVED = { address: 0xfd_0000_0000, length: 0x3_0000_0000, type: E820Type.RESERVED } as const;

/**
 * QEMU's firmware configuration, from what the VM is: its RAM (the guest memory the device's DMA reaches) and the
 * reserved HyperTransport range, its vCPUs, no display when the placement has no VGA; ISA irq 0 on GSI 2 (the
 * board's legacy select), which the MADT says; the board's ACPI tables and their loader script (`acpi-board.ts`),
 * as QEMU's pc gives them — SeaBIOS loads those instead of building its own, and moves the PM base to 600h. The
 * `bootorder` file is empty, as QEMU's is when no device has a `bootindex`: SeaBIOS then takes the order from CMOS
 * 3Dh/38h, QEMU's default `-boot cad` there too (the RTC's) — the hard disk, the floppy, a CD. The board's option
 * ROMs are its `genroms/` files.
 */
export const fwCfgFactory: DeviceFactory = ({ context, placement, board }) => {
  const ramBytes = context.memory.size;
  const ramTop = Math.min(ramBytes, mmioFloor());
  return new FwCfg(context, qemuPcItems({
    ramBytes,
    cpus: board.cpus ?? 1,
    e820: [{ address: 0, length: ramTop, type: E820Type.RAM }, HT_RESERVED],
    bootOrder: [],
    noGraphic: placement.devices.vga === 'absent',
    irq0Override: true,
    acpi: acpiBoard(placement, ramTop),
    ...(board.optionRoms === undefined ? {} : { optionRoms: board.optionRoms }),
  }));
};

/**
 * QEMU's pc machine's PCI bus, its functions as QEMU 7.2 presents them (`-vga std`: the std-VGA's 16 MiB, as
 * `vgaFactory`'s, its ROM BAR the size of the board's option ROM, or QEMU's 64 KiB without one), the RAM the host
 * bridge reports in DRAMC the VM's. Its `reset` line (CF9h) goes where the domain
 * routes named lines; the board follows its decode changes where it can (`chipset-windows.ts`, by `createDevices`).
 *
 * No SMM: no CPU here enters System Management Mode and nothing answers the APM ports (B2h/B3h), so the PIIX4's
 * DEVACTB presets APMC_EN, as QEMU's does when its accelerator has no SMM — SeaBIOS's smm_setup then takes SMM as
 * set up ("SMM already initialised") instead of raising an SMI and waiting for B3h to read 0, forever.
 */
export const pciFactory: DeviceFactory = ({ context, board }) => new I440fxPciHost(context, {
  ramBytes: context.memory.size,
  pm: { smm: false },
  vga: { videoMemoryBytes: 16 * 1024 * 1024, ...(board.vgaBios === undefined ? {} : { romBytes: expansionRomBytes(board.vgaBios.length) }) },
});

/** Every device of the PC this project models: the registry of a VMM that may place any of them anywhere. */
export const PC_DEVICES: DeviceRegistry = {
  'pit': pitFactory,
  'pm-timer': pmTimerFactory,
  'hpet': hpetFactory,
  'rtc': rtcFactory,
  'keyboard': keyboardFactory,
  'serial': serialFactory,
  'disk': diskFactory,
  'vga': vgaFactory,
  'floppy': floppyFactory,
  'dma': dmaFactory,
  'debugcon': debugconFactory,
  'port92': port92Factory,
  'fw-cfg': fwCfgFactory,
  'pci': pciFactory,
  'parallel': parallelFactory,
  'cdrom': cdromFactory,
};
