/**
 * One DMA channel as a device on the ISA bus sees it: a DREQ line to raise,
 * and, once the controller grants the channel, transfers between the
 * device's buffer and guest memory. The controller decides where the bytes
 * go (address, page, direction of counting) and when the transfer ends
 * (terminal count); the device decides how many bytes it offers or wants.
 *
 * A device attaches one service routine. The controller calls it, at once,
 * whenever the channel is granted: DREQ (or a software request) asserted,
 * the channel unmasked, its controller enabled, its mode not cascade, and —
 * for channels 0–3 — channel 4 unmasked in cascade mode, which is how the PC
 * wires the first controller through the second. Inside the routine the
 * device calls `writeMemory` / `readMemory` as often as it likes; each moves
 * what it can up to terminal count and says whether it reached it.
 *
 * Live handle, not state: the pair creates its eight channels once, and a
 * device keeps the one it was given across the pair's `setState`.
 */

/** How one call moved data: `bytes` moved (or counted, for verify), and whether the count ran out (EOP). */
export interface DmaTransfer {
  readonly bytes: number;
  readonly terminalCount: boolean;
}

/** The transfer type of a channel's mode register: write = device → memory, read = memory → device. */
export type DmaTransferType = 'verify' | 'write' | 'read' | 'illegal';

/** A host wiring error: two devices on one channel, or a device on the cascade channel. */
export class DmaConfigError extends Error {
  override readonly name = 'DmaConfigError';
}

/** What a channel needs from the pair that owns it. */
export interface DmaChannelHost {
  setRequest(channel: number, level: boolean): void;
  granted(channel: number): boolean;
  transferType(channel: number): DmaTransferType;
  autoInitialize(channel: number): boolean;
  transfer(channel: number, buffer: Uint8Array, toMemory: boolean): DmaTransfer;
  attach(channel: number, service: () => void): void;
}

export class DmaChannel {
  /** 0–7, as the PC numbers them. */
  readonly number: number;
  /** Bytes per transfer: 1 on channels 0–3, 2 (a word) on 4–7. */
  readonly width: 1 | 2;
  private readonly host: DmaChannelHost;

  constructor(host: DmaChannelHost, number: number) {
    this.host = host;
    this.number = number;
    this.width = number >= 4 ? 2 : 1;
  }

  /** Attaches the device's service routine (one device per channel; not channel 4). */
  attach(service: () => void): void {
    this.host.attach(this.number, service);
  }

  /** Drives the channel's DREQ line. Raising it on a granted channel calls the service routine before returning. */
  setRequest(level: boolean): void {
    this.host.setRequest(this.number, level);
  }

  /** Whether a transfer would move data now. */
  get granted(): boolean {
    return this.host.granted(this.number);
  }

  get transferType(): DmaTransferType {
    return this.host.transferType(this.number);
  }

  get autoInitialize(): boolean {
    return this.host.autoInitialize(this.number);
  }

  /**
   * Device → memory (a DMA *write* transfer). Moves whole transfers (words on
   * channels 4–7) from the start of `data`, up to terminal count. Nothing
   * moves while the channel is not granted.
   */
  writeMemory(data: Uint8Array): DmaTransfer {
    return this.host.transfer(this.number, data, true);
  }

  /** Memory → device (a DMA *read* transfer) into the start of `into`, up to terminal count. */
  readMemory(into: Uint8Array): DmaTransfer {
    return this.host.transfer(this.number, into, false);
  }
}
