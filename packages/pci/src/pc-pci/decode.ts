/**
 * What the chipset's configuration makes the rest of the machine decode,
 * and how the board hears of a change: the windows of the functions (the
 * PM I/O space and its ACPI PM timer, the IDE bus-master ports, the VGA
 * framebuffer, MMIO and ROM), the PAM segments of C0000h–FFFFFh, the SMRAM
 * control and the PIRQ routing. Each is a pure function of the functions'
 * configuration bytes, so a board can compute it from a snapshot as well as
 * ask the live device; a change is one typed record.
 */
import type { SmramControl } from '../i440fx/i440fx.ts';
import { smramControl } from '../i440fx/i440fx.ts';
import type { PamAccess, PamSegment } from '../i440fx/pam.ts';
import { pamSegments } from '../i440fx/pam.ts';
import type { FunctionWindow, PciFunctionDefinition } from '../pci/pci-function.ts';
import { pirqRoutes } from '../piix3/piix3-isa.ts';
import type { PciFunctionName } from './pc-functions.ts';

/** A window named by its function: `{ pciFunction: 'piix4-pm', window: 'pm', … }`. */
export interface DecodeWindow extends FunctionWindow {
  readonly pciFunction: PciFunctionName;
}

/** Everything the chipset's configuration decides about the address spaces. */
export interface ChipsetDecode {
  readonly windows: readonly DecodeWindow[];
  /** PAM segments 0–12 (F0000h, then C0000h–EC000h). */
  readonly pam: readonly PamSegment[];
  readonly smram: SmramControl;
  /** PIRQA#–PIRQD#: the ISA IRQ each is routed to, or null. */
  readonly pirq: readonly (number | null)[];
}

/**
 * One change the board acts on:
 *
 * - `window`: a function's window moved, or started or stopped being
 *   decoded (`enabled`). Unmap the old range, map `base`…`base + size - 1`
 *   in `space` while `enabled`. A BAR rewritten while its decode is off is
 *   no change (nothing was or is decoded).
 * - `pam`: a segment of C0000h–FFFFFh now sends reads and writes where
 *   `access` says (`read-only`: reads from RAM, writes to the ROM side).
 * - `smram`: D_OPEN or G_SMRAME changed (A0000h–BFFFFh shows RAM to
 *   non-SMM code while `open`).
 * - `pirq`: PIRQ `pirq` (0 = A) is routed to ISA IRQ `irq`, or nowhere.
 */
export type DecodeChange =
  | ({ readonly kind: 'window' } & DecodeWindow)
  | ({ readonly kind: 'pam' } & PamSegment)
  | ({ readonly kind: 'smram' } & SmramControl)
  | { readonly kind: 'pirq'; readonly pirq: number; readonly irq: number | null };

/** A listener for decode changes; it runs inside the guest's configuration write, after it took effect. */
export type DecodeListener = (change: DecodeChange) => void;

/** The decode of the functions' configuration spaces, `config(name)` giving each one's 256 bytes. */
export function chipsetDecode(functions: readonly PciFunctionDefinition[], config: (name: PciFunctionName) => Uint8Array): ChipsetDecode {
  const windows: DecodeWindow[] = [];
  for (const definition of functions) {
    const name = definition.name as PciFunctionName;
    for (const window of definition.windows(config(name))) windows.push({ pciFunction: name, ...window });
  }
  const bridge = config('i440fx');
  return { windows, pam: pamSegments(bridge), smram: smramControl(bridge), pirq: pirqRoutes(config('piix3-isa')) };
}

function sameWindow(a: DecodeWindow, b: DecodeWindow): boolean {
  if (a.enabled !== b.enabled) return false;
  return !a.enabled || (a.base === b.base && a.size === b.size);
}

/** The changes from `before` to `after`, windows first, then PAM segments in order, SMRAM, PIRQs. */
export function decodeChanges(before: ChipsetDecode, after: ChipsetDecode): DecodeChange[] {
  const changes: DecodeChange[] = [];
  for (const window of after.windows) {
    const old = before.windows.find((w) => w.pciFunction === window.pciFunction && w.window === window.window);
    if (old === undefined || !sameWindow(old, window)) changes.push({ kind: 'window', ...window });
  }
  for (const segment of after.pam) {
    const old = before.pam[segment.segment];
    if (old?.access !== segment.access) changes.push({ kind: 'pam', ...segment });
  }
  if (before.smram.open !== after.smram.open || before.smram.enabled !== after.smram.enabled) changes.push({ kind: 'smram', ...after.smram });
  after.pirq.forEach((irq, pirq) => {
    if (before.pirq[pirq] !== irq) changes.push({ kind: 'pirq', pirq, irq });
  });
  return changes;
}

/** Whether a PAM segment's reads come from RAM. */
export function pamReadsRam(access: PamAccess): boolean {
  return access === 'read-only' || access === 'read-write';
}

/** Whether a PAM segment's writes go to RAM. */
export function pamWritesRam(access: PamAccess): boolean {
  return access === 'write-only' || access === 'read-write';
}

/** The window of `pciFunction` named `window` in a decode, e.g. the PM space: `windowOf(decode, 'piix4-pm', 'pm')`. */
export function windowOf(decode: ChipsetDecode, pciFunction: PciFunctionName, window: string): DecodeWindow | undefined {
  return decode.windows.find((w) => w.pciFunction === pciFunction && w.window === window);
}
