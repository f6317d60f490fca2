export type { ChannelEnd, ChannelErrorCode, ChannelHandler, ChannelStats } from './channel.ts';
export { ChannelError } from './channel.ts';
export type { DirectChannelOptions } from './direct.ts';
export { createDirectChannel } from './direct.ts';
export type { ParentConnection, WorkerChannel, WorkerChannelOptions } from './worker.ts';
export { connectParent, spawnWorkerChannel } from './worker.ts';
export type { HaltPollOptions } from './halt-poll.ts';
export { DEFAULT_GROW_START_NS, DEFAULT_MAX_SPIN_NS, HaltPoll } from './halt-poll.ts';
