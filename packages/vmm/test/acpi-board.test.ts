// The board's ACPI description (`acpi-board.ts`) against the board it describes: the addresses, ports and lines of
// PC_BOARD, the devices of the placement, the HPET's own capabilities register; and the tables reaching the guest
// through fw_cfg's ports, as SeaBIOS reads them, under the profile that runs SeaBIOS like QEMU (qemu-tcg).
import { DeviceDomain, ramMemory } from '@splitvisor/abi';
import { TimerQueue } from '@splitvisor/clock';
import { Hpet } from '@splitvisor/counters';
import type { Placement } from '@splitvisor/placement';
import { IdleCpu } from '@splitvisor/scripted-guest';
import { describe, expect, it } from 'vitest';
import { acpiBoard } from '../src/acpi-board.ts';
import { PC_BOARD, PM_BASE } from '../src/board.ts';
import { Vm } from '../src/index.ts';
import { placement } from './profiles.ts';

const RAM_TOP = 32 << 20;

const without = (from: Placement, ...names: (keyof Placement['devices'])[]): Placement => ({
  ...from,
  devices: { ...from.devices, ...Object.fromEntries(names.map((n) => [n, 'absent'])) },
});

describe("the board's ACPI description", () => {
  it("takes every address and line from the board's table", () => {
    const board = acpiBoard(placement('qemu-tcg'), RAM_TOP);
    expect(board.localApicAddress).toBe(PC_BOARD.lapic?.regions[0]?.base);
    expect(board.ioApic.address).toBe(PC_BOARD.ioapic?.regions[0]?.base);
    expect(board.pm).toMatchObject({ pm1aEvent: PM_BASE, pm1aControl: PM_BASE + 4, pmTimer: PM_BASE + 8, sciIrq: PC_BOARD['pm-timer']?.gsis[0] });
    expect(PC_BOARD['pm-timer']?.regions.map((r) => r.base)).toEqual([board.pm.pm1aEvent, board.pm.pmTimer]);
    expect(board.hpet).toMatchObject({ address: PC_BOARD.hpet?.regions[0]?.base, length: PC_BOARD.hpet?.regions[0]?.length });
    expect(board.dsdt.pciConfigPorts).toEqual({ base: 0xcf8, length: 8 });
    expect(board.dsdt.pciMemoryWindows.at(-1)).toEqual({ base: RAM_TOP, length: 0xfec0_0000 - RAM_TOP, cacheable: false });
    const isa = Object.fromEntries(board.dsdt.isaDevices.map((d) => [d.name, d]));
    expect(Object.keys(isa)).toEqual(['KBD', 'MOU', 'FDC0', 'LPT1', 'COM1', 'RTC']);
    expect(isa.KBD).toMatchObject({ hid: 'PNP0303', ports: [{ base: 0x60, length: 1 }, { base: 0x64, length: 1 }], irqs: PC_BOARD.keyboard?.gsis.slice(0, 1) });
    expect(isa.MOU).toMatchObject({ hid: 'PNP0F13', irqs: PC_BOARD.keyboard?.gsis.slice(1, 2) });
    expect(isa.FDC0).toMatchObject({ ports: PC_BOARD.floppy?.regions.map((r) => ({ base: r.base, length: r.length })), irqs: PC_BOARD.floppy?.gsis, dmaChannels: [2] });
    expect(isa.COM1).toMatchObject({ uid: 1, ports: [{ base: 0x3f8, length: 8 }], irqs: PC_BOARD.serial?.gsis });
    expect(isa.LPT1).toMatchObject({ hid: 'PNP0400', irqs: PC_BOARD.parallel?.gsis });
    expect(isa.RTC).toMatchObject({ ports: [{ base: 0x70, length: 2 }], irqs: [8] }); // 70h and 71h, one range
  });

  it("gives the HPET table the HPET's own General Capabilities and ID", () => {
    const domain = new DeviceDomain('user', { now: () => 0, timers: new TimerQueue(), memory: ramMemory(new Uint8Array(0)) });
    const hpet = new Hpet(domain.context('hpet', (output) => output));
    expect(acpiBoard(placement('qemu-tcg'), RAM_TOP).hpet?.eventTimerBlockId).toBe(hpet.read('registers', 0, 4));
  });

  it('leaves out what the placement leaves out', () => {
    const bare = acpiBoard(without(placement('qemu-tcg'), 'keyboard', 'floppy', 'parallel', 'serial', 'rtc', 'hpet'), RAM_TOP);
    expect(bare.dsdt.isaDevices).toEqual([]);
    expect([bare.i8042, bare.rtcCentury, bare.hpet]).toEqual([false, 0, null]);
  });
});

describe('the tables through fw_cfg', () => {
  /** fw_cfg's traditional interface through the VM's ports. */
  const item = (vm: Vm, key: number, count: number) => {
    vm.io('out', 0x510, 2, key);
    return Uint8Array.from({ length: count }, () => vm.io('in', 0x511, 1, 0));
  };

  it('names the three files QEMU names, and serves an RSDP pointing into the tables', async () => {
    const vm = new Vm(placement('qemu-tcg'), new IdleCpu());
    try {
      const count = new DataView(item(vm, 0x19, 4).buffer).getUint32(0);
      const directory = item(vm, 0x19, 4 + 64 * count).subarray(4);
      const files = Object.fromEntries(Array.from({ length: count }, (_, i) => {
        const entry = directory.subarray(64 * i, 64 * (i + 1));
        const view = new DataView(entry.buffer, entry.byteOffset, 64);
        return [String.fromCharCode(...entry.subarray(8)).replace(/\0+$/, ''), { size: view.getUint32(0), key: view.getUint16(4) }];
      }));
      expect(Object.keys(files)).toEqual(['bootorder', 'etc/acpi/rsdp', 'etc/acpi/tables', 'etc/boot-fail-wait', 'etc/e820', 'etc/table-loader']);
      const rsdp = item(vm, files['etc/acpi/rsdp']?.key ?? 0, 20);
      expect(String.fromCharCode(...rsdp.subarray(0, 8))).toBe('RSD PTR ');
      const rsdt = new DataView(rsdp.buffer).getUint32(16, true); // the RSDT's offset in etc/acpi/tables, until the loader adds its address
      const tables = item(vm, files['etc/acpi/tables']?.key ?? 0, files['etc/acpi/tables']?.size ?? 0);
      expect(String.fromCharCode(...tables.subarray(rsdt, rsdt + 4))).toBe('RSDT');
      expect((files['etc/table-loader']?.size ?? 0) % 128).toBe(0);
    } finally {
      await vm.close();
    }
  });
});
