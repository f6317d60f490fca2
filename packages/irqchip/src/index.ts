export type { PicPairConfig, PicPairState } from './i8259/pic-pair.ts';
export { ELCR_WRITABLE, PicPair } from './i8259/pic-pair.ts';
export type { I8259State } from './i8259/pic.ts';
export { CASCADE_IRQ, Icw1, Icw4, Ocw2, Ocw3 } from './i8259/registers.ts';
