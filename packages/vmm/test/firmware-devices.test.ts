// The firmware's devices on the board, in every placement: the ISA debug console at 402h, System Control Port A at
// 92h, fw_cfg at 510h/514h. What firmware reads of fw_cfg comes from the VM (its RAM, vCPUs, media, display); its
// DMA reaches guest RAM from every domain, the jailed device host's through the kernel's memory ioctls; the debug
// console's log reaches the VM's user wherever the device runs; port 92h's lines reach the board in this thread.
import { PROFILES } from '@splitvisor/placement';
import type { Placement } from '@splitvisor/placement';
import { IdleCpu } from '@splitvisor/scripted-guest';
import { createWorkload } from '@splitvisor/workloads';
import { describe, expect, it } from 'vitest';
import type { VmOptions } from '../src/index.ts';
import { Vm } from '../src/index.ts';
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
        expect([vm.debugConsole(), made.progress().ramMiB, vm.whereIs('port92')]).toEqual(['', 0, undefined]);
        return;
      }
      expect(vm.debugConsole()).toMatch(/^SeaBIOS \(version 1\.16\.2\)\nFound QEMU fw_cfg\nqemu\/e820: addr 0x0000000000000000 len 0x0000000002000000 \[RAM\]\nFound 1 cpu\(s\) max supported 1 cpu\(s\)\nNo bootable device\./);
      expect(made.progress()).toMatchObject({ ramMiB: 32, cpus: 1, files: 2 });
      const exits = vm.counts.exitsByDevice();
      for (const device of ['debugcon', 'port92', 'fw-cfg'] as const) expect(Object.keys(exits.get(device) ?? {}), `${name} ${device}`).toContain(where.devices[device]);
      // plex86 caches in-port reads (seed 003): port 92h offers its latch, so SeaBIOS's repeated reads of it stop in the kernel.
      if (where.io.cachedReads !== false) expect(exits.get('port92')?.kernel, name).toBeGreaterThan(0);
    } finally {
      void vm.close();
    }
  });

  it('places them in userspace where QEMU has them, in the kernel or the monitor only in the bounds, and nowhere in firecracker', () => {
    const places = Object.fromEntries(NAMES.map((name) => [name, [...new Set((['debugcon', 'port92', 'fw-cfg'] as const).map((d) => placement(name).devices[d]))]]));
    expect(places).toEqual({
      'qemu-tcg': ['user'], 'kvm-irqchip': ['user'], 'kvm-kernel-counters': ['user'], 'kvm-userspace-pit': ['user'], 'kvm-split': ['user'],
      'kvm-userspace-irqchip': ['user'], 'plex86': ['user'], 'firecracker': ['absent'], 'all-kernel': ['kernel'], 'all-monitor': ['monitor'],
    });
  });
});

describe('fw_cfg holds the VM', () => {
  it('its RAM, its vCPUs, its media in QEMU\'s default boot order, and a display when it has VGA', async () => {
    const vm = new Vm(placement('kvm-irqchip'), new IdleCpu(), { aps: [new IdleCpu()], board: { memoryBytes: 64 << 20, diskBlankBytes: 1 << 20, floppyBlankBytes: 1_474_560 } });
    try {
      expect(little(item(vm, 0x03, 8))).toBe(64 << 20);
      expect([little(item(vm, 0x05, 2)), little(item(vm, 0x0f, 2)), little(item(vm, 0x04, 2))]).toEqual([2, 2, 0]);
      const bootorder = String.fromCharCode(...item(vm, 0x20, 80)).replace(/\0+$/, '');
      expect(bootorder).toBe('/pci@i0cf8/ide@1,1/drive@0/disk@0\n/pci@i0cf8/isa@1/fdc@03f0/floppy@0');
      const e820 = item(vm, 0x21, 20);
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
      expect([...new Uint8Array(vm.ram, 0x7000, 4)]).toEqual([0, 0, 0, 2]);
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
        expect(Object.fromEntries(vm.outputLines()), name).toEqual({ 'port92.a20': { level: true, rises: 1 }, 'port92.reset': { level: false, rises: 1 } });
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
