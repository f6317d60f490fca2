/**
 * One function on the bus: its address (device and function number on bus
 * 0), its configuration layout, and the address windows its configuration
 * makes it decode — a pure function of its 256 bytes, so the board can ask
 * it of a snapshot as well as of a live device.
 */
import type { ConfigLayout, WindowSpace } from './config-space.ts';
import { decodeBar } from './config-space.ts';

/** An address range a function decodes (or would, once enabled). */
export interface FunctionWindow {
  /** The range's name: `bus-master`, `pm`, `framebuffer`, … */
  readonly window: string;
  readonly space: WindowSpace;
  readonly base: number;
  readonly size: number;
  /** Whether the function answers the range now. */
  readonly enabled: boolean;
}

export interface PciFunctionDefinition {
  /** The function's name on the board: `i440fx`, `piix3-isa`, … */
  readonly name: string;
  /** Device (slot) number on bus 0, 0–31. */
  readonly device: number;
  /** Function number, 0–7. */
  readonly function: number;
  readonly layout: ConfigLayout;
  /** The windows `config` makes the function decode, always the same ones in the same order. */
  windows(config: Uint8Array): readonly FunctionWindow[];
}

/** The windows of a function's base address registers, in declaration order. */
export function barWindows(layout: ConfigLayout, config: Uint8Array): FunctionWindow[] {
  return layout.bars.map((bar) => ({ window: bar.window, space: bar.space, size: bar.bytes, ...decodeBar(config, bar) }));
}

/** The device/function byte of a function's configuration address: device in bits 7:3, function in bits 2:0. */
export function devfn(definition: Pick<PciFunctionDefinition, 'device' | 'function'>): number {
  return (definition.device << 3) | definition.function;
}
