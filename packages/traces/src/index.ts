export type { TraceRecord } from './record.ts';
export { TraceError, TraceParser, TraceRecordSchema, parseTrace } from './record.ts';
export { isText, linesOf, readTrace, readTraceSync } from './read.ts';
