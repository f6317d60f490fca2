// The floppy controller as the PC wires it — on DMA channel 2 of an 8237 pair — and port helpers in a driver's words.
import type { AccessSize, Device, IoRegion } from '@splitvisor/abi';
import { expectState } from '@splitvisor/abi';
import type { Placement, TestContext, TraceAccess } from '@splitvisor/device-testkit';
import type { I8237PairState } from '@splitvisor/dma';
import { I8237Pair } from '@splitvisor/dma';
import type { FloppyDriveConfig, I82077aaState } from '../src/index.ts';
import { I82077aa, Msr, Register } from '../src/index.ts';

export type FdcBoardState = {
  readonly model: 'fdc-board';
  readonly version: 1;
  readonly dma: I8237PairState;
  readonly fdc: I82077aaState;
};

/** The PC's decoding (QEMU regions `dma-chan`/`dma-cont` at 00h and C0h, `dma-page` at 81h–8Fh, `fdc` at 3F1h–3F5h and 3F7h). */
export const PLACEMENTS: readonly Placement[] = [
  { space: 'port', base: 0x00, length: 16, region: 'controller-8' },
  { space: 'port', base: 0x81, length: 15, region: 'page' },
  { space: 'port', base: 0xc0, length: 32, region: 'controller-16' },
  { space: 'port', base: 0x3f0, length: 6, region: 'registers' },
  { space: 'port', base: 0x3f7, length: 1, region: 'dir-ccr' },
];

/** A trace record of the floppy controller's ports (3F0h–3F5h, 3F7h; 3F6h is the IDE controller's). */
export const isFloppy = (a: TraceAccess): boolean => a.kind === 'pio' && ((a.addr >= 0x3f0 && a.addr <= 0x3f5) || a.addr === 0x3f7);

/** Both chips as one device (regions keep their own names), so suites and replays drive them together. */
export class FdcBoard implements Device<FdcBoardState> {
  readonly model = 'fdc-board' as const;
  readonly regions: readonly IoRegion[];
  readonly dma: I8237Pair;
  readonly fdc: I82077aa;

  constructor(context: TestContext, drives?: readonly (FloppyDriveConfig | undefined)[]) {
    this.dma = new I8237Pair(context);
    this.fdc = new I82077aa(context, drives === undefined ? { dma: this.dma.channel(2) } : { dma: this.dma.channel(2), drives });
    this.regions = [...this.dma.regions, ...this.fdc.regions];
  }

  private owner(region: string): Device {
    return this.fdc.regions.some((r) => r.name === region) ? this.fdc : this.dma;
  }

  read(region: string, offset: number, size: AccessSize): number {
    return this.owner(region).read(region, offset, size);
  }

  write(region: string, offset: number, size: AccessSize, value: number): void {
    this.owner(region).write(region, offset, size, value);
  }

  getState(): FdcBoardState {
    return { model: 'fdc-board', version: 1, dma: this.dma.getState(), fdc: this.fdc.getState() };
  }

  setState(state: FdcBoardState): void {
    expectState(state, 'fdc-board', 1);
    this.dma.setState(state.dma);
    this.fdc.setState(state.fdc);
  }

  anomalies(): Readonly<Record<string, number>> {
    return { ...this.dma.anomalies(), ...this.fdc.anomalies() };
  }
}

export interface FdcPorts {
  out(port: number, value: number): void;
  in(port: number): number;
  dmaOut(port: number, value: number): void;
  dmaIn(port: number): number;
  msr(): number;
  /** Writes a command as drivers do: each byte only once MSR shows RQM without DIO. */
  command(...bytes: number[]): void;
  /** Reads result bytes while MSR shows RQM with DIO (and not NON-DMA). */
  results(): number[];
  /** SeaBIOS dma_setup at POST: both controllers master-cleared, channel 4 cascade, unmasked. */
  biosDmaSetup(): void;
  /** Programs channel 2 as floppy drivers do: mask, clear flip-flop, address, count, mode, page, unmask. */
  dmaChannel2(address: number, bytes: number, mode: number, unmask?: boolean): void;
}

/** Port helpers: FDC registers by port (3F7h is `dir-ccr`), DMA registers by port. */
export function ports(board: Device): FdcPorts {
  const fdcOut = (port: number, value: number): void => {
    if (port === 0x3f7) board.write('dir-ccr', 0, 1, value);
    else board.write('registers', port - 0x3f0, 1, value);
  };
  const fdcIn = (port: number): number => (port === 0x3f7 ? board.read('dir-ccr', 0, 1) : board.read('registers', port - 0x3f0, 1));
  const dmaOut = (port: number, value: number): void => {
    if (port < 0x10) board.write('controller-8', port, 1, value);
    else if (port >= 0x81 && port <= 0x8f) board.write('page', port - 0x81, 1, value);
    else board.write('controller-16', port - 0xc0, 1, value);
  };
  const dmaIn = (port: number): number => {
    if (port < 0x10) return board.read('controller-8', port, 1);
    if (port >= 0x81 && port <= 0x8f) return board.read('page', port - 0x81, 1);
    return board.read('controller-16', port - 0xc0, 1);
  };
  return {
    out: fdcOut,
    in: fdcIn,
    dmaOut,
    dmaIn,
    msr: () => fdcIn(0x3f4),
    command(...bytes: number[]): void {
      for (const byte of bytes) {
        const msr = fdcIn(0x3f4);
        if ((msr & (Msr.RQM | Msr.DIO)) !== Msr.RQM) throw new Error(`MSR ${msr.toString(16)}h does not take a command byte`);
        fdcOut(0x3f5, byte);
      }
    },
    results(): number[] {
      const out: number[] = [];
      for (let i = 0; i < 16; i++) {
        const msr = fdcIn(0x3f4);
        if ((msr & (Msr.RQM | Msr.DIO | Msr.NON_DMA)) !== (Msr.RQM | Msr.DIO)) break;
        out.push(fdcIn(0x3f5));
      }
      return out;
    },
    biosDmaSetup(): void {
      dmaOut(0x0d, 0);
      dmaOut(0xda, 0);
      dmaOut(0xd6, 0xc0);
      dmaOut(0xd4, 0);
    },
    dmaChannel2(address: number, bytes: number, mode: number, unmask = true): void {
      dmaOut(0x0a, 0x06);
      dmaOut(0x0c, 0);
      dmaOut(0x04, address & 0xff);
      dmaOut(0x04, (address >> 8) & 0xff);
      dmaOut(0x0c, 0);
      dmaOut(0x05, (bytes - 1) & 0xff);
      dmaOut(0x05, ((bytes - 1) >> 8) & 0xff);
      dmaOut(0x0b, mode);
      dmaOut(0x81, (address >> 16) & 0xff);
      if (unmask) dmaOut(0x0a, 0x02);
    },
  };
}

/** DMA mode bytes for channel 2: single mode, device → memory (a disk read) or memory → device (a disk write). */
export const DMA_READ_FROM_DISK = 0x46;
export const DMA_WRITE_TO_DISK = 0x4a;
export const DMA_VERIFY = 0x42;

/** An image whose every sector's bytes name it: byte i of LBA s is (s * 7 + i) & 0xff, with the LBA in the first two bytes. */
export function patterned(bytes: number): Uint8Array {
  const image = new Uint8Array(bytes);
  for (let s = 0; s < bytes / 512; s++) {
    for (let i = 0; i < 512; i++) image[s * 512 + i] = (s * 7 + i) & 0xff;
    image[s * 512] = s & 0xff;
    image[s * 512 + 1] = s >> 8;
  }
  return image;
}

export const lbaOf = (c: number, h: number, s: number, spt = 18): number => (c * 2 + h) * spt + s - 1;

export { Register };
