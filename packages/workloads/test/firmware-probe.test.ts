// SeaBIOS's POST on the firmware devices, against the device models themselves (an isa-debugcon at 402h, port 92h,
// fw_cfg at 510h/514h, the i440FX's configuration space at CF8h/CFCh, LPT1 at 378h, the secondary IDE channel at
// 170h/376h with an empty CD-ROM) with a PM timer where the PIIX4's
// PM space is decoded, and against an empty bus, where it finds none of them.
import type { Device } from '@splitvisor/abi';
import { IsaDebugcon } from '@splitvisor/debugcon';
import { createTestContext } from '@splitvisor/device-testkit';
import { AtaChannel } from '@splitvisor/disk';
import { E820Type, FwCfg, qemuPcItems } from '@splitvisor/fw-cfg';
import { ParallelPort } from '@splitvisor/parallel';
import { I440fxPciHost, windowOf } from '@splitvisor/pci';
import { Port92 } from '@splitvisor/port92';
import { describe, expect, it } from 'vitest';
import { FIRMWARE_PROBE, SEABIOS_VERSION, firmwareProbe } from '../src/firmware-probe.ts';
import { resolveParameters } from '../src/workload.ts';
import type { Driver } from './guest-driver.ts';
import { drive, show } from './guest-driver.ts';

/** The guest's TSC rate (the driver's: 2 000 000 cycles a millisecond) and the PM timer's, ACPI 6.5 §4.8.3.3. */
const TSC_HZ = 2_000_000_000;
const PM_TIMER_HZ = 3_579_545;

/** The devices at the board's ports, behind the guest's `in` and `out`; PM_TMR where the PIIX4 decodes its PM space. */
function board() {
  const context = createTestContext();
  const debugcon = new IsaDebugcon();
  const port92 = new Port92(context);
  const fwCfg = new FwCfg(context, qemuPcItems({
    ramBytes: 32 << 20, cpus: 2, e820: [{ address: 0, length: 32 << 20, type: E820Type.RAM }],
    bootOrder: ['/pci@i0cf8/ide@1,1/drive@0/disk@0'], noGraphic: false, irq0Override: true,
  }));
  const pci = new I440fxPciHost(context, { ramBytes: 32 << 20 });
  const lpt1 = new ParallelPort();
  const ata1 = new AtaChannel(context, { master: { kind: 'cdrom' } });
  let clock: Driver | undefined;
  const pmTimer = (port: number): number | undefined => {
    const pm = windowOf(pci.decode(), 'piix4-pm', 'pm');
    if (pm?.enabled !== true || port !== pm.base + 8) return undefined;
    return Math.floor(((clock?.tsc() ?? 0) * PM_TIMER_HZ) / TSC_HZ) % 2 ** 24;
  };
  const at = (port: number): [Device, string, number] | undefined => {
    if (port === 0x402) return [debugcon, 'port', 0];
    if (port === 0x92) return [port92, 'control', 0];
    if (port === 0x510 || port === 0x511) return [fwCfg, 'selector-data', port - 0x510];
    if (port >= 0xcf8 && port < 0xcfc) return [pci, 'config-address', port - 0xcf8];
    if (port >= 0xcfc && port < 0xd00) return [pci, 'config-data', port - 0xcfc];
    if (port >= 0x378 && port < 0x37b) return [lpt1, 'registers', port - 0x378];
    if (port >= 0x170 && port < 0x178) return [ata1, 'command', port - 0x170];
    if (port === 0x376) return [ata1, 'control', 0];
    return undefined;
  };
  return {
    debugcon, port92, pci, lpt1, ata1,
    /** The clock the PM timer counts: the driver's TSC. */
    clockedBy: (driver: Driver) => { clock = driver; },
    answer: (_kind: 'in' | 'read', port: number, size: number) => {
      const timer = pmTimer(port);
      if (timer !== undefined) return timer;
      const found = at(port);
      const width = size === 4 ? 4 : size === 2 ? 2 : 1;
      return found === undefined ? 2 ** (8 * width) - 1 : found[0].read(found[1], found[2], width);
    },
    onWrite: (_kind: 'out' | 'write', port: number, value: number, size: number) => {
      const found = at(port);
      if (found !== undefined) found[0].write(found[1], found[2], size === 4 ? 4 : size === 2 ? 2 : 1, value);
    },
  };
}

/** A PC with the probe running on it, the PM timer on the driver's clock. */
function boot(options: Parameters<typeof firmwareProbe>[0] = {}) {
  const pc = board();
  const workload = firmwareProbe(options);
  const driver = drive(workload.guest, pc.answer, { onWrite: pc.onWrite });
  pc.clockedBy(driver);
  return { pc, workload, driver };
}

/** qemu_detect's four reads of 00:00.0, as pci_config_readw makes them: a dword to CF8h, a word at CFCh or CFEh. */
const QEMU_DETECT = [
  'out cf8=80000000/4', 'in cfc=8086/2', 'out cf8=80000000/4', 'in cfe=1237/2',
  'out cf8=8000002c/4', 'in cfc=1af4/2', 'out cf8=8000002c/4', 'in cfe=1100/2',
];

describe('firmware-probe', () => {
  it("probes the debug port, opens A20, finds QEMU's i440FX and fw_cfg as SeaBIOS's POST does", () => {
    const { pc, workload, driver } = boot();
    driver.step(12);
    const banner = Array.from('Sea', (c) => `out 402=${c.charCodeAt(0).toString(16)}`);
    expect(driver.log.slice(0, 4).map(show)).toEqual(['in 402=e9', ...banner]);
    driver.step(1_000, (a) => a.at === 0x92 && a.kind === 'out');
    expect(driver.log.filter((a) => a.at === 0x92).map(show)).toEqual(['in 92=0', 'out 92=2']);
    expect(pc.port92.a20()).toBe(true);
    expect(driver.step(8).map(show)).toEqual(QEMU_DETECT);
    driver.step(1_000, (a) => a.at === 0x510);
    expect(workload.hostBridge()).toBe(0x1237);
    driver.step(8);
    expect(driver.log.slice(-9).map(show)).toEqual(['out 510=0/2', 'in 511=51', 'in 511=45', 'in 511=4d', 'in 511=55', 'out 402=46', 'out 402=6f', 'out 402=75', 'out 402=6e']);
    expect(pc.debugcon.text()).toBe(`SeaBIOS (version ${SEABIOS_VERSION})\nRunning on QEMU (i440fx)\nFoun`);
  });

  it('sizes RAM from etc/e820, counts CPUs and files, takes the boot order, and logs as SeaBIOS does', () => {
    const { pc, workload, driver } = boot();
    driver.step(100_000, () => workload.posts() === 1);
    expect([workload.ramBytes(), workload.cpus(), workload.files()]).toEqual([32 << 20, 2, 3]); // bootorder, etc/boot-fail-wait, etc/e820
    expect(workload.bootOrder()).toEqual(['/pci@i0cf8/ide@1,1/drive@0/disk@0']);
    expect(pc.debugcon.text()).toBe([
      `SeaBIOS (version ${SEABIOS_VERSION})`,
      'Running on QEMU (i440fx)',
      'Found QEMU fw_cfg',
      'qemu/e820: addr 0x0000000000000000 len 0x0000000002000000 [RAM]',
      'Using pmtimer, ioport 0x608',
      'Found 2 cpu(s) max supported 2 cpu(s)',
      'Found 1 lpt ports',
      'DVD/CD [ata1-0: SPLITVISOR DVD-ROM ATAPI-4 DVD/CD]',
      'Device reports MEDIUM NOT PRESENT - 2 tries left',
      'Device reports MEDIUM NOT PRESENT - 1 tries left',
      'Device reports MEDIUM NOT PRESENT - 0 tries left',
      'No bootable device.  Retrying in 0 seconds.',
      '',
    ].join('\n'));
    expect(workload.logBytes()).toBe(pc.debugcon.bytesWritten());
    // POST again after the reboot timeout: A20 is already open, so port 92h is only read.
    driver.step(100_000, () => workload.posts() === 2);
    expect(driver.log.filter((a) => a.at === 0x92).map(show)).toEqual(['in 92=0', 'out 92=2', 'in 92=2']);
    expect(pc.port92.resets()).toBe(0);
  });

  it("finds LPT1 at 378h as lpt_setup does, and nothing at 278h: the accesses of the shared traces", () => {
    const { pc, workload, driver } = boot();
    driver.step(100_000, () => workload.posts() === 1);
    expect(driver.log.filter((a) => (a.at >= 0x378 && a.at < 0x37b) || (a.at >= 0x278 && a.at < 0x27b)).map(show)).toEqual([
      'in 37a=cc', 'out 37a=cc', 'out 378=aa', 'in 378=aa',
      'in 27a=ff', 'out 27a=df', 'out 278=aa', 'in 278=ff',
    ]);
    expect([workload.lptPorts(), pc.lpt1.latch()]).toEqual([1, 0xaa]);
  });

  it("finds the empty CD-ROM at ata1-0 as ata_detect does, and asks it for a disc as scsi_is_ready does", () => {
    const { workload, driver } = boot();
    driver.step(100_000, () => workload.posts() === 1);
    const secondary = driver.log.filter((a) => (a.at >= 0x170 && a.at < 0x178) || a.at === 0x376);
    // The device selected, the 55h/AAh echo, the reset: the trace's first accesses (less its status polls).
    expect(secondary.slice(0, 7).map(show)).toEqual(['out 176=a0', 'out 172=55', 'out 173=aa', 'in 172=55', 'in 173=aa', 'out 376=e', 'out 376=a']);
    // IDENTIFY PACKET DEVICE: DRQ, then 256 words, word 0 a removable CD-ROM with 12-byte packets (QEMU's 85C0h).
    const identify = secondary.findIndex((a) => a.kind === 'out' && a.at === 0x177 && a.value === 0xa1);
    expect(secondary.slice(identify + 1, identify + 3).map(show)).toEqual(['in 177=58', 'in 170=85c0/2']);
    // Each TEST UNIT READY a PACKET with a byte count of 0; a unit attention first (the drive was just powered on), then
    // three MEDIUM NOT PRESENT, each found by a REQUEST SENSE of 18 bytes.
    const packets = secondary.filter((a) => a.kind === 'out' && a.at === 0x177 && a.value === 0xa0);
    expect(packets).toHaveLength(8);
    expect([workload.cdroms(), workload.mediumNotPresent()]).toEqual([1, 3]);
  });

  it("puts the PIIX4's PM space at PMBA as piix4_pm_setup does, and times the reboot wait on its PM timer", () => {
    const { pc, workload, driver } = boot();
    driver.step(100_000, (a) => a.kind === 'out' && a.at === 0xcfe && a.value === 0x09); // SMBHSTCFG, the last write
    expect(driver.log.filter((a) => a.at >= 0xcf8 && a.at < 0xd00).slice(QEMU_DETECT.length).map(show)).toEqual([
      'out cf8=80000b00/4', 'in cfc=71138086/4', // 00:01.3 found by its IDs
      'out cf8=80000b3c/4', 'out cfc=9', // interrupt line: the SCI
      'out cf8=80000b40/4', 'out cfc=601/4', // PMBA
      'out cf8=80000b80/4', 'out cfc=1', // PMREGMISC: PMIOSE
      'out cf8=80000b90/4', 'out cfc=701/4', // SMBBA
      'out cf8=80000bd0/4', 'out cfe=9', // SMBHSTCFG
    ]);
    expect(windowOf(pc.pci.decode(), 'piix4-pm', 'pm')).toMatchObject({ base: 0x600, enabled: true });
    driver.step(100_000, () => workload.posts() === 1);
    driver.step(3); // PM_TMR before and after the wait, and the next POST's first access
    expect(driver.log.filter((a) => a.at === 0x608)).toHaveLength(2);
    expect(workload.pmTimerTicks()).toBeGreaterThanOrEqual(3579); // 1 ms at 3.579545 MHz
    expect(workload.pmTimerTicks()).toBeLessThanOrEqual(3580);
    // POST again: the same values written, no decode changes.
    const changes: unknown[] = [];
    pc.pci.onDecodeChange((change) => changes.push(change));
    driver.step(100_000, () => workload.posts() === 2);
    expect(changes).toEqual([]);
  });

  it('takes another acpi_pm_base, as SeaBIOS keeps B000h without QEMU\'s ACPI tables', () => {
    const { pc, workload, driver } = boot({ pmBase: 0xb000 });
    driver.step(100_000, () => workload.posts() === 1);
    driver.step(3);
    expect(driver.log.filter((a) => a.at === 0xb008)).toHaveLength(2);
    expect(windowOf(pc.pci.decode(), 'piix4-pm', 'pm')).toMatchObject({ base: 0xb000, enabled: true });
    expect(pc.debugcon.text()).toContain('Using pmtimer, ioport 0xb008\n');
    expect(workload.pmTimerTicks()).toBeGreaterThanOrEqual(3579);
  });

  it('finds nothing on an empty bus: no log, no fw_cfg, and goes on rebooting', () => {
    const workload = firmwareProbe();
    const driver = drive(workload.guest, (_kind, _at, size) => 2 ** (8 * size) - 1);
    driver.step(10_000, () => workload.posts() === 3);
    expect([workload.posts(), workload.logBytes(), workload.ramBytes(), workload.cpus(), workload.files(), workload.hostBridge(), workload.pmTimerTicks(), workload.lptPorts()]).toEqual([3, 0, 0, 0, 0, 0, 0, 0]);
    expect(driver.log.every((a) => a.at !== 0x402 || a.kind === 'in')).toBe(true);
    // qemu_detect reads the vendor ID, all ones, and looks no further: no PCI writes but CONFIG_ADDRESS.
    expect(driver.log.filter((a) => a.at >= 0xcf8 && a.at < 0xd00).slice(0, 2).map(show)).toEqual(['out cf8=80000000/4', 'in cfc=ffff/2']);
    expect(driver.log.filter((a) => a.kind === 'out' && a.at >= 0xcfc && a.at < 0xd00)).toEqual([]);
  });

  it('waits the reboot timeout between POSTs', () => {
    const workload = firmwareProbe({ rebootMs: 5 });
    const driver = drive(workload.guest, (_kind, _at, size) => 2 ** (8 * size) - 1);
    driver.step(10_000, () => workload.posts() === 2);
    const first = driver.tsc();
    driver.step(10_000, () => workload.posts() === 3);
    expect(driver.tsc() - first).toBeGreaterThanOrEqual(10_000_000); // 5 ms at 2 GHz
    expect(resolveParameters(FIRMWARE_PROBE, {})).toEqual({ 'reboot-ms': 1, 'pm-base': 0x600 });
  });
});
