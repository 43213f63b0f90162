import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { trace, type TextMapPropagator } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/nats-core';
import { ApiKeyCreated, eventSchema, streams, type CloudEvent } from '@switchyard/contracts';
import { createPool, migrate, withTransaction, type Pool } from './db.ts';
import { connectNats, type NatsConnection } from './nats.ts';
import { provision } from './provision.ts';
import { DEFAULT_MAX_MESSAGE_BYTES, MessageTooLargeError, setMaxMessageBytes } from './bounds.ts';
import { OutboxRelay, writeEvent, writeMessage } from './outbox.ts';
import { dropSchema, eventually, testConfig, testLogger, uniqueName } from './testing/index.ts';

// Spans must exist for trace context to be written with a row, as they do in a service.
const provider = new NodeTracerProvider();
provider.register({ propagator: new W3CTraceContextPropagator() as TextMapPropagator });
const tracer = trace.getTracer('outbox-test');

const KIT_MIGRATIONS = fileURLToPath(new URL('../migrations', import.meta.url));
const SUBJECT = 'events.api_key.created';
const config = testConfig();
const log = testLogger('outbox-test');
const schema = uniqueName('kit_outbox');
// Event subjects are fixed and EVENTS is shared, so this file's events are told apart by their source.
const source = `kit-test/${schema}`;
const tenantId = `kit-test-${schema}`;

let pool: Pool;
let nc: NatsConnection;
let jsm: JetStreamManager;
let firstSeq = 0;
const relays: OutboxRelay[] = [];

beforeAll(async () => {
  await migrate({ url: config.DATABASE_URL, schema, dir: KIT_MIGRATIONS, log });
  pool = createPool({ url: config.DATABASE_URL, schema, max: 4, applicationName: 'kit-outbox-test' });
  nc = await connectNats({ servers: config.NATS_URL, name: 'outbox-test', log });
  await provision(nc, { streams: [streams.events] });
  jsm = await jetstreamManager(nc);
  firstSeq = await lastSeq();
});

afterAll(async () => {
  await Promise.all(relays.map((r) => r.stop()));
  // EVENTS is shared: take this file's events out of it again.
  for (const m of await storedSince(firstSeq)) await jsm.streams.deleteMessage(streams.events.name, m.seq);
  await pool.end();
  await nc.close();
  await dropSchema(config.DATABASE_URL, schema);
  await provider.shutdown();
});

const newRelay = (pollMs?: number) => {
  const relay = new OutboxRelay({ pool, databaseUrl: config.DATABASE_URL, schema, nc, log, pollMs });
  relays.push(relay);
  return relay;
};

const keyCreated = () => ({ key_id: randomUUID(), tenant_id: tenantId, role: 'editor' as const, name: 'ci key' });

/** Commits one event and returns it. */
const commitEvent = (about?: string) =>
  withTransaction(pool, (tx) => writeEvent(tx, source, SUBJECT, keyCreated(), { tenantId, about }));

const lastSeq = async () => (await jsm.streams.info(streams.events.name)).state.last_seq;

interface Stored {
  seq: number;
  msgId: string | undefined;
  headers: MsgHdrs;
  event: CloudEvent<typeof SUBJECT>;
}

/** This file's events stored in EVENTS after sequence `afterSeq`, in order, each checked against its contract. */
async function storedSince(afterSeq: number): Promise<Stored[]> {
  const out: Stored[] = [];
  const last = await lastSeq();
  for (let seq = afterSeq + 1; seq <= last; seq++) {
    const m = await jsm.streams.getMessage(streams.events.name, { seq });
    if (!m || m.subject !== SUBJECT || m.json<{ source?: string }>().source !== source) continue;
    const event = eventSchema(SUBJECT).parse(m.json()) as CloudEvent<typeof SUBJECT>;
    out.push({ seq: m.seq, msgId: m.header.get('Nats-Msg-Id'), headers: m.header, event });
  }
  return out;
}

const row = async (id: string) =>
  (
    await pool.query<{ published_at: Date | null; trace: Record<string, string> }>(
      'SELECT published_at, trace FROM outbox WHERE id = $1',
      [id],
    )
  ).rows[0];

describe('writeEvent and OutboxRelay', () => {
  test('a committed event is published to EVENTS as a CloudEvent with Nats-Msg-Id = event id', async () => {
    const start = await lastSeq();
    const event = await commitEvent('api_key/123');
    assert.equal((await row(event.id))?.published_at, null, 'not published before the relay runs');

    const relay = newRelay();
    assert.equal(await relay.flush(), 1);

    const stored = await storedSince(start);
    assert.equal(stored.length, 1);
    const [m] = stored;
    assert.equal(m!.msgId, event.id);
    assert.equal(m!.headers.get('Content-Type'), 'application/cloudevents+json');
    assert.deepEqual(m!.event, event);
    assert.equal(m!.event.specversion, '1.0');
    assert.equal(m!.event.type, 'switchyard.api_key.created');
    assert.equal(m!.event.source, source);
    assert.equal(m!.event.subject, 'api_key/123');
    assert.equal(m!.event.datacontenttype, 'application/json');
    assert.equal(m!.event.tenantid, tenantId);
    assert.ok(!Number.isNaN(Date.parse(m!.event.time)));
    assert.equal(ApiKeyCreated.parse(m!.event.data).role, 'editor');

    assert.ok((await row(event.id))?.published_at instanceof Date, 'marked published');
    assert.equal(await relay.flush(), 0, 'nothing left to publish');
  });

  test("an event whose transaction rolled back is never published", async () => {
    const start = await lastSeq();
    let rolledBack: string | undefined;
    await assert.rejects(
      withTransaction(pool, async (tx) => {
        rolledBack = (await writeEvent(tx, source, SUBJECT, keyCreated(), { tenantId })).id;
        throw new Error('the change failed');
      }),
      /the change failed/,
    );
    assert.ok(rolledBack);
    assert.equal(await row(rolledBack), undefined, 'no outbox row');

    const committed = await commitEvent();
    assert.equal(await newRelay().flush(), 1);
    assert.deepEqual(
      (await storedSince(start)).map((m) => m.msgId),
      [committed.id],
    );
  });

  test('a row published twice is stored once (the stream drops the duplicate)', async () => {
    const start = await lastSeq();
    const event = await commitEvent();
    const relay = newRelay();
    assert.equal(await relay.flush(), 1);
    const first = await storedSince(start);
    assert.equal(first.length, 1);

    // A crash between publish and mark leaves the row pending: it goes out again.
    await pool.query('UPDATE outbox SET published_at = NULL WHERE id = $1', [event.id]);
    assert.equal(await relay.flush(), 1, 'the row was published again');
    assert.ok((await row(event.id))?.published_at instanceof Date);

    const after = await storedSince(start);
    assert.deepEqual(
      after.map((m) => [m.seq, m.msgId]),
      first.map((m) => [m.seq, m.msgId]),
    );
  });

  test('the trace context of the writer rides in the traceparent header', async () => {
    const start = await lastSeq();
    const { event, traceId, spanId } = await tracer.startActiveSpan('create api key', async (span) => {
      try {
        const e = await commitEvent();
        return { event: e, ...span.spanContext() };
      } finally {
        span.end();
      }
    });
    assert.match((await row(event.id))?.trace.traceparent ?? '', new RegExp(`^00-${traceId}-${spanId}-`));

    assert.equal(await newRelay().flush(), 1);
    const [m] = await storedSince(start);
    const traceparent = m?.headers.get('traceparent') ?? '';
    const [, headerTrace, headerSpan] = traceparent.split('-');
    assert.equal(headerTrace, traceId, `traceparent ${traceparent}`);
    // The relay's publish span is a child in the same trace.
    assert.match(headerSpan ?? '', /^[0-9a-f]{16}$/);
    assert.notEqual(headerSpan, spanId);
  });

  test('a running relay publishes on commit (NOTIFY) without waiting for its poll, and stops promptly', async () => {
    // A poll far longer than the test: only the NOTIFY can make the event arrive in time.
    const relay = newRelay(60_000);
    relay.start();
    await eventually('the relay to LISTEN', async () => {
      const { rowCount } = await pool.query(
        `SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND query ILIKE 'LISTEN%'`,
        [`${schema}-outbox`],
      );
      return rowCount === 1;
    });

    const ids = new Set<string>();
    const sub = nc.subscribe(SUBJECT);
    const arrived = (async () => {
      for await (const m of sub) {
        const id = m.headers?.get('Nats-Msg-Id');
        if (id && ids.has(id)) return id;
      }
      return undefined;
    })();
    await nc.flush();

    const event = await commitEvent();
    ids.add(event.id);
    const timeout = AbortSignal.timeout(5_000);
    const got = await Promise.race([
      arrived,
      new Promise<never>((_, reject) =>
        timeout.addEventListener('abort', () => reject(new Error('event not published within 5 s of commit'))),
      ),
    ]);
    sub.unsubscribe();
    assert.equal(got, event.id);

    // Stopping right after a publish (the relay may still be marking the row) must not wait out the 60 s poll.
    const started = performance.now();
    await relay.stop();
    const took = performance.now() - started;
    assert.ok(took < 5_000, `stop took ${Math.round(took)} ms`);
    await eventually('the row to be marked published', async () => (await row(event.id))?.published_at instanceof Date);
  });
});

describe('the write-time bound', () => {
  test('an event over OUTBOX_MAX_MESSAGE_BYTES is refused with a typed error, and its transaction rolls back', async () => {
    const pending = async () => (await pool.query('SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL')).rows[0].n as number;
    const before = await pending();
    const big = { ...keyCreated(), name: 'n'.repeat(DEFAULT_MAX_MESSAGE_BYTES) };
    await assert.rejects(
      withTransaction(pool, (tx) => writeEvent(tx, source, SUBJECT, big, { tenantId })),
      (err) => {
        assert.ok(err instanceof MessageTooLargeError, String(err));
        assert.equal(err.subject, SUBJECT);
        assert.equal(err.limit, DEFAULT_MAX_MESSAGE_BYTES);
        assert.ok(err.bytes > DEFAULT_MAX_MESSAGE_BYTES);
        assert.equal(err.retryable, false, 'the same message would be refused again');
        assert.doesNotMatch(err.message, /nnnn/, 'the message names sizes, not the payload');
        return true;
      },
    );
    assert.equal(await pending(), before);
  });

  test('the bound is the configured one (as the runtime sets it), or the one a writer passes', async () => {
    const payload = { padding: 'x'.repeat(5_000) };
    try {
      setMaxMessageBytes(4_096);
      await assert.rejects(
        withTransaction(pool, (tx) => writeMessage(tx, 'jobs.test.x', payload, randomUUID())),
        MessageTooLargeError,
      );
    } finally {
      setMaxMessageBytes(DEFAULT_MAX_MESSAGE_BYTES);
    }
    await assert.rejects(
      withTransaction(pool, (tx) => writeMessage(tx, 'jobs.test.x', payload, randomUUID(), { maxBytes: 1_000 })),
      MessageTooLargeError,
    );
  });
});

describe('several relays on one outbox', () => {
  test('publish in commit order, each event once', async () => {
    const from = await lastSeq();
    const a = newRelay(50);
    const b = newRelay(50);
    a.start();
    b.start();
    const written: string[] = [];
    for (let i = 0; i < 60; i++) written.push((await commitEvent()).id);
    const stored = await eventually('all 60 events stored', async () => {
      const s = (await storedSince(from)).filter((m) => written.includes(m.event.id));
      return s.length >= written.length ? s : undefined;
    });
    assert.deepEqual(stored.map((m) => m.event.id), written);
  });
});
