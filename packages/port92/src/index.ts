export type { Port92State } from './port92/port92.ts';
export { Port92, Port92Line, RESERVED_BITS, SystemControlA } from './port92/port92.ts';
