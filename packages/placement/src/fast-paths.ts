// What the placement's I/O fast-path settings reach — plain logic, apart from the schema (and its validator),
// so that a domain built for one placement carries no validator.
import type { FastPathDevices } from './schema.ts';

/** Whether fast path `setting` reaches device `name`. */
export function fastPathFor(setting: FastPathDevices, name: string): boolean {
  return setting === true || (Array.isArray(setting) && (setting as readonly string[]).includes(name));
}
