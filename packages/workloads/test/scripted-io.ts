// Drives a scripted guest without a VM: each port access goes to `device`, which may ask for an interrupt; the
// interrupt is injected when the guest can take it. Accesses are logged as "out 1f6 a0" / "in 1f7".
import type { ScriptedGuest } from '@splitvisor/scripted-guest';

export interface FakeDevice {
  in(port: number, size: number): number;
  out(port: number, value: number, size: number): void;
  /** A vector to inject as soon as the guest can take it, or undefined. */
  pending(): number | undefined;
}

export interface Driven {
  readonly log: string[];
  readonly tsc: number;
}

export function drive(guest: ScriptedGuest, device: FakeDevice, steps: number, cyclesPerStep = 0): Driven {
  const log: string[] = [];
  let tsc = 0;
  for (let i = 0; i < steps; i++) {
    const vector = device.pending();
    if (vector !== undefined && guest.interruptible) guest.inject(vector);
    const { exit, cycles } = guest.run(Number.POSITIVE_INFINITY, false, tsc);
    tsc += cycles + cyclesPerStep;
    if (exit.kind === 'io') {
      if (exit.direction === 'out') {
        let value = 0;
        for (let b = exit.data.length - 1; b >= 0; b--) value = value * 256 + (exit.data[b] ?? 0);
        log.push(`out ${exit.port.toString(16)} ${value.toString(16)}`);
        device.out(exit.port, value, exit.size);
      } else {
        log.push(`in ${exit.port.toString(16)}`);
        const value = device.in(exit.port, exit.size);
        const data = new Uint8Array(exit.size);
        for (let b = 0; b < exit.size; b++) data[b] = Math.floor(value / 256 ** b) & 0xff;
        guest.complete(data);
      }
    } else if (exit.kind === 'hlt') {
      if (device.pending() === undefined) break; // nothing will wake it
      log.push('hlt');
    } else if (exit.kind === 'shutdown') {
      break;
    }
  }
  return { log, tsc };
}

/** The entries of `log` that name one of `ports` (hex, as logged). */
export function onPorts(log: readonly string[], ports: readonly number[]): string[] {
  const names = new Set(ports.map((p) => p.toString(16)));
  return log.filter((entry) => names.has(entry.split(' ')[1] ?? ''));
}

/** A primary-channel ATA drive reduced to its protocol: status, DRQ blocks, INTRQ per block, IDENTIFY of `sectors`. */
export class FakeAta implements FakeDevice {
  status = 0x50;
  private words = 0;
  private blocksLeft = 0;
  private writing = false;
  private irq = false;
  private nien = false;
  private nsect = 0;
  private hobNsect = 0;
  readonly commands: number[] = [];
  readonly written: number[] = [];
  private readonly sectors: number;
  private readonly vector: number;
  constructor(sectors: number, vector: number) {
    this.sectors = sectors;
    this.vector = vector;
  }
  pending(): number | undefined {
    return this.irq && !this.nien ? this.vector : undefined;
  }
  in(port: number): number {
    if (port === 0x1f7) { this.irq = false; return this.status; }
    if (port === 0x3f6) return this.status;
    if (port === 0x1f0) {
      const word = this.identify(256 - this.words);
      this.consume();
      return word;
    }
    return 0;
  }
  out(port: number, value: number): void {
    if (port === 0x3f6) this.nien = (value & 2) !== 0;
    if (port === 0x1f2) { this.hobNsect = this.nsect; this.nsect = value; }
    if (port === 0x1f0) { this.written.push(value); this.consume(); }
    if (port !== 0x1f7) return;
    this.commands.push(value);
    const count = (value === 0x24 || value === 0x34 ? this.hobNsect * 256 + this.nsect : this.nsect) || (value === 0x24 || value === 0x34 ? 65536 : 256);
    if (value === 0xec || value === 0x20 || value === 0x24) { this.start(value === 0xec ? 1 : count, false); this.irq = true; }
    else if (value === 0x30 || value === 0x34) this.start(count, true);
    else { this.status = 0x50; this.irq = true; }
  }
  private identifyWord = 0;
  private identify(index: number): number {
    this.identifyWord = index;
    if (this.commands.at(-1) !== 0xec) return 0x1234;
    const words: Record<number, number> = { 60: this.sectors & 0xffff, 61: this.sectors >>> 16, 83: 0x4000 | 0x2400, 100: this.sectors & 0xffff, 101: this.sectors >>> 16 };
    return words[this.identifyWord] ?? 0;
  }
  private start(blocks: number, writing: boolean): void {
    this.blocksLeft = blocks;
    this.writing = writing;
    this.words = 256;
    this.status = 0x58;
  }
  private consume(): void {
    if (--this.words > 0) return;
    this.blocksLeft--;
    if (this.blocksLeft > 0) { this.words = 256; this.status = 0x58; } else this.status = 0x50;
    if (this.writing || this.blocksLeft > 0) this.irq = true;
  }
}
