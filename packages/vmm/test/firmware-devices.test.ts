// The firmware's devices on the board, in every placement: the ISA debug console at 402h, System Control Port A at
// 92h, fw_cfg at 510h/514h, the PCI host at CF8h/CFCh, LPT1 at 378h. What firmware reads of fw_cfg comes from the VM (its RAM,
// vCPUs, media, display); its DMA reaches guest RAM from every domain, the jailed device host's through the kernel's
// memory ioctls; the debug console's log reaches the VM's user wherever the device runs; port 92h's lines and the
// PIIX3's reset reach the board in this thread; the PM timer follows the PIIX4's PMBA wherever the board can reach
// it from the PCI host, and where it cannot, the move is counted, not faked.
import { PROFILES } from '@splitvisor/placement';
import type { Placement } from '@splitvisor/placement';
import { IdleCpu } from '@splitvisor/scripted-guest';
import { createWorkload } from '@splitvisor/workloads';
import { describe, expect, it } from 'vitest';
import type { ChipsetWindowsState, VmOptions } from '../src/index.ts';
import { CHIPSET_WINDOWS, Vm } from '../src/index.ts';
import { placement } from './profiles.ts';

const NAMES = PROFILES.map((p) => p.name);

/** fw_cfg's traditional interface through the VM's ports: `count` bytes of item `key`. */
function item(vm: Vm, key: number, count: number): number[] {
  vm.io('out', 0x510, 2, key);
  return Array.from({ length: count }, () => vm.io('in', 0x511, 1, 0));
}

const little = (bytes: readonly number[]) => bytes.reduceRight((v, b) => v * 256 + b, 0);

/** SeaBIOS's qemu_cfg_dma_transfer: a descriptor in guest RAM at `at`, its address to 518h as the CPU's register holds it (byte-swapped). */
function dma(vm: Vm, at: number, control: number, length: number, address: number): number {
  const view = new DataView(vm.ram);
  view.setUint32(at, control);
  view.setUint32(at + 4, length);
  view.setUint32(at + 8, 0);
  view.setUint32(at + 12, address);
  vm.io('out', 0x518, 4, new DataView(Uint32Array.of(at).buffer).getUint32(0, false));
  return view.getUint32(at);
}

/** The PIIX4 PM function's PMBA and PMREGMISC as SeaBIOS writes them: a dword to CF8h, then the register at CFCh. */
function pmSpace(vm: Vm, base: number, decoded: boolean): void {
  vm.io('out', 0xcf8, 4, 0x8000_0b40);
  vm.io('out', 0xcfc, 4, base | 1);
  vm.io('out', 0xcf8, 4, 0x8000_0b80);
  vm.io('out', 0xcfc, 1, decoded ? 1 : 0);
}

/** Whether something answers a 32-bit read at `port` (an empty bus reads all ones; PM_TMR's 24 bits never do). */
const answers = (vm: Vm, port: number) => vm.io('in', port, 4, 0) !== 0xffff_ffff;
/** Where the PM timer answers among the places these tests use: PM1 event and PM_TMR at 600h/608h, B000h/B008h. */
const pmTimerAt = (vm: Vm) => ({ 0x600: answers(vm, 0x600), 0x608: answers(vm, 0x608), 0xb000: answers(vm, 0xb000), 0xb008: answers(vm, 0xb008) });
const AT_600 = { 0x600: true, 0x608: true, 0xb000: false, 0xb008: false };
const AT_B000 = { 0x600: false, 0x608: false, 0xb000: true, 0xb008: true };
const NOWHERE = { 0x600: false, 0x608: false, 0xb000: false, 0xb008: false };
/** The board's counts of the guest's PM moves, kept beside the PCI host (across the channel when it is in a live device host). */
const pmMoves = (vm: Vm) => {
  const { pmFollowed, pmOverlapping, pmUnfollowed } = vm.deviceState(CHIPSET_WINDOWS, 'pci') as ChipsetWindowsState;
  return { pmFollowed, pmOverlapping, pmUnfollowed };
};

describe('the firmware devices under every profile', () => {
  it.each(NAMES)('%s: SeaBIOS finds what the placement gives it, in the domains it names', (name) => {
    const where = placement(name);
    const made = createWorkload('firmware-probe');
    const vm = new Vm(where, made.guest);
    try {
      vm.run(3_000_000);
      const present = where.devices['fw-cfg'] !== 'absent';
      expect(made.progress().posts).toBeGreaterThan(0);
      if (!present) {
        expect([vm.debugConsole(), made.progress().ramMiB, vm.whereIs('port92'), vm.whereIs('pci'), vm.whereIs('parallel'), vm.whereIs('cdrom')]).toEqual(['', 0, undefined, undefined, undefined, undefined]);
        expect(made.progress()).toMatchObject({ hostBridge: 0, pmTimerTicks: 0, lptPorts: 0, cdroms: 0 }); // no PCI: qemu_detect reads FFFFh, and no PM timer is set up
        return;
      }
      expect(vm.debugConsole()).toMatch(/^SeaBIOS \(version 1\.16\.2\)\nRunning on QEMU \(i440fx\)\nFound QEMU fw_cfg\nqemu\/e820: addr 0x0000000000000000 len 0x0000000002000000 \[RAM\]\nUsing pmtimer, ioport 0x608\nFound 1 cpu\(s\) max supported 1 cpu\(s\)\nFound 1 lpt ports\nDVD\/CD \[ata1-0: SPLITVISOR DVD-ROM ATAPI-4 DVD\/CD\]\n(Device reports MEDIUM NOT PRESENT - [210] tries left\n){3}No bootable device\./);
      // The reboot wait, 1 ms of guest time, on the PM timer at PMBA + 8: 3.579545 MHz.
      // Six files: bootorder, etc/boot-fail-wait, etc/e820, and the ACPI tables' three (etc/acpi/rsdp, etc/acpi/tables, etc/table-loader).
      expect(made.progress()).toMatchObject({ ramMiB: 32, cpus: 1, files: 6, hostBridge: 0x1237, lptPorts: 1, cdroms: 1 });
      expect(Math.abs((made.progress().pmTimerTicks ?? 0) - 3579.5), name).toBeLessThanOrEqual(0.5);
      const exits = vm.counts.exitsByDevice();
      for (const device of ['debugcon', 'port92', 'fw-cfg', 'pci', 'parallel', 'cdrom'] as const) expect(Object.keys(exits.get(device) ?? {}), `${name} ${device}`).toContain(where.devices[device]);
      // plex86 caches in-port reads (seed 003): port 92h offers its latch, so SeaBIOS's repeated reads of it stop in the kernel.
      if (where.io.cachedReads !== false) expect(exits.get('port92')?.kernel, name).toBeGreaterThan(0);
    } finally {
      void vm.close();
    }
  });

  it('places them in userspace where QEMU has them, in the kernel or the monitor only in the bounds, and nowhere in firecracker', () => {
    const places = Object.fromEntries(NAMES.map((name) => [name, [...new Set((['debugcon', 'port92', 'fw-cfg', 'pci', 'parallel', 'cdrom'] as const).map((d) => placement(name).devices[d]))]]));
    expect(places).toEqual({
      'qemu-tcg': ['user'], 'kvm-irqchip': ['user'], 'kvm-kernel-counters': ['user'], 'kvm-userspace-pit': ['user'], 'kvm-split': ['user'],
      'kvm-userspace-irqchip': ['user'], 'plex86': ['user'], 'firecracker': ['absent'], 'all-kernel': ['kernel'], 'all-monitor': ['monitor'],
    });
  });
});

describe('fw_cfg holds the VM', () => {
  it('its RAM, its vCPUs, an empty boot order, and a display when it has VGA', async () => {
    const vm = new Vm(placement('kvm-irqchip'), new IdleCpu(), { aps: [new IdleCpu()], board: { memoryBytes: 64 << 20, diskBlankBytes: 1 << 20, floppyBlankBytes: 1_474_560 } });
    try {
      expect(little(item(vm, 0x03, 8))).toBe(64 << 20);
      expect([little(item(vm, 0x05, 2)), little(item(vm, 0x0f, 2)), little(item(vm, 0x04, 2))]).toEqual([2, 2, 0]);
      expect(item(vm, 0x20, 1)).toEqual([0]); // an empty boot order, as QEMU's without a bootindex: CMOS 3Dh/38h say it
      const e820 = item(vm, 0x24, 20); // after bootorder, etc/acpi/rsdp, etc/acpi/tables and etc/boot-fail-wait, by name
      expect([little(e820.slice(0, 8)), little(e820.slice(8, 16)), little(e820.slice(16))]).toEqual([0, 64 << 20, 1]);
      expect(little(item(vm, 0x8002, 4))).toBe(1); // ISA irq 0 on GSI 2
    } finally {
      await vm.close();
    }
    const headless: Placement = { ...placement('kvm-irqchip'), devices: { ...placement('kvm-irqchip').devices, vga: 'absent' } };
    const bare = new Vm(headless, new IdleCpu());
    try {
      expect(little(item(bare, 0x04, 2))).toBe(1); // NOGRAPHIC: SeaBIOS's console goes to COM1
      expect(item(bare, 0x20, 1)).toEqual([0]); // no media, an empty boot order
    } finally {
      await bare.close();
    }
  });
});

describe('fw_cfg DMA into guest RAM', () => {
  const cases: readonly [string, Placement, VmOptions][] = [
    ['the kernel', placement('all-kernel'), {}],
    ['the monitor', placement('all-monitor'), {}],
    ['the device host in this thread', placement('kvm-irqchip'), {}],
    ['the device host in a worker', placement('kvm-irqchip'), { mode: 'live' }],
    ['the device host in a jailed process (through the kernel\'s memory ioctls)', placement('kvm-irqchip'), { mode: 'live', transport: 'process' }],
  ];
  it.each(cases)('from %s: select and read FW_CFG_ID, the control word back to 0', async (_where, where, options) => {
    const vm = new Vm(where, new IdleCpu(), options);
    try {
      expect(dma(vm, 0x6f3c, (0x0001 << 16) | 0x08 | 0x02, 4, 0x7000)).toBe(0);
      expect([...new Uint8Array(vm.ram, 0x7000, 4)]).toEqual([3, 0, 0, 0]);
      expect(dma(vm, 0x6f3c, (0x0019 << 16) | 0x08 | 0x02, 4, 0x7000)).toBe(0); // the file directory's count, big-endian
      expect([...new Uint8Array(vm.ram, 0x7000, 4)]).toEqual([0, 0, 0, 6]); // bootorder, etc/boot-fail-wait, etc/e820 and the ACPI tables' three
      expect(dma(vm, 0x6f3c, 0x02, 4, vm.ram.byteLength - 2)).toBe(1); // a buffer past the end of RAM: the error bit
    } finally {
      await vm.close();
    }
  }, 60_000);
});

describe('the debug console and port 92h through the VM', () => {
  it('keeps the log wherever the debug console runs, live too, and carries it through a move', async () => {
    for (const options of [{}, { mode: 'live' } as const]) {
      const vm = new Vm(placement('kvm-irqchip'), new IdleCpu(), options);
      try {
        expect(vm.io('in', 0x402, 1, 0)).toBe(0xe9);
        for (const c of 'hello\n') vm.io('out', 0x402, 1, c.charCodeAt(0));
        vm.move('debugcon', 'monitor');
        vm.io('out', 0x402, 1, 0x21);
        expect(vm.debugConsole()).toBe('hello\n!');
      } finally {
        await vm.close();
      }
    }
  }, 60_000);

  it("hands port 92h's a20 and reset lines to the board in this thread, and keeps both in the device's state wherever it runs", async () => {
    for (const name of ['all-kernel', 'all-monitor', 'kvm-irqchip']) {
      const vm = new Vm(placement(name), new IdleCpu());
      try {
        vm.io('out', 0x92, 1, 0x02);
        vm.io('out', 0x92, 1, 0x03);
        // The 8042's A20 is there too: it drives its power-on level (open) as it is made.
        expect(Object.fromEntries(vm.outputLines()), name).toEqual({ 'keyboard.a20': { level: true, rises: 1 }, 'port92.a20': { level: true, rises: 1 }, 'port92.reset': { level: false, rises: 1 } });
      } finally {
        await vm.close();
      }
    }
    const live = new Vm(placement('kvm-irqchip'), new IdleCpu(), { mode: 'live' });
    try {
      live.io('out', 0x92, 1, 0x03);
      expect(live.deviceState('port92')).toMatchObject({ latch: 3, resetRequests: 1 });
      expect(live.outputLines().size).toBe(0); // a live device host's lines do not cross the channel yet
    } finally {
      await live.close();
    }
  }, 60_000);
});

/** `name`'s placement with `devices` placed elsewhere. */
const moved = (name: string, devices: Partial<Placement['devices']>): Placement => ({ ...placement(name), devices: { ...placement(name).devices, ...devices } });

describe('the PCI host', () => {
  it.each(NAMES)('%s: configuration space at CF8h/CFCh where the placement has it, an empty bus where it has none', (name) => {
    const where = placement(name);
    const vm = new Vm(where, new IdleCpu());
    try {
      vm.io('out', 0xcf8, 4, 0x8000_0000);
      const bridge = vm.io('in', 0xcfc, 4, 0);
      vm.io('out', 0xcf8, 4, 0x8000_0b00);
      const pm = vm.io('in', 0xcfc, 4, 0);
      if (where.devices.pci === 'absent') {
        expect([bridge, pm]).toEqual([0xffff_ffff, 0xffff_ffff]);
        return;
      }
      expect([bridge, pm]).toEqual([0x1237_8086, 0x7113_8086]); // the i440FX at 00:00.0, the PIIX4 PM function at 00:01.3
      expect(Object.keys(vm.counts.exitsByDevice().get('pci') ?? {})).toContain(where.devices.pci);
    } finally {
      void vm.close();
    }
  });

  it("hands the PIIX3's reset (CF9h) to the board as port 92h's, and keeps the requests in the device's state wherever it runs", async () => {
    for (const name of ['all-kernel', 'all-monitor', 'kvm-irqchip']) {
      const vm = new Vm(placement(name), new IdleCpu());
      try {
        vm.io('out', 0xcf9, 1, 0x02); // SRST: the next reset is hard; no request
        vm.io('out', 0xcf9, 1, 0x06); // and RCPU: a reset now (SeaBIOS's pci_reboot, Linux's reboot=pci)
        expect(vm.io('in', 0xcf9, 1, 0)).toBe(0x02);
        expect(Object.fromEntries(vm.outputLines()), name).toEqual({ 'keyboard.a20': { level: true, rises: 1 }, 'pci.reset': { level: false, rises: 1 } });
        expect(vm.deviceState('pci')).toMatchObject({ resetRequests: 1 });
      } finally {
        await vm.close();
      }
    }
    const live = new Vm(placement('kvm-irqchip'), new IdleCpu(), { mode: 'live' });
    try {
      live.io('out', 0xcf9, 1, 0x06);
      expect(live.deviceState('pci')).toMatchObject({ resetRequests: 1 });
      expect(live.outputLines().size).toBe(0); // a live device host's lines do not cross the channel yet
    } finally {
      await live.close();
    }
  }, 60_000);
});

describe('the PM timer at PMBA', () => {
  const together: readonly [string, Placement, VmOptions][] = [
    ['both in the kernel', placement('all-kernel'), {}],
    ['both in the monitor', placement('all-monitor'), {}],
    ['both in the device host in this thread', placement('kvm-irqchip'), {}],
    ['both in the device host in a worker', placement('kvm-irqchip'), { mode: 'live' }],
    ['the PCI host in the device host, the PM timer in the kernel', moved('kvm-irqchip', { 'pm-timer': 'kernel' }), {}],
    ['the PCI host in the monitor, the PM timer in the device host in this thread', moved('kvm-irqchip', { pci: 'monitor' }), {}],
  ];
  it.each(together)('%s: at 600h/608h from power-on, then where the guest puts the PM space, nowhere while it is off', async (_case, where, options) => {
    const vm = new Vm(where, new IdleCpu(), options);
    try {
      expect(pmTimerAt(vm)).toEqual(AT_600);
      pmSpace(vm, 0xb000, true);
      expect(pmTimerAt(vm)).toEqual(AT_B000);
      pmSpace(vm, 0xb000, false);
      expect(pmTimerAt(vm)).toEqual(NOWHERE);
      pmSpace(vm, 0x600, true);
      expect(pmTimerAt(vm)).toEqual(AT_600);
      expect(pmMoves(vm)).toEqual({ pmFollowed: 3, pmOverlapping: 0, pmUnfollowed: 0 });
    } finally {
      await vm.close();
    }
  }, 60_000);

  it("refuses a PM space over another device's ports, counts it and leaves the timer where it was; the guest's write stands", () => {
    for (const name of ['kvm-irqchip', 'all-kernel']) {
      const vm = new Vm(placement(name), new IdleCpu());
      try {
        pmSpace(vm, 0x40, true); // PM1 event over the PIT's counters (40h–43h)
        vm.io('out', 0xcf8, 4, 0x8000_0b40);
        expect(vm.io('in', 0xcfc, 4, 0), name).toBe(0x41);
        expect(pmTimerAt(vm), name).toEqual(AT_600);
        pmSpace(vm, 0xb000, true);
        expect(pmTimerAt(vm), name).toEqual(AT_B000);
        pmSpace(vm, 0x3c0, true); // PM_TMR over the VGA's registers (3B0h–3DFh)
        expect(pmTimerAt(vm), name).toEqual(AT_B000);
        expect(pmMoves(vm), name).toEqual({ pmFollowed: 1, pmOverlapping: 2, pmUnfollowed: 0 });
      } finally {
        void vm.close();
      }
    }
  });

  it('takes the PM timer where the PM space is when the timer moves, and hears the PCI host wherever it moves in this thread', () => {
    const vm = new Vm(placement('kvm-irqchip'), new IdleCpu());
    try {
      pmSpace(vm, 0xb000, true);
      vm.move('pm-timer', 'monitor');
      expect(pmTimerAt(vm)).toEqual(AT_B000);
      vm.move('pci', 'kernel');
      pmSpace(vm, 0xc800, true);
      expect([pmTimerAt(vm), answers(vm, 0xc808)]).toEqual([NOWHERE, true]);
      vm.move('pm-timer', 'user');
      expect(answers(vm, 0xc808)).toBe(true);
      expect(pmMoves(vm)).toEqual({ pmFollowed: 4, pmOverlapping: 0, pmUnfollowed: 0 }); // two by the guest, two by the moves
    } finally {
      void vm.close();
    }
  });

  const apart: readonly [string, Placement, VmOptions][] = [
    ['the kernel serving its counter at 608h (kvm-kernel-counters)', placement('kvm-kernel-counters'), {}],
    ['the PCI host in the monitor, the PM timer in a live device host', moved('kvm-irqchip', { pci: 'monitor' }), { mode: 'live' }],
    ['the PCI host in a live device host, the PM timer in the monitor', moved('kvm-irqchip', { 'pm-timer': 'monitor' }), { mode: 'live' }],
  ];
  it.each(apart)('%s: the move is not followed, and each one is counted', async (_case, where, options) => {
    const vm = new Vm(where, new IdleCpu(), options);
    try {
      pmSpace(vm, 0xb000, true);
      expect(pmTimerAt(vm)).toEqual(AT_600);
      expect(pmMoves(vm)).toEqual({ pmFollowed: 0, pmOverlapping: 0, pmUnfollowed: 1 });
      pmSpace(vm, 0xb000, false);
      expect(pmMoves(vm)).toEqual({ pmFollowed: 0, pmOverlapping: 0, pmUnfollowed: 2 });
    } finally {
      await vm.close();
    }
  }, 60_000);

  it.each(NAMES)("%s: SeaBIOS's own acpi_pm_base, B000h, moves the timer there wherever the board can follow it", (name) => {
    const where = placement(name);
    const made = createWorkload('firmware-probe', { 'pm-base': 0xb000 });
    const vm = new Vm(where, made.guest);
    try {
      vm.run(3_000_000);
      if (where.devices.pci === 'absent') {
        expect(made.progress().pmTimerTicks).toBe(0);
        return;
      }
      expect(vm.debugConsole()).toContain('Using pmtimer, ioport 0xb008\n');
      const unfollowed = name === 'kvm-kernel-counters';
      expect((made.progress().pmTimerTicks ?? 0) > 0, name).toBe(!unfollowed);
      expect(pmMoves(vm), name).toEqual({ pmFollowed: unfollowed ? 0 : 1, pmOverlapping: 0, pmUnfollowed: unfollowed ? 1 : 0 });
    } finally {
      void vm.close();
    }
  });

  it('comes back where the PM space was in a snapshot restored under another placement', () => {
    const parameters = { 'pm-base': 0xb000 };
    const still = createWorkload('firmware-probe', parameters);
    const whole = new Vm(placement('kvm-irqchip'), still.guest);
    whole.run(6_000_000);
    void whole.close();
    const first = createWorkload('firmware-probe', parameters);
    const before = new Vm(placement('kvm-irqchip'), first.guest, { snapshots: true });
    before.run(3_000_000);
    const snapshot = before.snapshot();
    void before.close();
    for (const name of ['all-monitor', 'all-kernel', 'qemu-tcg']) {
      const again = createWorkload('firmware-probe', parameters);
      const after = new Vm(placement(name), again.guest, { snapshots: true });
      try {
        after.restore(snapshot);
        after.run(6_000_000);
        expect(again.progress(), name).toEqual(still.progress());
        expect(again.progress().pmTimerTicks, name).toBeGreaterThan(0);
      } finally {
        void after.close();
      }
    }
  });
});
