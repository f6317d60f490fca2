/**
 * What the kernel checks of a device host's request before it looks at what
 * it holds: each field of the kind and range the ioctl defines, as a
 * sentence naming what is wrong, or undefined. The device host is not
 * trusted — a request from untyped code may carry anything in any field —
 * so nothing here assumes the types the abi declares, and nothing throws.
 */
import type { AddressSpace, FastPathDescriptor } from '@splitvisor/abi';
import { MAX_INSTRUCTIONS, MAX_MEMORY_BYTES, MAX_SCRATCH_BYTES, verifyProgram } from '@splitvisor/abi';

/** The bytes of each space an access can reach: 16-bit ports, MMIO below 2^52, 32-bit MSR indices. */
const SPACE_BYTES: Readonly<Record<AddressSpace, number>> = { port: 0x1_0000, mmio: 2 ** 52, msr: 2 ** 32 };

/** Any value, as a message may name it (String() of a symbol or a record with a hostile toString would throw). */
export function shown(value: unknown): string {
  switch (typeof value) {
    case 'string': return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    case 'number': case 'boolean': case 'bigint': return String(value);
    case 'undefined': return 'nothing';
    case 'object':
      if (value === null) return 'null';
      if (value instanceof Uint8Array) return `${value.length} bytes`;
      return Array.isArray(value) ? 'an array' : 'a record';
    default: return `a ${typeof value}`;
  }
}

/** A number in hex as the README and the SDM write addresses (1F0h); anything else as `shown` says it. */
export function hex(value: unknown): string {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? `${value.toString(16)}h` : shown(value);
}

export function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

export function isSpace(value: unknown): value is AddressSpace {
  return typeof value === 'string' && Object.hasOwn(SPACE_BYTES, value);
}

/** An integer from 0 to `max`. */
export function isUint(value: unknown, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max;
}

/** Why `device` names no device (a name is a non-empty string), or undefined. */
export function badName(device: unknown, what: string): string | undefined {
  return typeof device === 'string' && device !== '' ? undefined : `${what}: ${shown(device)} names no device`;
}

/** Why `range` is no range of its space — a non-empty run of bytes from a non-negative integer address, all inside the space — or undefined. */
export function badRange(range: unknown, what: string): string | undefined {
  if (!isRecord(range)) return `${what}: ${shown(range)} is no range`;
  const { space, address, length } = range;
  if (!isSpace(space)) return `${what}: no address space ${shown(space)}`;
  if (!isUint(address, Number.MAX_SAFE_INTEGER) || !isUint(length, Number.MAX_SAFE_INTEGER) || length < 1 || address + length > SPACE_BYTES[space]) {
    return `${what}: ${shown(length)} bytes at ${space} ${hex(address)} are not within the ${space} space`;
  }
  return undefined;
}

/**
 * The inputs of the irqchip the kernel's lines go to: GSIs 0 to `gsis` - 1,
 * and the board's lines that a select in front of it takes besides (the
 * legacy replacement route's, above the GSIs).
 */
export interface IrqchipInputs {
  readonly gsis: number;
  readonly boardLines?: readonly number[];
}

/**
 * KVM's in-kernel irqchip as KVM_CREATE_IRQCHIP sets it up
 * (Documentation/virt/kvm/api.rst): GSIs 0–15 to the 8259 pair and the
 * I/O APIC, 16–23 to the I/O APIC only — its 24 inputs.
 */
export const KVM_IRQCHIP_INPUTS: IrqchipInputs = { gsis: 24 };

/** Why `gsi` at `level` is no input of `inputs` to drive, or undefined. */
export function badLine(gsi: unknown, level: unknown, inputs: IrqchipInputs): string | undefined {
  if (typeof level !== 'boolean') return `irq line ${hex(gsi)}: level ${shown(level)} is neither high nor low`;
  if (isUint(gsi, inputs.gsis - 1) || (typeof gsi === 'number' && inputs.boardLines?.includes(gsi) === true)) return undefined;
  const board = inputs.boardLines === undefined || inputs.boardLines.length === 0 ? '' : ` or board lines ${inputs.boardLines.map(hex).join(', ')}`;
  return `irq line ${shown(gsi)} is no input of the kernel's irqchip (GSIs 0–${inputs.gsis - 1}${board})`;
}

/**
 * Why a KVM_INTERRUPT vector is none, or undefined. Any of 0–255 is one
 * (KVM_NR_INTERRUPTS): the SDM reserves 0–31 for exceptions (vol. 3A §6.2),
 * but the processor takes whatever vector an 8259 sends, and a real-mode
 * BIOS puts IRQ 0–7 at 08h–0Fh — refusing them would refuse the PC's own.
 */
export function badVector(vector: unknown): string | undefined {
  return isUint(vector, 0xff) ? undefined : `vector ${shown(vector)} is not one of 0–255`;
}

/** MSI address (Intel SDM vol. 3A §11.11.1): FEEh in 31:20, destination ID 19:12, reserved 11:4, RH bit 3, DM bit 2, 1:0 ignored. */
const MSI_WINDOW_MASK = 0xfff0_0000;
const MSI_WINDOW = 0xfee0_0000;
const MSI_ADDRESS_RESERVED = 0x0000_0ff0;
/** MSI data (§11.11.2): vector 7:0, delivery mode 10:8, reserved 13:11, level 14, trigger mode 15, reserved 31:16. */
const MSI_DATA_RESERVED = 0xffff_3800;

/**
 * Why an MSI is no message a local APIC decodes, or undefined: a 32-bit
 * address in the FEEx_xxxxh window, and no reserved bit set in the address
 * or the data (the device host's I/O APIC sets none). The vector and
 * delivery mode are the guest's choice, and the local APIC's to judge: a
 * vector 0–15 is an illegal vector it reports in its ESR (§11.5.2, §11.5.3),
 * as it does with the I/O APIC beside it in the kernel.
 */
export function badMsi(address: unknown, data: unknown): string | undefined {
  if (!isUint(address, 0xffff_ffff) || !isUint(data, 0xffff_ffff)) return `MSI ${hex(address)}: address and data are 32-bit values (${shown(address)}, ${shown(data)})`;
  if ((address & MSI_WINDOW_MASK) >>> 0 !== MSI_WINDOW) return `MSI address ${hex(address)} is outside the local APICs' FEEx_xxxxh window`;
  if ((address & MSI_ADDRESS_RESERVED) !== 0) return `MSI address ${hex(address)} sets reserved bits 11:4`;
  if ((data & MSI_DATA_RESERVED) >>> 0 !== 0) return `MSI data ${hex(data)} sets reserved bits (31:16, 13:11)`;
  return undefined;
}

/**
 * Why `length` bytes at `address` are no run of guest memory one request
 * may move — a non-negative integer address, 0 to MAX_MEMORY_BYTES bytes,
 * all inside the `ramBytes` of guest RAM — or undefined.
 */
function badMemoryRun(what: string, address: unknown, length: unknown, ramBytes: number): string | undefined {
  if (!isUint(address, Number.MAX_SAFE_INTEGER)) return `${what}: address ${shown(address)} is not a non-negative integer`;
  if (!isUint(length, MAX_MEMORY_BYTES)) return `${what}: ${shown(length)} bytes at ${hex(address)} (one request moves 0 to ${MAX_MEMORY_BYTES})`;
  if (address > ramBytes || length > ramBytes - address) {
    return `${what}: ${length} bytes at ${hex(address)} to ${hex(address + length)} are not inside guest RAM (0h to ${hex(ramBytes)})`;
  }
  return undefined;
}

/** Why a `read-memory` of `length` bytes at `address` is none the kernel serves from `ramBytes` of guest RAM, or undefined. */
export function badMemoryRead(address: unknown, length: unknown, ramBytes: number): string | undefined {
  return badMemoryRun('read-memory', address, length, ramBytes);
}

/** Why a `write-memory` of `bytes` at `address` is none the kernel serves into `ramBytes` of guest RAM, or undefined. */
export function badMemoryWrite(address: unknown, bytes: unknown, ramBytes: number): string | undefined {
  if (!(bytes instanceof Uint8Array)) return `write-memory at ${hex(address)}: ${shown(bytes)} where bytes go`;
  return badMemoryRun('write-memory', address, bytes.length, ramBytes);
}

/** The widths a counter and a cached read serve (the codec's). */
const COUNTER_SIZES: readonly unknown[] = [1, 2, 4, 8];
const CACHED_READ_SIZES: readonly unknown[] = [1, 2, 4];
const MAX_INVALIDATING_RANGES = 16;

/**
 * Why `descriptor` is no fast path the kernel could serve as sent — its
 * kind, widths, value, invalidating ranges, or a program its verifier
 * refuses — or undefined. Where it may be served (its range, its device)
 * is the domain's to check against what it holds.
 */
export function badDescriptor(descriptor: unknown, what: string): string | undefined {
  if (!isRecord(descriptor)) return `${what}: ${shown(descriptor)} is no fast path`;
  const d = descriptor;
  switch (d.kind) {
    case 'counter':
      if (!COUNTER_SIZES.includes(d.size)) return `${what}: reads of ${shown(d.size)} bytes (a counter serves 1, 2, 4 or 8)`;
      if (!isUint(d.widthBits, 64) || d.widthBits < 1) return `${what}: ${shown(d.widthBits)} bits wide (1 to 64)`;
      if (typeof d.frequencyHz !== 'number' || !Number.isFinite(d.frequencyHz) || d.frequencyHz <= 0) return `${what}: a clock of ${shown(d.frequencyHz)} Hz`;
      if (typeof d.base !== 'bigint' || d.base < 0n || d.base >= 1n << BigInt(d.widthBits)) return `${what}: base ${shown(d.base)} does not fit ${d.widthBits} bits`;
      if (!isUint(d.epoch, Number.MAX_SAFE_INTEGER)) return `${what}: epoch ${shown(d.epoch)} is no time`;
      if (typeof d.running !== 'boolean') return `${what}: running is ${shown(d.running)}`;
      return undefined;
    case 'cached-read': {
      if (!CACHED_READ_SIZES.includes(d.size)) return `${what}: reads of ${shown(d.size)} bytes (a cached read serves 1, 2 or 4)`;
      const size = d.size as number;
      if (d.value !== null && !isUint(d.value, 2 ** (8 * size) - 1)) return `${what}: value ${shown(d.value)} does not fit ${size} bytes`;
      if (!Array.isArray(d.invalidatedBy) || d.invalidatedBy.length > MAX_INVALIDATING_RANGES) return `${what}: invalidated by ${shown(d.invalidatedBy)} (a list of at most ${MAX_INVALIDATING_RANGES} ranges)`;
      for (const range of d.invalidatedBy as readonly unknown[]) {
        const bad = badRange(range, `${what}, invalidated by`);
        if (bad !== undefined) return bad;
      }
      return undefined;
    }
    case 'program': {
      const { program, scratch } = d;
      if (!isRecord(program) || !Array.isArray(program.instructions) || program.instructions.length > MAX_INSTRUCTIONS || !isUint(program.scratchBytes, MAX_SCRATCH_BYTES)) {
        return `${what}: ${shown(program)} is no program of at most ${MAX_INSTRUCTIONS} instructions and ${MAX_SCRATCH_BYTES} bytes of scratch`;
      }
      const refused = verifyProgram(program as unknown as Extract<FastPathDescriptor, { kind: 'program' }>['program']);
      if (refused !== undefined) return `${what}: the verifier refuses it: ${refused}`;
      if (!(scratch instanceof Uint8Array) || scratch.length !== program.scratchBytes) return `${what}: ${shown(scratch)} of scratch for a program of ${program.scratchBytes} bytes`;
      return undefined;
    }
    default:
      return `${what}: no fast path of kind ${shown(d.kind)}`;
  }
}
