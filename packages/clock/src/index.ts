export { GuestClock } from './guest-clock.ts';
export { QueuedTimer, TimerQueue } from './timer-queue.ts';
