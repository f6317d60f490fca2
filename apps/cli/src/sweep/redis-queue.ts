/**
 * Where a sweep's runs wait when they are shared between machines: a BullMQ
 * queue in the Redis database a `redis://HOST:PORT/DB` URL names. A job is
 * one run — its spec and the splitvisor version that planned it — under the
 * run's key as its id, so a run is queued once however often its sweep is
 * submitted; its return value is the run's result text, kept in Redis until
 * the sweep collects it.
 */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { Redis } from 'ioredis';
import { CliError } from '../cli-error.ts';
import type { RunSpec } from './run-spec.ts';

export const QUEUE_NAME = 'splitvisor-runs';

/** How long a sweep or worker waits for Redis to answer before it says it cannot: with its own start, within 5 s of being given. */
const REACH_TIMEOUT_MS = 3_000;

/** The version every run of a queue must be made by: results of another could differ. */
export const SPLITVISOR_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export interface RunJob {
  readonly version: string;
  readonly spec: RunSpec;
}

/** `--queue redis://HOST:PORT/DB` (user and password may be given as in any Redis URL), checked for its shape. */
export function redisUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('expected a Redis URL, redis://HOST:PORT/DB');
  }
  if (url.protocol !== 'redis:' || url.hostname === '') throw new InvalidArgumentError('expected a Redis URL, redis://HOST:PORT/DB');
  if (!/^(\/\d*)?$/.test(url.pathname)) throw new InvalidArgumentError(`the database of a Redis URL is a number (redis://HOST:PORT/0), not ${url.pathname.slice(1)}`);
  return value;
}

/** The URL as it may be printed: without its password. */
export function shownUrl(value: string): string {
  const url = new URL(value);
  if (url.password !== '') url.password = '***';
  return url.href;
}

/** What BullMQ connects with: the URL, retried for as long as the sweep or worker runs (BullMQ's workers need no retry limit per request). */
export function connectionOf(url: string): { readonly url: string; readonly maxRetriesPerRequest: null } {
  return { url, maxRetriesPerRequest: null };
}

/**
 * Redis at `url` answered a PING — or one line saying why not, within 3 s:
 * refused, unknown host, or nothing answering in time. BullMQ's own
 * connections retry without end, so this one is made first, and only once.
 */
export async function reachRedis(url: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: REACH_TIMEOUT_MS, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false, disconnectTimeout: 100 });
  let lastError: Error | undefined;
  redis.on('error', (error: Error) => { lastError = error; });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.connect().then(() => redis.ping()),
      new Promise((_, reject) => { timer = setTimeout(() => { reject(new Error(`no answer in ${REACH_TIMEOUT_MS / 1000} s`)); }, REACH_TIMEOUT_MS); }),
    ]);
  } catch (error) {
    const why = (lastError ?? error) instanceof Error ? (lastError ?? (error as Error)).message : String(error);
    throw new CliError(`cannot reach Redis at ${shownUrl(url)}: ${why}`);
  } finally {
    clearTimeout(timer);
    redis.disconnect();
  }
}
