// Replay of the shared QEMU traces at CF8h–CFFh: every configuration access SeaBIOS (and, in the Linux traces,
// Linux 6.1's PCI enumeration and drivers) made, writes and reads in order, each read compared with what QEMU 7.2
// returned. The run was `-M pc -m 256`: the options are QEMU's for it.
import { createTestContext, loadTrace, replayTrace } from '@splitvisor/device-testkit';
import type { Placement } from '@splitvisor/device-testkit';
import { describe, expect, it } from 'vitest';
import type { DecodeChange } from '../src/index.ts';
import { I440fxPciHost, windowOf } from '../src/index.ts';
import { TRACE_OPTIONS } from './pci-driver.ts';

const PLACEMENTS: readonly Placement[] = [
  { space: 'port', base: 0xcf8, region: 'config-address', length: 4 },
  { space: 'port', base: 0xcfc, region: 'config-data', length: 4 },
];

function replay(name: 'seabios-post' | 'linux-boot-serial' | 'linux-boot-vga') {
  const context = createTestContext();
  const host = new I440fxPciHost(context, TRACE_OPTIONS);
  const changes: DecodeChange[] = [];
  host.onDecodeChange((change) => changes.push(change));
  const result = replayTrace(host, context, loadTrace(name), PLACEMENTS);
  return { host, changes, result };
}

const compact = (change: DecodeChange): string => {
  switch (change.kind) {
    case 'window':
      return `${change.pciFunction} ${change.window} ${change.base.toString(16)} ${change.enabled ? 'on' : 'off'}`;
    case 'pam':
      return `pam ${change.segment} ${change.access}`;
    case 'smram':
      return `smram ${change.value.toString(16)}`;
    case 'pirq':
      return `pirq ${change.pirq} ${String(change.irq)}`;
  }
};

describe('replay of seabios-post (SeaBIOS 1.16.2 POST on QEMU 7.2 pc)', () => {
  it('answers all 274 of SeaBIOS\'s configuration reads exactly as QEMU did', () => {
    const { result } = replay('seabios-post');
    expect(result.mismatches).toEqual([]);
    expect([result.accesses, result.reads, result.identical]).toEqual([766, 274, 274]);
  });

  it('finds the i440FX for SeaBIOS to unlock RAM, and tells the board what SeaBIOS configures, in order', () => {
    const { host, changes } = replay('seabios-post');
    expect(changes.map(compact)).toEqual([
      // make_bios_writable: PAM0–PAM6 read/write (33h) to shadow the BIOS
      ...Array.from({ length: 13 }, (_, s) => `pam ${s} read-write`),
      // PIIX3 PIRQ routing: A, B to IRQ 10, C, D to IRQ 11
      'pirq 0 10', 'pirq 1 10', 'pirq 2 11', 'pirq 3 11',
      // command registers set (103h): IDE bus master at C000h; PMBA 600h with PMIOSE; SMBus moved to 700h; VGA BARs
      'piix3-ide bus-master c000 on', 'piix4-pm pm 600 on', 'piix4-pm smbus 700 on',
      'std-vga framebuffer fd000000 on', 'std-vga mmio febf0000 on',
      // SMM setup: SMRAM opened (D_OPEN | G_SMRAME) to copy the handler, then closed
      'smram 4a', 'smram a',
      // the VGA option ROM mapped while SeaBIOS copies it, then unmapped
      'std-vga rom febe0000 on', 'std-vga rom febe0000 off',
      // make_bios_readonly: all read-only but the last 32 KiB, SeaBIOS's own high memory
      ...Array.from({ length: 11 }, (_, s) => `pam ${s} read-only`),
    ]);
    const decode = host.decode();
    expect(windowOf(decode, 'piix4-pm', 'pm')).toMatchObject({ base: 0x600, size: 64, enabled: true }); // the PM timer at 608h
    expect(decode.pam.map((s) => s.access).slice(11)).toEqual(['read-write', 'read-write']);
    expect(host.configSpace('piix4-pm')[0x3c]).toBe(9); // the SCI's interrupt line
  });
});

describe('replay of the Linux boots (SeaBIOS, then Linux 6.1 enumerating the bus and loading ata_piix)', () => {
  it.each(['linux-boot-serial', 'linux-boot-vga'] as const)('%s: every configuration read as QEMU answered it', (name) => {
    const { result, host } = replay(name);
    expect(result.mismatches).toEqual([]);
    expect(result.reads).toBeGreaterThan(17_000);
    expect(result.identical).toBe(result.reads);
    // Linux's type 1 probe writes one byte to CFBh, which QEMU (and this model) drop.
    expect(host.anomalies().configAddressPartialWrites).toBe(1);
  }, 60_000);
});
