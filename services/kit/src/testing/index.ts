/**
 * Helpers for tests that talk to the real PostgreSQL, Redis and NATS.
 * Isolation is cheap: a schema per test, unique stream and subject names.
 */
import { randomBytes } from 'node:crypto';
import type PgModule from 'pg';
import type { z } from 'zod';
import { eventType, type CloudEvent, type ConsumerDef, type EventSubject, type StreamDef } from '@switchyard/contracts';
import { randomUUID } from 'node:crypto';
import { requireCjs } from '../cjs.ts';
import { baseConfig, loadConfig, type BaseConfig } from '../config.ts';
import { createLogger, type Logger } from '../logger.ts';

export const uniqueName = (prefix: string) => `${prefix}_${randomBytes(4).toString('hex')}`;

/** Config for a test: the local services (or DATABASE_URL/REDIS_URL/NATS_URL) and a free health port. */
export function testConfig<S extends z.ZodType = ReturnType<typeof baseConfig>>(
  overrides: Record<string, string> = {},
  schema?: S,
): z.infer<S> & BaseConfig {
  const s = schema ?? baseConfig({ healthPort: 0 });
  return loadConfig(s, {
    ...process.env,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    HEALTH_HOST: '127.0.0.1',
    HEALTH_PORT: '0',
    HEARTBEAT_INTERVAL_MS: '500',
    SHUTDOWN_TIMEOUT_MS: '5000',
    ...overrides,
  }) as z.infer<S> & BaseConfig;
}

export const testLogger = (service = 'test'): Logger =>
  createLogger({ service, instanceId: `${service}-test`, level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** Drops a schema made by a test. */
export async function dropSchema(databaseUrl: string, schema: string): Promise<void> {
  const pg = requireCjs('pg') as typeof PgModule;
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema.replace(/"/g, '""')}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** A stream and consumer pair with unique names, for job and outbox tests. */
export function testStream(prefix = 'test'): { stream: StreamDef; consumer: ConsumerDef; subject: string } {
  const id = uniqueName(prefix).toUpperCase();
  const subject = `${id.toLowerCase()}.jobs`;
  return {
    subject,
    stream: {
      name: id,
      subjects: [`${subject}.>`],
      retention: 'workqueue',
      maxAgeMs: 3_600_000,
      maxBytes: 64 * 1024 * 1024,
      discard: 'new',
      duplicateWindowMs: 60_000,
      description: 'test stream',
    },
    consumer: {
      stream: id,
      durable: 'worker',
      service: 'orchestrator',
      filterSubject: `${subject}.>`,
      ackWaitMs: 2_000,
      maxDeliver: 3,
      maxAckPending: 100,
      description: 'test consumer',
    },
  };
}

/**
 * Waits until `check` returns a value other than undefined/false, re-checking
 * after each `every` ms; fails with `what` after `timeoutMs`. For state that is
 * only observable by asking (an HTTP endpoint, a table).
 */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  opts: { timeoutMs?: number; every?: number } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${lastErr ? `: ${(lastErr as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, opts.every ?? 100));
  }
}

/** An event of the catalog as its owner would announce it (a fresh id, now), for tests that feed consumers. */
export const testEvent = <S extends EventSubject>(subject: S, tenantid: string, data: CloudEvent<S>['data']): CloudEvent<S> => ({
  specversion: '1.0',
  id: randomUUID(),
  source: 'test',
  type: eventType(subject),
  time: new Date().toISOString(),
  datacontenttype: 'application/json',
  tenantid,
  data,
});

export { freePort } from './ports.ts';
export { startNatsServer, type NatsServer } from './nats-server.ts';
export { startCustomerPostgres, type CustomerPostgres } from './customer-postgres.ts';
export { OtlpReceiver, type ReceivedSpan } from './otlp-receiver.ts';
export { startDnsServer, type DnsAnswer, type DnsQuestion, type DnsServer } from './dns-server.ts';
export { SlowProxy } from './slow-proxy.ts';
export { startRedisServer, type RedisServer } from './redis-server.ts';
