import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ReadContext } from '../src/replay.ts';
import { TIME_DEPENDENT, addReplayCommand, classifyRead, replayRecords, replayTrace } from '../src/replay.ts';
import type { TraceRecord } from '@splitvisor/traces';

const TRACES = fileURLToPath(new URL('../../../../shared/traces/', import.meta.url));
const trace = (name: string) => `${TRACES}${name}.jsonl.gz`;

const pio = (t: number, op: 'r' | 'w', addr: number, value: number, mr: string, size: 1 | 2 | 4 = 1): TraceRecord => ({ t, kind: 'pio', op, addr, size, value, mr });

/** Each class once: what this board answers at power-on is in the comments. */
const RECORDS: readonly TraceRecord[] = [
  pio(0, 'w', 0x70, 0x0a, 'rtc-index'),
  pio(1000, 'r', 0x71, 0xa6, 'rtc'), // ours 26h: only UIP differs → time-dependent
  pio(2000, 'w', 0x70, 0x8c, 'rtc-index'), // NMI-disable bit set: still register C
  pio(3000, 'r', 0x71, 0x00, 'rtc'), // register C, equal → identical although time-dependent
  pio(4000, 'w', 0x70, 0x15, 'rtc-index'),
  pio(5000, 'r', 0x71, 0x00, 'rtc'), // base memory low byte (ours 80h, 640 KiB): QEMU's -m → configuration-dependent
  pio(6000, 'r', 0x21, 0xb8, 'pic'), // IMR: ours 0 → mismatch
  pio(7000, 'r', 0x3fd, 0x60, 'serial'), // LSR THRE|TEMT: equal → identical
  pio(7500, 'r', 0x3fd, 0x61, 'serial'), // data ready differs: not a time bit → mismatch
  pio(8000, 'w', 0xcf8, 0x8000_0000, 'pci-conf-idx', 4),
  pio(8100, 'r', 0xcfc, 0x1237_8086, 'pci-conf-data', 4), // the i440FX's IDs, equal → identical
  pio(8200, 'w', 0x403, 0x41, 'io'), // unassigned (402h is the debug console's)
  pio(8300, 'r', 0x177, 0x50, 'ide'), // the secondary channel: not on this board
];

describe('replay of records', () => {
  it('sorts every read into identical, time-, configuration-dependent or mismatch, and counts the unmodelled by region', async () => {
    const report = await replayRecords('inline', RECORDS, { profile: 'kvm-irqchip' });
    expect(report).toMatchObject({ trace: 'inline', profile: 'kvm-irqchip', irqchip: 'in-kernel', records: 13, reads: 8, writes: 5, spanNs: 8300 });
    const rtc = report.fidelity.find((f) => f.mr === 'rtc');
    expect(rtc).toMatchObject({ device: 'rtc', reads: 3, identical: 1, timeDependent: 1, configurationDependent: 1, mismatches: 0, identicalPercent: 100 });
    expect(report.fidelity.find((f) => f.mr === 'pic')).toMatchObject({
      device: 'pic', reads: 1, mismatches: 1, identicalPercent: 0, firstMismatches: [{ t: 6000, at: '0x21', size: 1, ours: '0x0', qemu: '0xb8' }],
    });
    expect(report.fidelity.find((f) => f.mr === 'serial')).toMatchObject({ reads: 2, identical: 1, mismatches: 1, identicalPercent: 50 });
    expect(report.fidelity.find((f) => f.mr === 'pci-conf-data')).toMatchObject({ device: 'pci', reads: 1, identical: 1, identicalPercent: 100 });
    expect(report.unmodelled).toEqual([
      { mr: 'ide', reads: 1, writes: 0 },
      { mr: 'io', reads: 0, writes: 1 },
    ]);
    expect(report.target).toEqual({ percent: 99.5, met: false, below: ['pic (pic)', 'serial (serial)'] });
    expect(report.explainedBy.map((e) => `${e.class}: ${e.device} ${e.reads}`)).toEqual(['configuration-dependent: rtc 1', 'time-dependent: rtc 1']);
    // kvm-irqchip coalesces the RTC index writes (QEMU's coalesced PIO at 70h): only the data reads reach userspace.
    expect(report.exitsByDevice.rtc).toEqual({ kernel: 3, user: 3 });
    expect(report.crossingsByDevice.rtc).toEqual({ monitor: 6, kernel: 6, user: 3 });
    expect(report.heavyweightExits).toBeGreaterThan(0);
    expect(report.overheadCycles).toBeGreaterThan(0);
  });

  it('counts a device the profile leaves out as unmodelled', async () => {
    const report = await replayRecords('inline', RECORDS, { profile: 'firecracker' }); // no RTC there
    expect(report.fidelity.map((f) => f.mr)).toEqual(['pic', 'serial']);
    expect(report.unmodelled.filter((u) => u.mr.startsWith('rtc'))).toEqual([{ mr: 'rtc', reads: 3, writes: 0 }, { mr: 'rtc-index', reads: 0, writes: 3 }]);
  });

  it('replays only the first --limit records', async () => {
    const report = await replayRecords('inline', RECORDS, { profile: 'qemu-tcg', limit: 2 });
    expect(report).toMatchObject({ records: 2, reads: 1, writes: 1, costModel: 'tcg', irqchip: 'userspace' });
  });

  it('turns an unknown profile or cost model into one line for the user', async () => {
    await expect(replayRecords('inline', RECORDS, { profile: 'no-such' })).rejects.toThrow(/unknown profile "no-such"/);
    await expect(replayRecords('inline', RECORDS, { profile: 'kvm-irqchip', costModel: 'no-such' })).rejects.toThrow(/unknown cost model "no-such"/);
  });
});

describe('read classification', () => {
  const context = (record: TraceRecord, rtcIndex = 0): ReadContext => ({ record, rtcIndex, identifyWord: -1, picReadsIsr: [false, false] });

  it('explains a difference only by the time-dependent bits of a named register', () => {
    expect(classifyRead(context(pio(0, 'r', 0x61, 0x20, 'pcspk')), 0x00).class).toBe('time-dependent'); // OUT2
    expect(classifyRead(context(pio(0, 'r', 0x61, 0x21, 'pcspk')), 0x00).class).toBe('mismatch'); // the gate is the guest's
    expect(classifyRead(context(pio(0, 'r', 0x71, 0x12, 'rtc'), 0x00), 0x59).class).toBe('time-dependent'); // seconds
    expect(classifyRead(context(pio(0, 'r', 0x71, 0x12, 'rtc'), 0x0b), 0x59).class).toBe('mismatch'); // register B is not
    expect(classifyRead(context(pio(0, 'r', 0x1f7, 0xd0, 'ide')), 0x58).class).toBe('time-dependent'); // still busy in QEMU
    expect(classifyRead(context(pio(0, 'r', 0x1f7, 0x50, 'ide')), 0x58).class).toBe('mismatch'); // neither busy
    expect(classifyRead(context(pio(0, 'r', 0x608, 5, 'acpi-tmr', 4)), 5).class).toBe('identical');
  });

  it('justifies every time-dependent register', () => {
    for (const register of TIME_DEPENDENT) expect(register.why.length, register.register).toBeGreaterThan(40);
  });

  it("sets apart the bus master's Active bit (the PRD table is in guest memory) and an LVT mask QEMU's TCG APIC leaves clear", () => {
    expect(classifyRead(context(pio(0, 'r', 0xc002, 0x04, 'piix-bmdma')), 0x05).class).toBe('memory-dependent');
    expect(classifyRead(context(pio(0, 'r', 0xc002, 0x04, 'piix-bmdma')), 0x06).class).toBe('mismatch'); // the error bit is not memory
    const lvt0 = { t: 0, kind: 'mmio', op: 'r', addr: 0xfee0_0350, size: 4, value: 0x8700, mr: 'apic-msi' } as const;
    expect(classifyRead(context(lvt0), 0x1_8700).class).toBe('qemu-deviates');
    expect(classifyRead(context({ ...lvt0, value: 0x1_8700 }), 0x8700).class).toBe('mismatch'); // unmasked where QEMU masked: ours
  });

  it('counts IDENTIFY product strings as image-dependent, and other IDENTIFY words not', () => {
    const data = pio(0, 'r', 0x1f0, 0x514d, 'ide', 2);
    expect(classifyRead({ ...context(data), identifyWord: 10 }, 0x5356).class).toBe('image-dependent'); // serial number
    expect(classifyRead({ ...context(data), identifyWord: 49 }, 0x5356).class).toBe('mismatch'); // capabilities
  });

  it('counts the FUA bit of IDENTIFY words 84 and 87 (offered here, not by QEMU\'s disk) as configuration, and nothing beside it', () => {
    const word84 = { ...context(pio(0, 'r', 0x1f0, 0x4000, 'ide', 2)), identifyWord: 84 };
    expect(classifyRead(word84, 0x4040).class).toBe('configuration-dependent');
    expect(classifyRead(word84, 0x4041).class).toBe('mismatch');
    const words86and87 = { ...context(pio(0, 'r', 0x1f0, 0x4000_3400, 'ide', 4)), identifyWord: 86 }; // a 32-bit read: 87 is the high half
    expect(classifyRead(words86and87, 0x4040_3400).class).toBe('configuration-dependent');
    expect(classifyRead(words86and87, 0x4000_3440).class).toBe('mismatch'); // word 86's bit 6 is another feature's
    expect(classifyRead({ ...word84, identifyWord: -1 }, 0x4040).class).toBe('mismatch'); // not IDENTIFY data
  });
});

describe('the replay command', () => {
  afterEach(() => { vi.restoreAllMocks(); });

  async function run(...args: string[]): Promise<string> {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: string) => { lines.push(line); });
    const program = new Command().exitOverride();
    addReplayCommand(program);
    await program.parseAsync(['replay', ...args], { from: 'user' });
    vi.restoreAllMocks();
    return lines.join('\n');
  }

  it.skipIf(!existsSync(trace('seabios-post')))('prints the same JSON, byte for byte, run after run', async () => {
    const first = await run(trace('seabios-post'), '--profile', 'kvm-irqchip', '--limit', '3000', '--json');
    expect(await run(trace('seabios-post'), '--profile', 'kvm-irqchip', '--limit', '3000', '--json')).toBe(first);
    expect(JSON.parse(first)).toMatchObject({ trace: 'seabios-post.jsonl.gz', records: 3000 });
    const text = await run(trace('seabios-post'), '--profile', 'kvm-split', '--limit', '3000');
    expect(text).toMatch(/^replay of seabios-post.jsonl.gz under kvm-split \(split irqchip/);
    expect(text).toMatch(/unmodelled \(by QEMU region\): .*apm-io/);
  });
});

/**
 * The shared traces under kvm-irqchip, whole: every device meets the target.
 * Two kinds of read are set apart, each asserted here: the PIIX bus master's
 * Active bit after a DMA transfer, which depends on the PRD table in guest
 * memory the trace does not hold; and one read of the local APIC's LVT
 * LINT0 after a software disable and re-enable — Intel SDM 3A 11.4.7.2 (and
 * KVM) mask every LVT entry on software disable, QEMU's TCG APIC, which
 * recorded the traces, does not.
 */
describe.skipIf(!existsSync(trace('seabios-post')))('fidelity on the shared traces', () => {
  for (const name of ['seabios-post', 'linux-boot-serial', 'linux-boot-vga']) {
    it(name, async () => {
      const report = await replayTrace(trace(name), { profile: 'kvm-irqchip', disk: 'blank', floppy: 'blank' }); // the media they were recorded with
      expect(report.target).toEqual({ percent: 99.5, met: true, below: [] });
      expect(report.fidelity.map((f) => f.device)).toEqual(expect.arrayContaining(['disk', 'pic', 'pm-timer', 'rtc', 'keyboard']));
      const lapic = report.fidelity.find((f) => f.device === 'lapic');
      const busMaster = report.fidelity.find((f) => f.mr === 'piix-bmdma');
      if (name === 'seabios-post') expect([lapic?.qemuDeviates, busMaster]).toEqual([0, undefined]);
      else {
        expect(lapic?.qemuDeviates).toBe(1);
        expect(busMaster).toMatchObject({ device: 'disk', mismatches: 0 });
        expect(busMaster?.memoryDependent).toBeGreaterThan(0);
      }
    }, 60_000);
  }
});
