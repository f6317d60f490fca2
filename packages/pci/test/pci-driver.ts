// Configuration space the way firmware reaches it (SeaBIOS's pci_config_readl & co): CONFIG_ADDRESS written as a
// dword at CF8h, then CONFIG_DATA at CFCh + (register & 3) with the access width.
import type { AccessSize } from '@splitvisor/abi';
import type { I440fxPciHost, I440fxPciHostOptions } from '../src/index.ts';

export const MIB: number = 1024 * 1024;

/** The options of the shared traces' QEMU run: `-M pc -m 256`, the rest QEMU's defaults. */
export const TRACE_OPTIONS: I440fxPciHostOptions = { ramBytes: 256 * MIB };

export function configAddress(device: number, fn: number, register: number, bus = 0): number {
  return (0x8000_0000 | (bus << 16) | (device << 11) | (fn << 8) | (register & 0xfc)) >>> 0;
}

export interface PciDriver {
  read(device: number, fn: number, register: number, size: AccessSize): number;
  write(device: number, fn: number, register: number, size: AccessSize, value: number): void;
}

export function pciDriver(host: I440fxPciHost): PciDriver {
  const select = (device: number, fn: number, register: number) => {
    host.write('config-address', 0, 4, configAddress(device, fn, register));
  };
  return {
    read(device: number, fn: number, register: number, size: AccessSize): number {
      select(device, fn, register);
      return host.read('config-data', register & 3, size);
    },
    write(device: number, fn: number, register: number, size: AccessSize, value: number): void {
      select(device, fn, register);
      host.write('config-data', register & 3, size, value);
    },
  };
}

export function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (byte) => parseInt(byte, 16));
}
