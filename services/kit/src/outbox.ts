import { randomUUID } from 'node:crypto';
import { context, SpanKind, trace, type ObservableCallback } from '@opentelemetry/api';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { headers as natsHeaders, type NatsConnection } from '@nats-io/nats-core';
import { eventSchema, eventType, type CloudEvent, type EventData, type EventSubject } from '@switchyard/contracts';
import type { Pool, PoolClient } from 'pg';
import { MessageTooLargeError, maxMessageBytes } from './bounds.ts';
import { observableGauge } from './instruments.ts';
import type { Logger } from './logger.ts';
import { extractTrace, injectTrace, traceCarrier } from './nats.ts';
import { countParked, encodeForPublish, parkRow, PermissionWatch, refusalReason, type ParkedReason } from './outbox-parked.ts';
import { PgListener } from './pg-listener.ts';

const tracer = trace.getTracer('switchyard.outbox');
const parkedGauge = observableGauge(
  'switchyard.outbox',
  'switchyard_outbox_parked_rows',
  'Outbox rows parked because they cannot be published (npm run admin -- outbox-parked); each replica reports its schema\'s count',
);
const pendingGauge = observableGauge('switchyard.outbox', 'switchyard_outbox_pending_rows', 'Outbox rows written but not yet published');
const lagGauge = observableGauge(
  'switchyard.outbox',
  'switchyard_outbox_lag_seconds',
  'Age of the oldest outbox row not yet published (0 when none): how far announcements trail the changes they describe',
);
/** How often the relay counts its backlog for the gauges (a count over the partial index of unpublished rows). */
const BACKLOG_EVERY_MS = 5_000;

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
  attempts: number;
  permanent_failures: number;
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
  /** Consecutive failed publishes that cannot pass before a row is parked (OUTBOX_PARK_AFTER_ATTEMPTS; default 3). */
  parkAfterAttempts?: number;
  /** The `service` attribute of the outbox_parked gauge. */
  service?: string;
}

/**
 * Publishes outbox rows to JetStream with Nats-Msg-Id = event id, so a row
 * published twice (crash between publish and mark) is dropped by the stream.
 * Replicas take turns through an advisory lock, which keeps commit order.
 * A row that fails for a reason that may pass (NATS away) holds up the rows
 * after it; one that fails `parkAfterAttempts` times in a row for a reason
 * that cannot (too large, forbidden, invalid) is parked in outbox_parked,
 * logged and counted, and the rows after it flow.
 */
export class OutboxRelay {
  private readonly js: JetStreamClient;
  private readonly listener: PgListener;
  private stopped = false;
  private wake?: () => void;
  /** Set by a NOTIFY or stop() that came while no wait was in progress (i.e. during a flush). */
  private kicked = false;
  private loop?: Promise<void>;
  private failures = 0;
  private lastCleanup = 0;
  /** The server's max_payload when last connected: a message is checked against it even while NATS is away. */
  private maxPayload = 0;
  private readonly permissions = new PermissionWatch();
  private parked = 0;
  private backlog = { rows: 0, oldest: null as Date | null, at: 0 };
  private readonly observeParked: ObservableCallback = (r) =>
    r.observe(this.parked, { service: this.o.service ?? this.o.schema, schema: this.o.schema });
  private readonly observePending: ObservableCallback = (r) =>
    r.observe(this.backlog.rows, { service: this.o.service ?? this.o.schema, schema: this.o.schema });
  private readonly observeLag: ObservableCallback = (r) =>
    r.observe(this.backlog.oldest ? Math.max(0, (Date.now() - this.backlog.oldest.getTime()) / 1_000) : 0, {
      service: this.o.service ?? this.o.schema,
      schema: this.o.schema,
    });

  constructor(private readonly o: OutboxRelayOptions) {
    this.js = jetstream(o.nc, { timeout: o.publishTimeoutMs ?? 2_000 });
    this.listener = new PgListener({
      url: o.databaseUrl,
      channel: `${o.schema}_outbox`,
      applicationName: `${o.schema}-outbox`,
      log: o.log,
      onNotify: () => this.kick(),
      // Rows may have committed while LISTEN was down: look now rather than at the next poll.
      onListening: () => this.kick(),
    });
  }

  start(): void {
    this.listener.start();
    this.permissions.start(this.o.nc);
    parkedGauge().addCallback(this.observeParked);
    pendingGauge().addCallback(this.observePending);
    lagGauge().addCallback(this.observeLag);
    void this.refreshParked();
    this.loop = this.run();
  }

  /** Stops the loop, then publishes what is still pending (best effort: what is left waits for the next start). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.kick();
    await this.loop;
    await this.flush().catch(() => {});
    await this.listener.stop();
    this.permissions.stop();
    parkedGauge().removeCallback(this.observeParked);
    pendingGauge().removeCallback(this.observePending);
    lagGauge().removeCallback(this.observeLag);
  }

  /** Publishes every pending row it can now (parking those that cannot pass); returns how many were published. */
  async flush(): Promise<number> {
    let total = 0;
    for (;;) {
      const { published, taken } = await this.publishBatch();
      total += published;
      if (taken < (this.o.batchSize ?? 100)) return total;
    }
  }

  /** Re-reads how many rows are parked, for the gauge (after a retry, say). */
  async refreshParked(): Promise<void> {
    try {
      this.parked = await countParked(this.o.pool);
    } catch (err) {
      this.o.log.debug({ err }, 'could not count parked outbox rows');
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
        await this.countBacklog();
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

  private async publishBatch(): Promise<{ published: number; taken: number }> {
    const client = await this.o.pool.connect();
    try {
      await client.query('BEGIN');
      // One relay at a time per schema, so events leave in commit order even with several replicas.
      const { rows: lock } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock(hashtext($1)) AS ok', [
        `switchyard:outbox:${this.o.schema}`,
      ]);
      if (!lock[0]?.ok) {
        await client.query('ROLLBACK');
        return { published: 0, taken: 0 };
      }
      const { rows } = await client.query<Row>(
        `SELECT id, subject, event, trace, attempts, permanent_failures FROM outbox WHERE published_at IS NULL
         ORDER BY created_at, id LIMIT $1 FOR UPDATE`,
        [this.o.batchSize ?? 100],
      );
      const done: string[] = [];
      let parked = 0;
      let failure: unknown;
      for (const row of rows) {
        const started = Date.now();
        try {
          await this.publish(row);
          done.push(row.id);
        } catch (err) {
          const reason = refusalReason(err, () => this.permissions.refusedSince(row.subject, started));
          if (reason && row.permanent_failures + 1 >= (this.o.parkAfterAttempts ?? 3)) {
            await this.park(client, row, reason, err);
            parked++;
            continue;
          }
          failure = err;
          await client.query('UPDATE outbox SET attempts = attempts + 1, permanent_failures = $3, last_error = $2 WHERE id = $1', [
            row.id,
            String((err as Error).message ?? err).slice(0, 500),
            reason ? row.permanent_failures + 1 : 0,
          ]);
          // Keep order: later rows wait for this one.
          break;
        }
      }
      if (done.length) await client.query('UPDATE outbox SET published_at = now() WHERE id = ANY($1::uuid[])', [done]);
      await client.query('COMMIT');
      if (parked) await this.refreshParked();
      if (failure) throw failure;
      return { published: done.length, taken: done.length + parked };
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
      h.set('Nats-Msg-Id', row.id);
      this.maxPayload = this.o.nc.info?.max_payload ?? this.maxPayload;
      const data = encodeForPublish(row.event, h, this.maxPayload);
      await this.js.publish(row.subject, data, { msgID: row.id, headers: h });
    } finally {
      span.end();
    }
  }

  /** Moves a row that cannot pass to outbox_parked; logs it (ids and sizes, never the payload). */
  private async park(client: PoolClient, row: Row, reason: ParkedReason, err: unknown) {
    const error = String((err as Error)?.message ?? err);
    const bytes = Buffer.byteLength(JSON.stringify(row.event) ?? '');
    await parkRow(client, { id: row.id, attempts: row.attempts + 1 }, { reason, error, bytes });
    this.o.log.error(
      { event_id: row.id, subject: row.subject, reason, attempts: row.attempts + 1, bytes, error },
      'outbox row parked: it cannot be published; the rows after it go on (npm run admin -- outbox-parked / outbox-retry)',
    );
  }

  /** What is still waiting to be published, for the pending and lag gauges (at most every few seconds). */
  private async countBacklog() {
    if (Date.now() - this.backlog.at < BACKLOG_EVERY_MS) return;
    const { rows } = await this.o.pool.query<{ rows: number; oldest: Date | null }>(
      'SELECT count(*)::int AS rows, min(created_at) AS oldest FROM outbox WHERE published_at IS NULL',
    );
    this.backlog = { rows: rows[0]?.rows ?? 0, oldest: rows[0]?.oldest ?? null, at: Date.now() };
  }

  private async cleanup() {
    if (Date.now() - this.lastCleanup < 60_000) return;
    this.lastCleanup = Date.now();
    await this.o.pool.query(`DELETE FROM outbox WHERE published_at < now() - interval '1 day'`);
    // Another replica may have parked or retried rows meanwhile.
    await this.refreshParked();
  }
}
