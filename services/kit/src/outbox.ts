import { randomUUID } from 'node:crypto';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { headers as natsHeaders, type NatsConnection } from '@nats-io/nats-core';
import { eventSchema, eventType, type CloudEvent, type EventData, type EventSubject } from '@switchyard/contracts';
import type { Client, Pool, PoolClient } from 'pg';
import type PgModule from 'pg';
import { requireCjs } from './cjs.ts';
import { MessageTooLargeError, maxMessageBytes } from './bounds.ts';
import type { Logger } from './logger.ts';
import { extractTrace, injectTrace, traceCarrier } from './nats.ts';

const tracer = trace.getTracer('switchyard.outbox');

/**
 * Records an event in the caller's transaction. It is published by the relay
 * after commit, and never if the transaction rolls back.
 */
export async function writeEvent<S extends EventSubject>(
  tx: PoolClient,
  source: string,
  subject: S,
  data: EventData<S>,
  opts: { tenantId: string; about?: string },
): Promise<CloudEvent<S>> {
  const event = eventSchema(subject).parse({
    specversion: '1.0',
    id: randomUUID(),
    source,
    type: eventType(subject),
    time: new Date().toISOString(),
    ...(opts.about ? { subject: opts.about } : {}),
    datacontenttype: 'application/json',
    tenantid: opts.tenantId,
    data,
  }) as CloudEvent<S>;
  await writeMessage(tx, subject, event, event.id);
  return event;
}

/**
 * Records any message (a job, say) for publication after commit. `id` becomes
 * its Nats-Msg-Id: the same id written twice is published once. A message
 * over the bound (OUTBOX_MAX_MESSAGE_BYTES, or `maxBytes`) is refused with a
 * MessageTooLargeError, which fails the caller's transaction.
 */
export async function writeMessage(
  tx: PoolClient,
  subject: string,
  payload: unknown,
  id: string,
  opts: { maxBytes?: number } = {},
): Promise<void> {
  const json = JSON.stringify(payload);
  const limit = opts.maxBytes ?? maxMessageBytes();
  const bytes = Buffer.byteLength(json);
  if (bytes > limit) throw new MessageTooLargeError(subject, bytes, limit);
  await tx.query('INSERT INTO outbox (id, subject, event, trace) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING', [
    id,
    subject,
    json,
    traceCarrier(),
  ]);
}

interface Row {
  id: string;
  subject: string;
  event: unknown;
  trace: Record<string, string>;
}

export interface OutboxRelayOptions {
  pool: Pool;
  databaseUrl: string;
  schema: string;
  nc: NatsConnection;
  log: Logger;
  /** Safety net for a missed NOTIFY (e.g. while the LISTEN connection was down). */
  pollMs?: number;
  batchSize?: number;
  publishTimeoutMs?: number;
}

/**
 * Publishes outbox rows to JetStream with Nats-Msg-Id = event id, so a row
 * published twice (crash between publish and mark) is dropped by the stream.
 * Replicas take turns through an advisory lock, which keeps commit order.
 */
export class OutboxRelay {
  private readonly js: JetStreamClient;
  private listener?: Client;
  private stopped = false;
  private wake?: () => void;
  /** Set by a NOTIFY or stop() that came while no wait was in progress (i.e. during a flush). */
  private kicked = false;
  private loop?: Promise<void>;
  private failures = 0;
  private lastCleanup = 0;

  constructor(private readonly o: OutboxRelayOptions) {
    this.js = jetstream(o.nc, { timeout: o.publishTimeoutMs ?? 2_000 });
  }

  start(): void {
    void this.listen();
    this.loop = this.run();
  }

  /** Stops the loop, then publishes what is still pending (best effort: what is left waits for the next start). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.kick();
    await this.loop;
    await this.flush().catch(() => {});
    await this.listener?.end().catch(() => {});
  }

  /** Publishes every pending row it can now; returns how many were published. */
  async flush(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.publishBatch();
      total += n;
      if (n < (this.o.batchSize ?? 100)) return total;
    }
  }

  private async run() {
    const pollMs = this.o.pollMs ?? 1_000;
    while (!this.stopped) {
      this.kicked = false;
      try {
        await this.flush();
        this.failures = 0;
        await this.cleanup();
      } catch (err) {
        this.failures++;
        if (this.failures === 1 || this.failures % 30 === 0)
          this.o.log.warn({ err, failures: this.failures }, 'outbox relay could not publish; will retry');
      }
      // Woken while flushing: a row may have committed after our SELECT, or stop() is waiting.
      if (this.kicked) continue;
      // Back off while NATS or PostgreSQL is away, up to 5 s.
      const wait = this.failures ? Math.min(pollMs * 2 ** Math.min(this.failures, 5), 5_000) : pollMs;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, wait);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  private kick() {
    this.kicked = true;
    this.wake?.();
  }

  private async publishBatch(): Promise<number> {
    const client = await this.o.pool.connect();
    try {
      await client.query('BEGIN');
      // One relay at a time per schema, so events leave in commit order even with several replicas.
      const { rows: lock } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock(hashtext($1)) AS ok', [
        `switchyard:outbox:${this.o.schema}`,
      ]);
      if (!lock[0]?.ok) {
        await client.query('ROLLBACK');
        return 0;
      }
      const { rows } = await client.query<Row>(
        `SELECT id, subject, event, trace FROM outbox WHERE published_at IS NULL
         ORDER BY created_at, id LIMIT $1 FOR UPDATE`,
        [this.o.batchSize ?? 100],
      );
      const done: string[] = [];
      let failure: unknown;
      for (const row of rows) {
        try {
          await this.publish(row);
          done.push(row.id);
        } catch (err) {
          failure = err;
          await client.query('UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1', [
            row.id,
            String((err as Error).message ?? err).slice(0, 500),
          ]);
          // Keep order: later rows wait for this one.
          break;
        }
      }
      if (done.length) await client.query('UPDATE outbox SET published_at = now() WHERE id = ANY($1::uuid[])', [done]);
      await client.query('COMMIT');
      if (failure) throw failure;
      return done.length;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  private async publish(row: Row) {
    const parent = extractTrace(row.trace);
    const span = tracer.startSpan(
      `${row.subject} publish`,
      { kind: SpanKind.PRODUCER, attributes: { 'messaging.system': 'nats', 'messaging.destination.name': row.subject } },
      parent,
    );
    try {
      const h = injectTrace(natsHeaders(), trace.setSpan(context.active(), span));
      h.set('Content-Type', 'application/cloudevents+json');
      await this.js.publish(row.subject, JSON.stringify(row.event), { msgID: row.id, headers: h });
    } finally {
      span.end();
    }
  }

  private async cleanup() {
    if (Date.now() - this.lastCleanup < 60_000) return;
    this.lastCleanup = Date.now();
    await this.o.pool.query(`DELETE FROM outbox WHERE published_at < now() - interval '1 day'`);
  }

  private async listen() {
    if (this.stopped) return;
    const pg = requireCjs('pg') as typeof PgModule;
    const client = new pg.Client({ connectionString: this.o.databaseUrl, application_name: `${this.o.schema}-outbox` });
    this.listener = client;
    const retry = () => {
      client.end().catch(() => {});
      if (!this.stopped) setTimeout(() => void this.listen(), 1_000).unref();
    };
    client.on('error', retry);
    client.on('notification', () => this.kick());
    try {
      await client.connect();
      await client.query(`LISTEN "${this.o.schema}_outbox"`);
    } catch {
      client.removeAllListeners('error');
      retry();
    }
  }
}
