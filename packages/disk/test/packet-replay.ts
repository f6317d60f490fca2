// Replay of the shared traces' secondary IDE channel (170h–177h, 376h, bus master C008h–C00Fh): QEMU's empty ATAPI
// DVD-ROM as master, no slave. SeaBIOS probes it (IDENTIFY PACKET DEVICE, TEST UNIT READY + REQUEST SENSE three times,
// READ(10) of the boot record at boot); Linux's libata resets and identifies it and the SCSI scan sends TEST UNIT READY,
// INQUIRY, the VPD pages 00h and 83h and REQUEST SENSE.
//
// The drive is given QEMU's identity strings. Reads are compared with QEMU's answers; a read is classed apart only when
// this drive answers differently by design, and then it must equal QEMU's value transformed in exactly the way that
// design says (never just "different"):
//   - configuration: the identity strings of IDENTIFY PACKET DEVICE (words 10–19, 23–26, 27–46) and INQUIRY (bytes
//     8–35) — equal, given QEMU's strings;
//   - Status 00h at power-on (ATA/ATAPI-6: a PACKET device's DRDY is clear after any reset; QEMU shows 50h until its
//     first SRST);
//   - IDENTIFY PACKET DEVICE words 82–87: the PACKET, DEVICE RESET and power-management feature sets (QEMU: zero);
//   - the UNIT ATTENTION pending after power-on (SAM-3): the first TEST UNIT READY fails with sense key 6 (Error 60h,
//     QEMU 20h) and the REQUEST SENSE after it reports 06h/29h (QEMU 02h/3Ah);
//   - the sense VALID bit, set only when INFORMATION means something (SPC-3; QEMU always sets it);
//   - INQUIRY's Device Identification page (83h), which Linux asks for with an allocation length of 4 after finding it
//     in page 00h: QEMU fails it (ILLEGAL REQUEST, 4Bh), this drive sends the page's first 4 bytes. Linux, having seen
//     QEMU fail, then loads the task file for REQUEST SENSE; here the drive still holds DRQ for those 4 bytes, so the
//     replay reads them (the one thing it adds to the trace, counted as a drain) before passing the first register
//     write on. Until that REQUEST SENSE is sent the registers show a command that sends (58h, I/O, 4 bytes) and then
//     completed GOOD (50h, C/D + I/O), and the REQUEST SENSE reports no sense.
import type { AccessSize, Device, IoRegion } from '@splitvisor/abi';
import type { TestContext, TraceAccess } from '@splitvisor/device-testkit';
import type { AtaChannel, AtaChannelState, AtapiDriveConfig } from '../src/index.ts';
import { Command, OperationCode, Status } from '../src/index.ts';

/** QEMU's pc machine: the PIIX3 IDE secondary channel at 170h/376h, its bus master at BMIBA (C000h, as SeaBIOS sets BAR4) + 8. */
export const SECONDARY_PLACEMENTS = [
  { space: 'port', base: 0x170, length: 8, region: 'command' },
  { space: 'port', base: 0x376, length: 1, region: 'control' },
  { space: 'port', base: 0xc008, length: 8, region: 'bus-master' },
] as const;

/** QEMU 7.2's `ide-cd` on the secondary master, as its IDENTIFY PACKET DEVICE and INQUIRY data name it. */
export const QEMU_CDROM: AtapiDriveConfig = { kind: 'cdrom', model: 'QEMU DVD-ROM', serial: 'QM00003', firmware: '2.5+', vendor: 'QEMU' };

export const PACKET_CLASS = {
  identifyStrings: 'configuration: IDENTIFY PACKET DEVICE serial/firmware/model',
  inquiryStrings: 'configuration: INQUIRY vendor/product/revision',
  powerOnStatus: 'deliberate: Status 00h at power-on',
  featureWords: 'deliberate: IDENTIFY PACKET DEVICE words 82–87',
  powerOnAttention: 'deliberate: UNIT ATTENTION after power-on',
  senseValid: 'deliberate: sense VALID only with INFORMATION',
  deviceIdentification: 'deliberate: VPD page 83h answered',
} as const;

export const CONFIGURATION_CLASSES: readonly string[] = [PACKET_CLASS.identifyStrings, PACKET_CLASS.inquiryStrings];

/** Our IDENTIFY PACKET DEVICE words 82–87 (QEMU's are zero). */
const FEATURE_WORDS = new Map([[82, 0x0218], [83, 0x4000], [84, 0x4000], [85, 0x0218], [86, 0x0000], [87, 0x4000]]);
const IDENTITY_WORDS = (word: number) => (word >= 10 && word < 20) || (word >= 23 && word < 47);
const UNIT_ATTENTION_EXEMPT: ReadonlySet<number> = new Set([
  OperationCode.INQUIRY, OperationCode.REQUEST_SENSE, OperationCode.GET_CONFIGURATION, OperationCode.GET_EVENT_STATUS_NOTIFICATION,
]);

/** A byte of QEMU's answer this drive answers differently: its value from QEMU's, and the class that explains it. */
type Patch = { readonly cls: string; readonly ours: (qemu: number) => number };

/** What the read just made was: enough to class it once QEMU's value is known. */
type ReadContext =
  | { readonly kind: 'data'; readonly offset: number; readonly size: number; readonly patches: ReadonlyMap<number, Patch>; readonly strings: string | undefined }
  | { readonly kind: 'register'; readonly addr: number; readonly cls: string; readonly ours: number };

export class PacketReplayObserver implements Device {
  readonly model: string;
  readonly regions: readonly IoRegion[];
  /** Data-port reads the replay added to take the page-83h bytes Linux never read from QEMU, and when. */
  drains = 0;
  drainedAt: number | undefined;
  /** When the replay sent the VPD page 83h packet (ns), if it did. */
  divergedAt: number | undefined;
  private last: ReadContext | undefined;
  private readonly ata: AtaChannel;
  private readonly context: TestContext;
  /** No reset and no command yet: Status shows the power-on value. */
  private poweredOn = true;
  private selected = 0;
  private command = -1;
  private packet: number[] = [];
  private receivingPacket = false;
  private dataOffset = 0;
  /** The power-on UNIT ATTENTION: pending, reported by a command (its Error read differs), then in REQUEST SENSE's data. */
  private attention: 'pending' | 'reported' | 'in-sense' | 'gone' = 'pending';
  /** After VPD page 83h: the drive holds its bytes (`sending`), has completed (`drained`), and its REQUEST SENSE says no sense (`no-sense`). */
  private divergence: 'none' | 'sending' | 'drained' | 'no-sense' = 'none';
  private pageBytes = 0;

  constructor(ata: AtaChannel, context: TestContext) {
    this.ata = ata;
    this.context = context;
    this.model = ata.model;
    this.regions = ata.regions;
  }

  read(region: string, offset: number, size: AccessSize): number {
    this.last = this.readContext(region, offset, size);
    return this.ata.read(region, offset, size);
  }

  private readContext(region: string, offset: number, size: AccessSize): ReadContext | undefined {
    const addr = region === 'command' ? 0x170 + offset : region === 'control' ? 0x376 : 0xc008 + offset;
    if (this.poweredOn && (addr === 0x177 || addr === 0x376)) return { kind: 'register', addr, cls: PACKET_CLASS.powerOnStatus, ours: 0x00 };
    if (this.selected !== 0) return undefined;
    if (region === 'command' && offset === 0) {
      const at = this.dataOffset;
      this.dataOffset += size;
      return { kind: 'data', offset: at, size, ...this.dataPatches(at, size) };
    }
    if (this.divergence === 'sending' || this.divergence === 'drained') {
      const sending = this.divergence === 'sending';
      const expected: Record<number, number> = {
        0x171: 0x00, 0x172: sending ? 0x02 : 0x03, 0x174: this.pageBytes & 0xff, 0x175: this.pageBytes >> 8, 0x177: sending ? 0x58 : 0x50, 0x376: sending ? 0x58 : 0x50,
      };
      const ours = expected[addr];
      return ours === undefined ? undefined : { kind: 'register', addr, cls: PACKET_CLASS.deviceIdentification, ours };
    }
    if (this.attention === 'reported' && addr === 0x171) return { kind: 'register', addr, cls: PACKET_CLASS.powerOnAttention, ours: 0x60 };
    return undefined;
  }

  private dataPatches(at: number, size: number): { patches: ReadonlyMap<number, Patch>; strings: string | undefined } {
    const patches = new Map<number, Patch>();
    let strings: string | undefined;
    const bytes = Array.from({ length: size }, (_, i) => at + i);
    if (this.command === Command.IDENTIFY_PACKET_DEVICE) {
      for (const b of bytes) {
        const word = b >> 1;
        const ours = FEATURE_WORDS.get(word);
        if (ours !== undefined) patches.set(b, { cls: PACKET_CLASS.featureWords, ours: () => (b & 1 ? ours >> 8 : ours & 0xff) });
        if (IDENTITY_WORDS(word)) strings = PACKET_CLASS.identifyStrings;
      }
    }
    if (this.command === Command.PACKET && this.packet[0] === OperationCode.INQUIRY && ((this.packet[1] ?? 0) & 1) === 0) {
      if (bytes.some((b) => b >= 8 && b < 36)) strings = PACKET_CLASS.inquiryStrings;
    }
    if (this.command === Command.PACKET && this.packet[0] === OperationCode.REQUEST_SENSE) {
      patches.set(0, { cls: PACKET_CLASS.senseValid, ours: (q) => q & 0x7f });
      if (this.attention === 'in-sense') {
        for (const [b, v] of [[2, 0x06], [12, 0x29], [13, 0x00]] as const) patches.set(b, { cls: PACKET_CLASS.powerOnAttention, ours: () => v });
      }
      if (this.divergence === 'no-sense') {
        for (const b of [2, 12, 13]) patches.set(b, { cls: PACKET_CLASS.deviceIdentification, ours: () => 0 });
      }
    }
    for (const b of [...patches.keys()]) if (!bytes.includes(b)) patches.delete(b);
    return { patches, strings };
  }

  write(region: string, offset: number, size: AccessSize, value: number): void {
    if ((region === 'control' && (value & 0x04) !== 0) || (region === 'command' && offset === 7)) this.poweredOn = false;
    if (region === 'command' && offset >= 1 && this.divergence === 'sending') this.drain();
    if (region === 'command' && offset === 6) this.selected = (value >> 4) & 1;
    if (region === 'command' && offset === 7 && this.selected === 0) this.commandWritten(value & 0xff);
    this.ata.write(region, offset, size, value);
    if (region === 'command' && offset === 0 && this.receivingPacket) {
      for (let i = 0; i < size; i++) this.packet.push(Math.floor(value / 256 ** i) & 0xff);
      if (this.packet.length >= 12) this.packetSent();
    }
  }

  private commandWritten(code: number): void {
    this.command = code;
    this.dataOffset = 0;
    this.packet = [];
    this.receivingPacket = code === Command.PACKET;
    if (this.attention === 'reported') this.attention = code === Command.PACKET ? 'in-sense' : 'gone';
    else if (this.attention === 'in-sense') this.attention = 'gone';
    if (this.divergence === 'drained') this.divergence = 'no-sense';
    else if (this.divergence === 'no-sense') this.divergence = 'none';
  }

  private packetSent(): void {
    this.receivingPacket = false;
    const [opcode = 0, flags = 0, page = 0, high = 0, low = 0] = this.packet;
    if (this.attention === 'in-sense' && opcode !== OperationCode.REQUEST_SENSE) this.attention = 'gone';
    if (this.divergence === 'no-sense' && opcode !== OperationCode.REQUEST_SENSE) this.divergence = 'none';
    if (this.attention === 'pending' && !UNIT_ATTENTION_EXEMPT.has(opcode)) this.attention = 'reported';
    if (opcode === OperationCode.INQUIRY && (flags & 1) !== 0 && page === 0x83) {
      const pageLength = 8 + 8 + 16 + (QEMU_CDROM.serial ?? '').length;
      this.pageBytes = Math.min(pageLength, (high << 8) | low);
      this.divergence = 'sending';
      this.divergedAt = this.context.now();
    }
  }

  /** Reads what the drive still offers (the page-83h bytes Linux never read from QEMU), as a driver would before moving on. */
  private drain(): void {
    this.drainedAt = this.context.now();
    while ((this.ata.read('control', 0, 1) & Status.DRQ) !== 0) {
      this.ata.read('command', 0, 2);
      this.drains++;
    }
    this.divergence = 'drained';
  }

  /** The class of the read just made, if this drive answers it differently by design (and differently it is). */
  classOf(access: TraceAccess): string | undefined {
    const last = this.last;
    if (last === undefined) return undefined;
    if (last.kind === 'register') return last.ours === access.value ? undefined : last.cls;
    if (this.transformed(access) === access.value) return last.strings;
    const differing = [...last.patches.values()].map((p) => p.cls);
    const order = [PACKET_CLASS.powerOnAttention, PACKET_CLASS.deviceIdentification, PACKET_CLASS.featureWords, PACKET_CLASS.senseValid];
    const cls = order.find((c) => differing.includes(c));
    return cls ?? last.strings;
  }

  /** Whether `ours` is QEMU's answer transformed exactly as the read's class says. */
  expected(access: TraceAccess, ours: number): boolean {
    return ours === this.transformed(access);
  }

  /** QEMU's answer to the read just made, as this drive should give it. */
  private transformed(access: TraceAccess): number {
    const last = this.last;
    if (last === undefined) return access.value;
    if (last.kind === 'register') return last.ours;
    let value = 0;
    for (let i = last.size - 1; i >= 0; i--) {
      const qemu = Math.floor(access.value / 256 ** i) & 0xff;
      const patch = last.patches.get(last.offset + i);
      value = value * 256 + (patch === undefined ? qemu : patch.ours(qemu));
    }
    return value;
  }

  getState(): AtaChannelState { return this.ata.getState(); }
  setState(): void { throw new Error('not used'); }
  anomalies(): Readonly<Record<string, number>> { return this.ata.anomalies(); }
}
