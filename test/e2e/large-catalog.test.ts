/**
 * A 5,000-table customer database through the whole system (seven processes
 * on a NATS with per-service permissions): the sync completes with every
 * event inside the bound, the schema API pages through every relation, a
 * drift of 5,000 changes is announced by a bounded event whose reference
 * serves the whole set, and a relation too large for any response is a clear
 * problem, not a timeout.
 */
import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { createDatabase, createTables, type TestDatabase } from '@switchyard/connectors/testing';
import { changeSetPath, inboxPrefix, PROVISIONER, type SchemaChange } from '@switchyard/contracts';
import { DEFAULT_MAX_MESSAGE_BYTES } from '@switchyard/kit';
import { eventually } from '@switchyard/kit/testing';
import { startSystem, type IsolatedSystem } from '@switchyard/kit/testing/system';
import pg from 'pg';

const TABLES = 5_000;
let sys: IsolatedSystem;
let nc: NatsConnection;
let jsm: JetStreamManager;
const databases: TestDatabase[] = [];

async function api(method: string, path: string) {
  const res = await fetch(`${sys.api}${path}`, { method, headers: { authorization: `Bearer ${sys.adminKey}` } });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const waitSync = (id: string, what: string) =>
  eventually(
    what,
    async () => {
      const { body } = await api('GET', `/v1/syncs/${id}`);
      if (body.status === 'FAILED') throw new Error(`sync failed: ${JSON.stringify(body.error)}`);
      return body.status === 'COMPLETED' ? body : undefined;
    },
    { timeoutMs: 120_000, every: 200 },
  );

/** Follows next_cursor from `path` to the last page; returns every page. */
async function pages(path: string): Promise<Array<Record<string, unknown> & { next_cursor: string | null }>> {
  const out = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const res = await api('GET', cursor ? `${path}${sep}cursor=${encodeURIComponent(cursor)}` : path);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    out.push(res.body);
    cursor = res.body.next_cursor;
  } while (cursor && out.length < 1_000);
  return out;
}

/** Events of EVENTS on `subject` (raw bytes and parsed) from sequence `from` on. */
async function eventsSince(from: number, subject: string) {
  const info = await jsm.streams.info('EVENTS');
  const out: { bytes: number; event: { data: Record<string, unknown> } }[] = [];
  for (let seq = Math.max(from, info.state.first_seq); seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage('EVENTS', { seq }).catch(() => null);
    if (m?.subject === subject) out.push({ bytes: m.data.length, event: m.json() });
  }
  return out;
}

async function parkedRows(): Promise<number> {
  const c = new pg.Client({ connectionString: sys.databaseUrl });
  await c.connect();
  try {
    const { rows } = await c.query<{ n: number }>('SELECT count(*)::int AS n FROM sync_worker.outbox_parked');
    return rows[0]!.n;
  } finally {
    await c.end();
  }
}

describe('a 5,000-table catalog end to end', { timeout: 300_000 }, () => {
  let db: TestDatabase;
  let integrationId: string;

  beforeAll(async () => {
    [sys, db] = await Promise.all([
      startSystem({ name: 'e2e_large', natsPermissions: true, print: process.env.E2E_LOGS ? undefined : null }),
      createDatabase('customer_5k').then(async (d) => {
        databases.push(d);
        await createTables(d.name, TABLES);
        return d;
      }),
    ]);
    // Read as the provisioner, the one user that may read a stream's messages (services may not).
    nc = await connect({ servers: sys.nats.url, user: PROVISIONER, pass: sys.envFor(PROVISIONER).NATS_PASSWORD, inboxPrefix: inboxPrefix(PROVISIONER) });
    jsm = await jetstreamManager(nc);
  });

  afterAll(async () => {
    await nc?.close();
    await sys?.stop();
    for (const d of databases) await d.drop().catch(() => {});
  });

  test('the sync completes; its events fit the bound and nothing is parked', async () => {
    const from = (await jsm.streams.info('EVENTS')).state.last_seq + 1;
    const created = await fetch(`${sys.api}/v1/integrations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sys.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ integration_type: 'POSTGRESQL', credential: db.cred, config: { schemas: ['many'] } }),
    });
    const integration = (await created.json()) as { id: string; sync: { id: string } };
    assert.equal(created.status, 201, JSON.stringify(integration));
    integrationId = integration.id;
    const sync = await waitSync(integration.sync.id, 'the first sync of 5,000 tables');
    assert.equal(sync.summary.relations, TABLES);

    const progress = await eventsSince(from, 'events.sync.progress');
    const completed = await eventually('the completed event', async () => {
      const e = (await eventsSince(from, 'events.sync.completed')).filter((x) => (x.event.data.sync as { id: string }).id === sync.id);
      return e.length ? e : undefined;
    });
    for (const e of [...progress, ...completed]) assert.ok(e.bytes <= DEFAULT_MAX_MESSAGE_BYTES, `${e.bytes} bytes`);
    assert.ok(progress.length > 0, 'progress was announced');
    assert.equal(await parkedRows(), 0);
  });

  test('the schema API pages through all 5,000 relations by cursor: none twice, none missing', async () => {
    const all = await pages(`/v1/integrations/${integrationId}/schema`);
    assert.equal(all.length, TABLES / 100, 'pages of the default limit');
    const names = all.flatMap((p) => (p.relations as { schema: string; name: string }[]).map((r) => `${r.schema}.${r.name}`));
    assert.equal(new Set(names).size, names.length, 'no duplicates');
    const expected = Array.from({ length: TABLES }, (_, i) => `many.t${i + 1}`);
    assert.deepEqual([...names].sort(), expected.sort(), 'none missing');
    assert.ok(all.every((p) => p.sync_id === all[0]!.sync_id));
  });

  test('a drift of 5,000 changes: schema.changed is bounded, and its changes_url serves the whole set', async () => {
    await db.sql(`DO $$ BEGIN
      FOR i IN 1..${TABLES} LOOP
        EXECUTE format('ALTER TABLE many.%I ADD COLUMN extra integer', 't' || i);
        IF i % 250 = 0 THEN COMMIT; END IF;
      END LOOP;
    END $$`);
    const started = await api('POST', `/v1/integrations/${integrationId}/syncs`);
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const sync = await waitSync(started.body.id, 'the drift sync');
    assert.equal(sync.summary.changes, TABLES);

    const m = await eventually('the schema.changed event', async () => {
      const got = await jsm.streams.getMessage('EVENTS', { last_by_subj: 'events.schema.changed' });
      return got?.json<{ data: { sync_id: string } }>().data.sync_id === sync.id ? got : undefined;
    });
    assert.ok(m);
    const event = m.json<{ data: { changes: SchemaChange[]; total: number; truncated: boolean; changes_url: string } }>();
    assert.ok(m.data.length <= DEFAULT_MAX_MESSAGE_BYTES, `${m.data.length} bytes`);
    assert.equal(event.data.total, TABLES);
    assert.equal(event.data.truncated, true);
    assert.ok(event.data.changes.length > 0 && event.data.changes.length < TABLES, String(event.data.changes.length));
    assert.equal(event.data.changes_url, changeSetPath(integrationId, sync.id));

    const set = await pages(event.data.changes_url);
    const changes = set.flatMap((p) => p.changes as SchemaChange[]);
    assert.equal(changes.length, TABLES);
    assert.ok(set.every((p) => p.total === TABLES));
    assert.deepEqual(changes.slice(0, event.data.changes.length), event.data.changes, 'the event carries the first ones');
    assert.deepEqual(new Set(changes.map((c) => `${c.kind} ${c.object} ${c.relation}.${c.name}`)).size, TABLES);
    assert.ok(changes.every((c) => c.kind === 'added' && c.object === 'column' && c.name === 'extra'));

    const list = await api('GET', `/v1/integrations/${integrationId}/schema/changes`);
    assert.equal(list.body.data[0].total, TABLES);
    assert.equal(list.body.data[0].changes_url, event.data.changes_url);
    assert.equal(await parkedRows(), 0);
  });

  test('a relation too large for any response is a 422 problem naming it and the cursor past it, not a 504', async () => {
    const huge = await createDatabase('customer_huge');
    databases.push(huge);
    // A 1.5 MB table comment: the relation alone outgrows the 1 MiB a NATS reply carries.
    await huge.sql(`CREATE TABLE public.a (id int); CREATE TABLE public.huge (id int); CREATE TABLE public.z (id int);
      COMMENT ON TABLE public.huge IS '${'x'.repeat(1_500_000)}'`);
    const created = await fetch(`${sys.api}/v1/integrations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sys.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ integration_type: 'POSTGRESQL', credential: huge.cred, config: { schemas: ['public'] } }),
    });
    const integration = (await created.json()) as { id: string; sync: { id: string } };
    await waitSync(integration.sync.id, 'the sync of the huge relation');

    const first = await api('GET', `/v1/integrations/${integration.id}/schema`);
    assert.deepEqual(first.body.relations.map((r: { name: string }) => r.name), ['a']);
    const tooLarge = await api('GET', `/v1/integrations/${integration.id}/schema?cursor=${encodeURIComponent(first.body.next_cursor)}`);
    assert.equal(tooLarge.status, 422);
    assert.equal(tooLarge.body.code, 'RESPONSE_TOO_LARGE');
    assert.equal(tooLarge.body.type, 'urn:switchyard:problem:response-too-large');
    assert.match(tooLarge.body.detail, /relation "public"\."huge" is \d+ bytes as JSON, more than one response may carry/);
    const skip = /cursor=(\S+)$/.exec(tooLarge.body.detail)?.[1];
    assert.ok(skip, tooLarge.body.detail);
    const rest = await api('GET', `/v1/integrations/${integration.id}/schema?cursor=${encodeURIComponent(skip)}`);
    assert.deepEqual(rest.body.relations.map((r: { name: string }) => r.name), ['z']);
    assert.equal(rest.body.next_cursor, null);
  });
});
