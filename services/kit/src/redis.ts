import type { Redis as RedisClient, RedisOptions } from 'ioredis';
import type IORedisModule from 'ioredis';
import { requireCjs } from './cjs.ts';

export type { RedisClient };

export function createRedis(url: string, opts: { name: string }): RedisClient {
  const { Redis } = requireCjs('ioredis') as typeof IORedisModule;
  const options: RedisOptions = {
    connectionName: opts.name,
    // Redis holds only what can be lost or rebuilt: while it is away, commands fail at once (no
    // offline queue) and callers carry on without it; a slow answer gives up after commandTimeout.
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    commandTimeout: 500,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    lazyConnect: true,
  };
  const redis = new Redis(url, options);
  // Errors surface through readiness and command rejections; an 'error' without a listener would crash.
  redis.on('error', () => {});
  return redis;
}
