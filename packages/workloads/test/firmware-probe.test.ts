// SeaBIOS's POST on the firmware devices, against the device models themselves (an isa-debugcon at 402h, port 92h,
// fw_cfg at 510h/514h) and against an empty bus, where it finds none of them.
import type { Device } from '@splitvisor/abi';
import { IsaDebugcon } from '@splitvisor/debugcon';
import { createTestContext } from '@splitvisor/device-testkit';
import { E820Type, FwCfg, qemuPcItems } from '@splitvisor/fw-cfg';
import { Port92 } from '@splitvisor/port92';
import { describe, expect, it } from 'vitest';
import { FIRMWARE_PROBE, SEABIOS_VERSION, firmwareProbe } from '../src/firmware-probe.ts';
import { resolveParameters } from '../src/workload.ts';
import { drive, show } from './guest-driver.ts';

/** The three devices at the board's ports, behind the guest's `in` and `out`. */
function board() {
  const context = createTestContext();
  const debugcon = new IsaDebugcon();
  const port92 = new Port92(context);
  const fwCfg = new FwCfg(context, qemuPcItems({
    ramBytes: 32 << 20, cpus: 2, e820: [{ address: 0, length: 32 << 20, type: E820Type.RAM }],
    bootOrder: ['/pci@i0cf8/ide@1,1/drive@0/disk@0'], noGraphic: false, irq0Override: true,
  }));
  const at = (port: number): [Device, string, number] | undefined => {
    if (port === 0x402) return [debugcon, 'port', 0];
    if (port === 0x92) return [port92, 'control', 0];
    if (port === 0x510 || port === 0x511) return [fwCfg, 'selector-data', port - 0x510];
    return undefined;
  };
  return {
    debugcon, port92,
    answer: (_kind: 'in' | 'read', port: number, size: number) => {
      const found = at(port);
      return found === undefined ? 0xff : found[0].read(found[1], found[2], size === 2 ? 2 : 1);
    },
    onWrite: (_kind: 'out' | 'write', port: number, value: number) => {
      const found = at(port);
      if (found !== undefined) found[0].write(found[1], found[2], port === 0x510 ? 2 : 1, value);
    },
  };
}

describe('firmware-probe', () => {
  it("probes the debug port, opens A20 and finds fw_cfg as SeaBIOS's POST does", () => {
    const pc = board();
    const workload = firmwareProbe();
    const driver = drive(workload.guest, pc.answer, { onWrite: pc.onWrite });
    driver.step(12);
    const banner = Array.from('Sea', (c) => `out 402=${c.charCodeAt(0).toString(16)}`);
    expect(driver.log.slice(0, 4).map(show)).toEqual(['in 402=e9', ...banner]);
    driver.step(1_000, (a) => a.at === 0x92 && a.kind === 'out');
    expect(driver.log.filter((a) => a.at === 0x92).map(show)).toEqual(['in 92=0', 'out 92=2']);
    expect(pc.port92.a20()).toBe(true);
    driver.step(9);
    expect(driver.log.slice(-9).map(show)).toEqual(['out 510=0/2', 'in 511=51', 'in 511=45', 'in 511=4d', 'in 511=55', 'out 402=46', 'out 402=6f', 'out 402=75', 'out 402=6e']);
  });

  it('sizes RAM from etc/e820, counts CPUs and files, takes the boot order, and logs as SeaBIOS does', () => {
    const pc = board();
    const workload = firmwareProbe();
    const driver = drive(workload.guest, pc.answer, { onWrite: pc.onWrite });
    driver.step(100_000, () => workload.posts() === 1);
    expect([workload.ramBytes(), workload.cpus(), workload.files()]).toEqual([32 << 20, 2, 2]);
    expect(workload.bootOrder()).toEqual(['/pci@i0cf8/ide@1,1/drive@0/disk@0']);
    expect(pc.debugcon.text()).toBe([
      `SeaBIOS (version ${SEABIOS_VERSION})`,
      'Found QEMU fw_cfg',
      'qemu/e820: addr 0x0000000000000000 len 0x0000000002000000 [RAM]',
      'Found 2 cpu(s) max supported 2 cpu(s)',
      'No bootable device.  Retrying in 0 seconds.',
      '',
    ].join('\n'));
    expect(workload.logBytes()).toBe(pc.debugcon.bytesWritten());
    // POST again after the reboot timeout: A20 is already open, so port 92h is only read.
    driver.step(100_000, () => workload.posts() === 2);
    expect(driver.log.filter((a) => a.at === 0x92).map(show)).toEqual(['in 92=0', 'out 92=2', 'in 92=2']);
    expect(pc.port92.resets()).toBe(0);
  });

  it('finds nothing on an empty bus: no log, no fw_cfg, and goes on rebooting', () => {
    const workload = firmwareProbe();
    const driver = drive(workload.guest, () => 0xff);
    driver.step(10_000, () => workload.posts() === 3);
    expect([workload.posts(), workload.logBytes(), workload.ramBytes(), workload.cpus(), workload.files()]).toEqual([3, 0, 0, 0, 0]);
    expect(driver.log.every((a) => a.at !== 0x402 || a.kind === 'in')).toBe(true);
  });

  it('waits the reboot timeout between POSTs', () => {
    const workload = firmwareProbe({ rebootMs: 5 });
    const driver = drive(workload.guest, () => 0xff);
    driver.step(10_000, () => workload.posts() === 2);
    const first = driver.tsc();
    driver.step(10_000, () => workload.posts() === 3);
    expect(driver.tsc() - first).toBeGreaterThanOrEqual(10_000_000); // 5 ms at 2 GHz
    expect(resolveParameters(FIRMWARE_PROBE, {})).toEqual({ 'reboot-ms': 1 });
  });
});
