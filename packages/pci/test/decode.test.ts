// What the board hears: a change record each time a guest's configuration write (or a reset, or a restored state)
// moves a window, turns its decode on or off, changes a PAM segment, SMRAM or a PIRQ route — and nothing else.
import { decodeState, encodeState } from '@splitvisor/abi';
import { createTestContext } from '@splitvisor/device-testkit';
import { describe, expect, it } from 'vitest';
import type { DecodeChange, I440fxPciHostState } from '../src/index.ts';
import { I440fxPciHost, pamField, pamReadsRam, pamWritesRam, stateDecode, windowOf } from '../src/index.ts';
import { TRACE_OPTIONS, pciDriver } from './pci-driver.ts';

function watched() {
  const host = new I440fxPciHost(createTestContext(), TRACE_OPTIONS);
  const changes: DecodeChange[] = [];
  const stop = host.onDecodeChange((change) => changes.push(change));
  return { host, pci: pciDriver(host), changes, stop, take: () => changes.splice(0) };
}

describe('windows', () => {
  it('starts with only the SMBus space decoded, at QEMU\'s B100h', () => {
    const { host } = watched();
    expect(host.decode().windows.filter((w) => w.enabled).map((w) => [w.pciFunction, w.window, w.base])).toEqual([['piix4-pm', 'smbus', 0xb100]]);
  });

  it('moves the PM space with PMBA while PMREGMISC.PMIOSE is set, and not before', () => {
    const { pci, take } = watched();
    pci.write(1, 3, 0x40, 4, 0x601);
    expect(take()).toEqual([]);
    pci.write(1, 3, 0x80, 1, 0x01);
    expect(take()).toEqual([{ kind: 'window', pciFunction: 'piix4-pm', window: 'pm', space: 'port', base: 0x600, size: 64, enabled: true }]);
    pci.write(1, 3, 0x40, 4, 0xb001); // the PM timer moves to B008h
    expect(take()).toMatchObject([{ window: 'pm', base: 0xb000, enabled: true }]);
    pci.write(1, 3, 0x40, 4, 0xb03f); // bits 5:1 are no part of the base
    expect(take()).toEqual([]);
    pci.write(1, 3, 0x80, 1, 0x00);
    expect(take()).toMatchObject([{ window: 'pm', base: 0xb000, enabled: false }]);
  });

  it('decodes the SMBus space by SMBBA and SMBHSTCFG.SMB_HST_EN', () => {
    const { pci, take } = watched();
    pci.write(1, 3, 0xd2, 1, 0x08);
    expect(take()).toMatchObject([{ window: 'smbus', base: 0xb100, enabled: false }]);
    pci.write(1, 3, 0x90, 4, 0x701);
    pci.write(1, 3, 0xd2, 1, 0x09);
    expect(take()).toMatchObject([{ window: 'smbus', base: 0x700, enabled: true }]);
  });

  it('maps the IDE bus-master ports (BAR4) while the command register enables I/O', () => {
    const { pci, take } = watched();
    pci.write(1, 1, 0x20, 4, 0xc000);
    expect(take()).toEqual([]);
    pci.write(1, 1, 0x04, 2, 0x0103);
    expect(take()).toEqual([{ kind: 'window', pciFunction: 'piix3-ide', window: 'bus-master', space: 'port', base: 0xc000, size: 16, enabled: true }]);
    pci.write(1, 1, 0x04, 2, 0x0102); // memory enable does nothing for an I/O BAR
    expect(take()).toMatchObject([{ window: 'bus-master', enabled: false }]);
  });

  it('maps the VGA framebuffer and MMIO BARs while memory space is enabled, the ROM only with its own enable', () => {
    const { pci, take } = watched();
    pci.write(2, 0, 0x10, 4, 0xfd00_0000);
    pci.write(2, 0, 0x18, 4, 0xfebf_0000);
    pci.write(2, 0, 0x30, 4, 0xfebe_0000);
    expect(take()).toEqual([]);
    pci.write(2, 0, 0x04, 2, 0x0103);
    expect(take().map((c) => c.kind === 'window' && [c.window, c.base, c.size])).toEqual([['framebuffer', 0xfd00_0000, 16 * 1024 * 1024], ['mmio', 0xfebf_0000, 4096]]);
    pci.write(2, 0, 0x30, 4, 0xfebe_0001);
    expect(take()).toMatchObject([{ window: 'rom', base: 0xfebe_0000, size: 0x10000, enabled: true }]);
  });

  it('stops decoding a BAR while it is sized (all ones reach the top of the 32-bit space) and maps it back after', () => {
    const { pci, take } = watched();
    pci.write(2, 0, 0x10, 4, 0xfd00_0000);
    pci.write(2, 0, 0x04, 2, 0x0002);
    take();
    pci.write(2, 0, 0x10, 4, 0xffff_ffff);
    expect(take()).toMatchObject([{ window: 'framebuffer', enabled: false }]);
    pci.write(2, 0, 0x10, 4, 0xfd00_0000);
    expect(take()).toMatchObject([{ window: 'framebuffer', base: 0xfd00_0000, enabled: true }]);
    pci.write(2, 0, 0x10, 4, 0); // base 0: unmapped, as QEMU
    expect(take()).toMatchObject([{ window: 'framebuffer', enabled: false }]);
  });

  it('does not decode an I/O BAR above the 64 KiB port space', () => {
    const { pci, take } = watched();
    pci.write(1, 1, 0x04, 2, 0x0001);
    pci.write(1, 1, 0x20, 4, 0x0001_0000);
    expect(take()).toEqual([]);
  });
});

describe('PAM, SMRAM and PIRQ', () => {
  it('lays the thirteen PAM segments out as the 82441FX datasheet does', () => {
    expect([0, 1, 2, 11, 12].map((s) => pamField(s))).toEqual([
      { register: 0x59, shift: 4 }, { register: 0x5a, shift: 0 }, { register: 0x5a, shift: 4 }, { register: 0x5f, shift: 0 }, { register: 0x5f, shift: 4 },
    ]);
    const { pci, take, host } = watched();
    pci.write(0, 0, 0x5a, 1, 0x21); // C0000h read-only, C4000h write-only
    expect(take()).toEqual([
      { kind: 'pam', segment: 1, base: 0xc0000, size: 0x4000, access: 'read-only' },
      { kind: 'pam', segment: 2, base: 0xc4000, size: 0x4000, access: 'write-only' },
    ]);
    pci.write(0, 0, 0x5a, 1, 0xe5); // reserved bits 7:6 and 3:2 change nothing
    expect(take()).toEqual([]);
    const [bios, c0, c4] = host.decode().pam;
    expect([bios?.access, c0 && pamReadsRam(c0.access), c0 && pamWritesRam(c0.access), c4 && pamReadsRam(c4.access)]).toEqual(['disabled', true, false, false]);
  });

  it('reports SMRAM when D_OPEN or G_SMRAME changes', () => {
    const { pci, take } = watched();
    pci.write(0, 0, 0x72, 1, 0x4a);
    expect(take()).toEqual([{ kind: 'smram', value: 0x4a, open: true, enabled: true }]);
    pci.write(0, 0, 0x72, 1, 0x5a); // D_LCK: QEMU implements no lock
    expect(take()).toEqual([]);
  });

  it('reports PIRQ routes as the PIIX3 sets them (bit 7 disables)', () => {
    const { pci, take } = watched();
    pci.write(1, 0, 0x60, 4, 0x800b_0a0a);
    expect(take()).toEqual([{ kind: 'pirq', pirq: 0, irq: 10 }, { kind: 'pirq', pirq: 1, irq: 10 }, { kind: 'pirq', pirq: 2, irq: 11 }]);
  });
});

describe('listeners, reset and state', () => {
  it('stops telling a listener once it unsubscribes', () => {
    const { pci, take, stop } = watched();
    stop();
    pci.write(1, 3, 0x80, 1, 0x01);
    expect(take()).toEqual([]);
  });

  it('tells what a reset undoes, as QEMU resets: the header and PIIX registers, not PAM, SMRAM or SMBBA', () => {
    const { host, pci, take } = watched();
    pci.write(0, 0, 0x59, 1, 0x30);
    pci.write(1, 0, 0x60, 1, 0x0a);
    pci.write(1, 1, 0x20, 4, 0xc000);
    pci.write(1, 1, 0x04, 2, 0x0001);
    pci.write(1, 3, 0x40, 4, 0x601);
    pci.write(1, 3, 0x80, 1, 0x01);
    pci.write(1, 3, 0x90, 4, 0x701);
    take();
    host.reset();
    expect(take()).toEqual([
      { kind: 'window', pciFunction: 'piix3-ide', window: 'bus-master', space: 'port', base: 0, size: 16, enabled: false },
      // QEMU restores PMBA's low byte only (01h): 41h keeps 06h, so the base stays 600h, now off.
      { kind: 'window', pciFunction: 'piix4-pm', window: 'pm', space: 'port', base: 0x600, size: 64, enabled: false },
      { kind: 'pirq', pirq: 0, irq: null },
    ]);
    expect(host.decode().pam[0]?.access).toBe('read-write');
    expect(windowOf(host.decode(), 'piix4-pm', 'smbus')).toMatchObject({ base: 0x700, enabled: true });
  });

  it('restores through the wire into a fresh instance, whose listener hears the difference from power-on', () => {
    const { host, pci } = watched();
    pci.write(1, 3, 0x40, 4, 0x601);
    pci.write(1, 3, 0x80, 1, 0x01);
    pci.write(0, 0, 0x5f, 1, 0x11);
    host.write('config-address', 0, 4, 0x8000_0800);
    const decoded = decodeState(encodeState(host.getState()));
    if (!decoded.ok) throw new Error(decoded.reason);
    const state = decoded.state as I440fxPciHostState;
    const moved = new I440fxPciHost(createTestContext(), TRACE_OPTIONS);
    const heard: DecodeChange[] = [];
    moved.onDecodeChange((change) => heard.push(change));
    moved.setState(state);
    expect(heard.map((c) => c.kind === 'window' ? c.window : c.kind === 'pam' ? `pam ${c.segment}` : c.kind)).toEqual(['pm', 'pam 11', 'pam 12']);
    expect(moved.read('config-data', 0, 4)).toBe(0x7000_8086);
    expect(stateDecode(state, TRACE_OPTIONS)).toEqual(host.decode());
    expect(moved.getState()).toEqual(host.getState());
  });

  it('refuses a state of another model, or one missing a function, as a host error', () => {
    const host = new I440fxPciHost(createTestContext(), TRACE_OPTIONS);
    const state = host.getState();
    expect(() => { host.setState({ ...state, model: 'port92' } as unknown as I440fxPciHostState); }).toThrow(/state of port92 given to i440fx-pcihost/);
    expect(() => { host.setState({ ...state, config: { ...state.config, 'std-vga': new Uint8Array(16) } }); }).toThrow(/std-vga/);
  });
});
