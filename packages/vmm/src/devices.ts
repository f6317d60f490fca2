/**
 * The board's devices created in a domain: each modelled device placed there,
 * on that domain's bus at the board's addresses, its irq outputs on the
 * board's lines. The kernel, the monitor and the device host (in-thread or
 * in its worker) all assemble their devices with this one function.
 */
import type { Device, DeviceContext, DeviceDomain } from '@splitvisor/abi';
import { FileBlockBackend } from '@splitvisor/devhost';
import { I8237Pair } from '@splitvisor/dma';
import { I82077aa, MemoryFloppyImage } from '@splitvisor/floppy';
import { AtaChannel, MemoryBlockBackend, SECTOR_SIZE } from '@splitvisor/disk';
import { AcpiPmTimer, Hpet } from '@splitvisor/counters';
import { I8042 } from '@splitvisor/keyboard';
import { I8254 } from '@splitvisor/pit';
import { Mc146818 } from '@splitvisor/rtc';
import { Vga } from '@splitvisor/vga';
import { Mcr, Ns16550a } from '@splitvisor/serial';
import type { DeviceName, Placement, Where } from '@splitvisor/placement';
import type { BoardSlot } from './board.ts';
import { IRQCHIP_PARTS, PC_BOARD } from './board.ts';
import type { Typing } from './typist.ts';
import { startTyping } from './typist.ts';

/** Devices this build models; the others a placement names are not created (their ports answer as an empty bus). */
export const MODELLED: readonly DeviceName[] = ['pic', 'ioapic', 'lapic', 'pit', 'pm-timer', 'hpet', 'rtc', 'keyboard', 'serial', 'disk', 'vga', 'floppy', 'dma'];

/** What the board is given beyond the placement: media. Plain data, so the device host's worker gets it too. */
export interface BoardOptions {
  /** A raw disk image for the primary master (a multiple of 512 bytes); none: the channel has no drives. */
  readonly diskImage?: string;
  /** Open the image read-only (writes fail with an ATA error). */
  readonly diskReadOnly?: boolean;
  /** A raw diskette image (720 KB, 1.44 MB or 2.88 MB) in floppy drive A; none: the controller has no drives. */
  readonly floppyImage?: string;
  /** Without `diskImage`: a blank (zeroed) disk of this many bytes in memory on the primary master, nothing written to the host. */
  readonly diskBlankBytes?: number;
  /** Without `floppyImage`: a blank diskette of this many bytes (737280, 1474560 or 2949120) in memory in drive A. */
  readonly floppyBlankBytes?: number;
  /** Keys the host types at the keyboard, on the guest's clock (a workload's typist). */
  readonly typing?: Typing;
  /** The guest's TSC rate, Hz, which TSC-deadline mode compares against (a VM sets its own clock's). */
  readonly tscHz?: number;
  /** How many vCPUs, each with a local APIC wherever the irqchip is (a VM sets its own count). */
  readonly cpus?: number;
  /** Guest RAM in bytes, for the devices' DMA (default 32 MiB). */
  readonly memoryBytes?: number;
}

export const DEFAULT_MEMORY_BYTES = 32 * 1024 * 1024;

/** What a domain must release when the VM stops: write caches flushed, image files closed. */
export type Release = () => void;

/** Chips one domain's devices share: the 8237 pair the floppy controller moves its data through. */
interface Shared {
  dma?: I8237Pair;
}

/** Where the board's outputs go in this thread: the bytes COM1 transmits (the guest's console). */
export interface Sinks {
  readonly console?: (byte: number) => void;
}

function create(name: DeviceName, context: DeviceContext, placement: Placement, board: BoardOptions, releases: Release[], shared: Shared, contextOf: (name: DeviceName) => DeviceContext, sinks: Sinks): Device | undefined {
  const { lostTicks } = placement;
  switch (name) {
    case 'dma': return (shared.dma ??= new I8237Pair(context));
    // On ISA DMA channel 2 (the placement keeps the two in one domain). One empty 1.44 MB drive, as QEMU's default.
    case 'floppy': {
      const dma = (shared.dma ??= new I8237Pair(contextOf('dma'))).channel(2);
      if (board.floppyImage === undefined) {
        if (board.floppyBlankBytes === undefined) return new I82077aa(context, { dma, drives: [] }); // no image: no drives
        return new I82077aa(context, { dma, drives: [{ image: new MemoryFloppyImage(new Uint8Array(board.floppyBlankBytes)) }] });
      }
      const image = FileBlockBackend.open(board.floppyImage);
      releases.push(() => { image.close(); });
      return new I82077aa(context, { dma, drives: [{ image }] });
    }
    case 'pit': return new I8254(context, { lostTickPolicy: lostTicks.pit });
    case 'pm-timer': return new AcpiPmTimer(context);
    case 'hpet': return new Hpet(context, { lostTickPolicy: lostTicks.hpet });
    // A fixed date, never the host's: modelled runs stay byte-identical (the RTC's own default, 2000-01-01 00:00:00 UTC).
    case 'rtc': return new Mc146818(context, { lostTickPolicy: lostTicks.rtc });
    // A20 and the 8042's CPU reset have no CPU to act on yet (a scripted guest has no address wrap or reset vector).
    case 'keyboard': {
      const keyboard = new I8042(context);
      if (board.typing !== undefined) startTyping(keyboard, context, board.typing);
      return keyboard;
    }
    // QEMU's reset value of MCR has OUT2 set (its serial.c), so the PC's COM irq is enabled from power-on, as guests there expect.
    case 'serial': {
      const uart = new Ns16550a(context, { resetMcr: Mcr.OUT2 });
      if (sinks.console !== undefined) uart.onTransmit(sinks.console);
      return uart;
    }
    // QEMU's std VGA has 16 MiB of video memory, which its VBE reports (VBE_DISPI_INDEX_VIDEO_MEMORY_64K = 100h).
    case 'vga': return new Vga(context, { memoryBytes: 16 * 1024 * 1024 });
    case 'disk': {
      if (board.diskImage === undefined) {
        if (board.diskBlankBytes === undefined) return new AtaChannel(context);
        if (board.diskBlankBytes % SECTOR_SIZE !== 0) throw new RangeError(`a blank disk is a whole number of ${SECTOR_SIZE}-byte sectors, not ${board.diskBlankBytes} bytes`);
        return new AtaChannel(context, { master: { backend: new MemoryBlockBackend(board.diskBlankBytes / SECTOR_SIZE) } });
      }
      const backend = FileBlockBackend.open(board.diskImage, { readOnly: board.diskReadOnly === true });
      const channel = new AtaChannel(context, { master: { backend } });
      releases.push(() => {
        channel.flushWriteCaches();
        backend.close();
      });
      return channel;
    }
    default: return undefined;
  }
}

export interface Created {
  readonly name: DeviceName;
  readonly device: Device;
  /** Where each of the device's regions sits on the board. */
  readonly bases: ReadonlyMap<string, number>;
}

/** The devices the placement puts in `where` (the interrupt controllers apart), created on `domain`. */
export function createDevices(placement: Placement, where: Where, domain: DeviceDomain, board: BoardOptions = {}, releases: Release[] = [], sinks: Sinks = {}): Created[] {
  const created: Created[] = [];
  const shared: Shared = {};
  const contexts = new Map<DeviceName, DeviceContext>();
  /** One context per device, its irq output n on the board's line for it (the HPET's legacy routes apart). */
  const contextOf = (name: DeviceName): DeviceContext => {
    let context = contexts.get(name);
    if (context === undefined) {
      const gsis = PC_BOARD[name]?.gsis ?? [];
      context = domain.context(name, (output) => gsis[output] ?? output);
      contexts.set(name, context);
    }
    return context;
  };
  for (const [name, at] of Object.entries(placement.devices) as [DeviceName, Where][]) {
    if (at !== where || IRQCHIP_PARTS.includes(name)) continue;
    const slot = PC_BOARD[name];
    if (slot === undefined) continue;
    const device = create(name, contextOf(name), placement, board, releases, shared, contextOf, sinks);
    if (device === undefined) continue;
    placeOnBoard(domain, name, device);
    created.push({ name, device, bases: new Map(slot.regions.map((r) => [r.region, r.base])) });
  }
  return created;
}

/**
 * Places `device` on `domain` at the board's addresses for `name`, its state
 * reachable by name. A region that is not the size of its window on the
 * board is a board mistake, refused before anything is mapped.
 */
export function placeOnBoard(domain: DeviceDomain, name: DeviceName, device: Device): void {
  const slot: BoardSlot | undefined = PC_BOARD[name];
  if (slot === undefined) throw new RangeError(`the board has no place for ${name}`);
  for (const window of slot.regions) {
    const region = device.regions.find((r) => r.name === window.region);
    if (region !== undefined && region.length !== window.length) {
      throw new RangeError(`the board gives ${name} ${window.region} ${window.length} bytes, the device's region has ${region.length}`);
    }
  }
  domain.attach(name, device, slot.regions);
}

/** Devices the placement names that this build does not model. */
export function unmodelledDevices(placement: Placement): DeviceName[] {
  return (Object.entries(placement.devices) as [DeviceName, Where][])
    .filter(([name, at]) => at !== 'absent' && !MODELLED.includes(name))
    .map(([name]) => name);
}
