export type { I8254Config, I8254State, I8254StateV1, LostTickPolicy } from './i8254/i8254.ts';
export { I8254, migrateState } from './i8254/i8254.ts';
export type { I8254CounterState, I8254CounterStateV1 } from './i8254/counter.ts';
export { encodedValueAt, nextTransition, outAt, valueAt } from './i8254/counter.ts';
export { ControlWord, PIT_HZ, ReadBack, RwMode, Status } from './i8254/registers.ts';
export { Nmisc } from './nmisc.ts';
