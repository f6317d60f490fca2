/**
 * QEMU's own trace log, as users record it with the `log` trace backend:
 * `-trace memory_region_ops_read -trace memory_region_ops_write
 * [-trace cpu_in -trace cpu_out] -msg timestamp=on -D FILE` (plain or
 * gzip), read into the same records as the JSON Lines traces.
 *
 * Line formats (QEMU's trace-events; the prefix is the log backend's):
 *
 *   [PID@SEC.USEC:]memory_region_ops_read cpu N mr 0xPTR addr 0xA value 0xV size S name 'NAME'
 *   [PID@SEC.USEC:]memory_region_ops_write …the same…
 *   [PID@SEC.USEC:]cpu_in addr 0xA(C) value U          (C: b, w or l)
 *   [PID@SEC.USEC:]cpu_out addr 0xA(C) value U
 *
 * `PID@SEC.USEC:` is what QEMU up to 9.x prints with `-msg timestamp=on`;
 * later QEMU prints an ISO 8601 UTC time and a space first
 * (`2025-01-02T03:04:05.123456Z `); both are accepted, with or without the
 * other. A line with no time keeps the previous record's t.
 *
 * `addr` is absolute within its address space (QEMU logs
 * memory_region_to_absolute_addr: the shared traces' raw lines show
 * `addr 0x404 … name 'isa-debugcon'` for the debugcon at 404h and
 * `edid` at FEBF00xxh). Which space — port I/O or memory — is not in the
 * line, so it comes from the region's name (REGIONS); a name not in the
 * table is port I/O below 10000h, as on QEMU's `pc` machine, where nothing
 * below A0000h of the memory space is dispatched to a device. An address
 * outside a single-window region's window but inside its length is taken as
 * an offset into it (older logs) and rebased.
 *
 * Interrupt messages — writes QEMU's I/O APIC makes into the `apic-msi`
 * window (cpu -1, or an offset above FFFh or below 10h, the rule of QEMU's
 * apic_mem_write) — are not guest accesses; they are counted and left out,
 * as in the shared traces. `cpu_in`/`cpu_out` right after the
 * memory_region_ops record of the same access is that access logged twice
 * and is dropped.
 */
import type { TraceRecord } from '@splitvisor/traces';
import { TraceError, linesOf, readTrace } from '@splitvisor/traces';

interface RegionWindow {
  readonly space: 'pio' | 'mmio';
  /** Where QEMU's pc machine puts it ([base, length]); several for a region registered more than once; none where firmware picks (PCI BARs). */
  readonly windows: readonly (readonly [number, number])[];
}

/**
 * QEMU `pc` (i440FX) MemoryRegion names and where the machine maps them,
 * checked against the shared traces (which carry both `addr` and `mr`).
 */
export const REGIONS: Readonly<Record<string, RegionWindow>> = {
  'io': { space: 'pio', windows: [] }, // unassigned ports
  'dma-chan': { space: 'pio', windows: [[0x00, 0x08], [0xc0, 0x10]] },
  'dma-cont': { space: 'pio', windows: [[0x08, 0x08], [0xd0, 0x10]] },
  'dma-page': { space: 'pio', windows: [[0x81, 0x0f]] },
  'pic': { space: 'pio', windows: [[0x20, 2], [0xa0, 2]] },
  'pit': { space: 'pio', windows: [[0x40, 4]] },
  'i8042-data': { space: 'pio', windows: [[0x60, 1]] },
  'pcspk': { space: 'pio', windows: [[0x61, 1]] },
  'i8042-cmd': { space: 'pio', windows: [[0x64, 1]] },
  'rtc-index': { space: 'pio', windows: [[0x70, 1]] },
  'rtc': { space: 'pio', windows: [[0x71, 1]] },
  'kvmvapic': { space: 'pio', windows: [[0x7e, 2]] },
  'ioport80': { space: 'pio', windows: [[0x80, 1]] },
  'port92': { space: 'pio', windows: [[0x92, 1]] },
  'apm-io': { space: 'pio', windows: [[0xb2, 2]] },
  'ioportF0': { space: 'pio', windows: [[0xf0, 1]] },
  'ide': { space: 'pio', windows: [[0x1f0, 8], [0x3f6, 1], [0x170, 8], [0x376, 1]] },
  'vbe': { space: 'pio', windows: [[0x1ce, 2]] },
  'parallel': { space: 'pio', windows: [[0x378, 8]] },
  'vga': { space: 'pio', windows: [[0x3b0, 0x30]] },
  'fdc': { space: 'pio', windows: [[0x3f0, 6], [0x3f7, 1]] },
  'serial': { space: 'pio', windows: [[0x3f8, 8], [0x2f8, 8], [0x3e8, 8], [0x2e8, 8]] },
  'isa-debugcon': { space: 'pio', windows: [] },
  'elcr': { space: 'pio', windows: [[0x4d0, 2]] },
  'fwcfg': { space: 'pio', windows: [[0x510, 2]] },
  'fwcfg.dma': { space: 'pio', windows: [[0x514, 8]] },
  'acpi-evt': { space: 'pio', windows: [[0x600, 4]] },
  'acpi-cnt': { space: 'pio', windows: [[0x604, 2]] },
  'acpi-tmr': { space: 'pio', windows: [[0x608, 4]] },
  'pci-conf-idx': { space: 'pio', windows: [[0xcf8, 4]] },
  'pci-conf-data': { space: 'pio', windows: [[0xcfc, 4]] },
  'acpi-pci-hotplug': { space: 'pio', windows: [[0xae00, 0x18]] },
  'acpi-cpu-hotplug': { space: 'pio', windows: [[0xaf00, 0x20]] },
  'acpi-gpe0': { space: 'pio', windows: [[0xafe0, 4]] },
  'piix-bmdma': { space: 'pio', windows: [] }, // PIIX IDE BAR4, placed by firmware
  'bmdma': { space: 'pio', windows: [] },
  'vga-lowmem': { space: 'mmio', windows: [[0xa0000, 0x20000]] },
  'edid': { space: 'mmio', windows: [] }, // std-VGA BAR2, placed by firmware
  'ioapic': { space: 'mmio', windows: [[0xfec0_0000, 0x1000]] },
  'hpet': { space: 'mmio', windows: [[0xfed0_0000, 0x400]] },
  'apic-msi': { space: 'mmio', windows: [[0xfee0_0000, 0x10_0000]] },
};

/** What reading a log gave beyond its records. */
export interface QemuTraceLog {
  readonly records: TraceRecord[];
  /** I/O APIC interrupt messages left out (they are not guest accesses). */
  readonly interruptMessages: number;
  /** cpu_in/cpu_out lines that repeated the access logged just before them. */
  readonly duplicatePortLines: number;
}

const PREFIX = String.raw`^(?:(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:?\d\d) )?(?:\d+@(\d+)\.(\d{6}):)?`;
const OPS = new RegExp(`${PREFIX}memory_region_ops_(read|write) cpu (-?\\d+) mr (?:0x[0-9a-fA-F]+|\\(nil\\)) addr 0x([0-9a-fA-F]+) value 0x([0-9a-fA-F]+) size (\\d+) name '(.*)'$`);
const PORT = new RegExp(`${PREFIX}cpu_(in|out) addr 0x([0-9a-fA-F]+)\\(([bwl])\\) value (\\d+)$`);
const PORT_SIZES = { b: 1, w: 2, l: 4 } as const;

/** Host time in ns: a bigint, since ns since 1970 are past 2^53. */
interface Stamp { readonly ns: bigint | undefined }

function stampOf(match: RegExpExecArray, line: number): Stamp {
  const [, iso, fraction, zone, sec, usec] = match;
  if (sec !== undefined && usec !== undefined) return { ns: (BigInt(sec) * 1_000_000n + BigInt(usec)) * 1000n };
  if (iso !== undefined && zone !== undefined) {
    const ms = Date.parse(`${iso}${zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone}`);
    if (Number.isNaN(ms)) throw new TraceError(`line ${line}: bad timestamp ${iso}${zone}`);
    return { ns: BigInt(ms) * 1_000_000n + BigInt((fraction ?? '0').padEnd(9, '0').slice(0, 9)) };
  }
  return { ns: undefined };
}

/** Where a region-relative or absolute `addr` of region `mr` sits, and in which space. */
function place(mr: string, addr: number): { kind: 'pio' | 'mmio'; addr: number } {
  const region = REGIONS[mr];
  if (region === undefined) return { kind: addr < 0x1_0000 ? 'pio' : 'mmio', addr };
  const inside = region.windows.some(([base, length]) => addr >= base && addr < base + length);
  const only = region.windows.length === 1 ? region.windows[0] : undefined;
  if (!inside && only !== undefined && addr < only[1]) return { kind: region.space, addr: only[0] + addr };
  return { kind: region.space, addr };
}

/** Parses the lines of a QEMU trace log; `name` is for messages. */
export async function parseQemuTraceLog(lines: AsyncIterable<string> | Iterable<string>, name = 'trace'): Promise<QemuTraceLog> {
  const records: TraceRecord[] = [];
  let interruptMessages = 0;
  let duplicatePortLines = 0;
  let first: bigint | undefined;
  let last = 0;
  let line = 0;
  let previousWasOps = false;
  const at = (stamp: Stamp, where: number): number => {
    if (stamp.ns === undefined) return last;
    first ??= stamp.ns;
    const t = Number(stamp.ns - first);
    if (t < last) throw new TraceError(`${name} line ${where}: time goes backwards (${t} ns after ${last} ns)`);
    return t;
  };
  for await (const raw of lines) {
    line++;
    const text = raw.trimEnd();
    if (text === '') continue;
    const ops = OPS.exec(text);
    if (ops !== null) {
      const [, , , , , , op, cpu, addrHex, valueHex, sizeText, mr] = ops as unknown as string[];
      const size = Number(sizeText);
      const offset = Number.parseInt(addrHex ?? '', 16);
      const region = mr ?? '';
      const t = at(stampOf(ops, line), line);
      last = t;
      previousWasOps = false;
      if (op === 'write' && region === 'apic-msi' && (cpu === '-1' || (offset & 0xf_ffff) > 0xfff || (offset & 0xf_ffff) < 0x10)) {
        interruptMessages++;
        continue;
      }
      if (cpu === '-1') {
        interruptMessages++; // raised from a QEMU timer or the main loop, not by the guest
        continue;
      }
      if (size !== 1 && size !== 2 && size !== 4 && size !== 8) throw new TraceError(`${name} line ${line}: access size ${sizeText ?? ''} (expected 1, 2, 4 or 8)`);
      const { kind, addr } = place(region, offset);
      const value = BigInt(`0x${valueHex ?? '0'}`) & ((1n << BigInt(8 * size)) - 1n); // what the guest receives: size bytes
      const kindOp = op === 'read' ? 'r' : 'w';
      if (kind === 'pio' && addr + size > 0x1_0000) throw new TraceError(`${name} line ${line}: port 0x${addr.toString(16)} is past 0xffff`);
      // A 64-bit access reaches the 4-byte-wide models as its two halves, low first.
      const halves = size === 8 ? [[addr, value & 0xffff_ffffn, 4], [addr + 4, value >> 32n, 4]] as const : [[addr, value, size]] as const;
      for (const [a, v, s] of halves) records.push({ t, kind, op: kindOp, addr: a, size: s, value: Number(v), mr: region });
      previousWasOps = true;
      continue;
    }
    const port = PORT.exec(text);
    if (port !== null) {
      const [, , , , , , direction, addrHex, sizeChar, valueText] = port as unknown as string[];
      const t = at(stampOf(port, line), line);
      const size = PORT_SIZES[sizeChar as 'b' | 'w' | 'l'];
      const addr = Number.parseInt(addrHex ?? '', 16);
      const value = Number(valueText) % 2 ** (8 * size);
      const op = direction === 'in' ? 'r' : 'w';
      if (addr + size > 0x1_0000) throw new TraceError(`${name} line ${line}: port 0x${addr.toString(16)} is past 0xffff`);
      last = t;
      const before = records.at(-1);
      // QEMU's cpu_inb/outb dispatch first (logging memory_region_ops_*) and then log cpu_in/out.
      if (previousWasOps && before?.kind === 'pio' && before.addr === addr && before.op === op && before.value === value) {
        duplicatePortLines++;
      } else {
        records.push({ t, kind: 'pio', op, addr, size, value, mr: 'cpu-io' });
      }
      previousWasOps = false;
      continue;
    }
    throw new TraceError(`${name} line ${line}: not a memory_region_ops_read/write or cpu_in/out line of QEMU's log trace backend: ${text.slice(0, 120)}`);
  }
  if (records.length === 0) throw new TraceError(`${name}: no guest accesses`);
  return { records, interruptMessages, duplicatePortLines };
}

export async function readQemuTraceLog(path: string): Promise<QemuTraceLog> {
  return parseQemuTraceLog(linesOf(path), path);
}

/** A trace in either format, told apart by its first non-blank line (`{`: JSON Lines). */
export async function readAnyTrace(path: string): Promise<QemuTraceLog> {
  let json = false;
  for await (const text of linesOf(path)) {
    if (text.trim() === '') continue;
    json = text.trimStart().startsWith('{');
    break;
  }
  if (json) return { records: await readTrace(path), interruptMessages: 0, duplicatePortLines: 0 };
  return readQemuTraceLog(path);
}
