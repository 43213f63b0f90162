/**
 * PostgreSQL integrations end to end: the seven services as processes on a
 * NATS with per-service permissions, a customer database on the local
 * PostgreSQL (behind a proxy that can slow it down), and private customer
 * clusters for password and TLS failures.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { credentialRequests, inboxPrefix, PROVISIONER } from '@switchyard/contracts';
import { eventually } from '@switchyard/kit/testing';
import { credentialFromUrl } from '@switchyard/connectors/testing';
import pg from 'pg';
import { startCustomerPostgres, type CustomerPostgres } from '@switchyard/kit/testing';
import { DEFAULTS, ROOT } from '@switchyard/kit/local';
import { startSystem, type IsolatedSystem } from '@switchyard/kit/testing/system';
import { SlowProxy } from '@switchyard/kit/testing';

// A password no log line, response or event may ever contain.
const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;
const local = new URL(process.env.DATABASE_URL ?? DEFAULTS.DATABASE_URL);
const responses: string[] = [];
let sys: IsolatedSystem;
let proxy: SlowProxy;
let proxyPort: number;
let customer: CustomerPostgres;
let tlsCustomer: CustomerPostgres;
let otherTenantKey: string;
const databases: string[] = [];

async function api(method: string, path: string, body?: unknown, key = sys.adminKey) {
  const res = await fetch(`${sys.api}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  responses.push(text);
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

async function adminSql(sql: string, database = 'postgres') {
  const url = new URL(local.toString());
  url.pathname = `/${database}`;
  const c = new pg.Client({ connectionString: url.toString() });
  await c.connect();
  try {
    return await c.query(sql);
  } finally {
    await c.end();
  }
}

/** A customer database on the local server with `tables` plain tables plus objects whose names need quoting. */
async function customerDatabase(tables: number): Promise<string> {
  const name = `customer_${randomBytes(4).toString('hex')}`;
  databases.push(name);
  await adminSql(`CREATE DATABASE ${name}`);
  await adminSql(
    `CREATE SCHEMA "Sales Dept";
     CREATE TYPE "Sales Dept"."mood ☺" AS ENUM ('happy', 'sad');
     CREATE TABLE "Sales Dept"."Weird ""Name""" (id int, "ünïcödé" text, "MixedCase" "Sales Dept"."mood ☺", PRIMARY KEY (id));
     CREATE TABLE "Sales Dept"."with space" (a int, b int, ref int REFERENCES "Sales Dept"."Weird ""Name""" (id), PRIMARY KEY (a, b));
     CREATE TABLE "Sales Dept".child (x int, y int, FOREIGN KEY (x, y) REFERENCES "Sales Dept"."with space" (a, b));
     DO $$ BEGIN FOR i IN 1..${tables} LOOP
       EXECUTE format('CREATE TABLE public.t%s (id bigint PRIMARY KEY, code text UNIQUE, note text)', i);
     END LOOP; END $$;`,
    name,
  );
  return name;
}

const credentialFor = (database: string, port = Number(local.port || 5432)) =>
  credentialFromUrl(local, database, { host: '127.0.0.1', port, password: PASSWORD, sslmode: undefined });

const waitSync = (id: string, what: string, ok: (s: { status: string; progress: { done: number; total: number } }) => boolean, timeoutMs = 60_000) =>
  eventually(what, async () => {
    const { body } = await api('GET', `/v1/syncs/${id}`);
    return ok(body) ? body : undefined;
  }, { timeoutMs, every: 50 });

describe('PostgreSQL integrations end to end', { timeout: 600_000 }, () => {
  beforeAll(async () => {
    sys = await startSystem({
      name: 'e2e_integrations',
      natsPermissions: true,
      env: { SYNC_ACK_WAIT_MS: '3000', SYNC_DISCOVERY_BATCH_SIZE: '5', SHUTDOWN_TIMEOUT_MS: '5000' },
      print: process.env.E2E_LOGS ? undefined : null,
    });
    proxy = new SlowProxy({ host: '127.0.0.1', port: Number(local.port || 5432) });
    proxyPort = await proxy.start();
    [customer, tlsCustomer] = await Promise.all([startCustomerPostgres({ password: 'the-right-one' }), startCustomerPostgres({ tls: true })]);
    const cli = spawnSync(process.execPath, ['--import', 'tsx', 'services/gateway/src/cli.ts', 'create-key', '--tenant', 'globex', '--name', 'other'], {
      cwd: ROOT,
      env: { ...process.env, ...sys.env },
      encoding: 'utf8',
    });
    otherTenantKey = cli.stdout.trim();
  });

  afterAll(async () => {
    await sys?.stop();
    await proxy?.stop();
    await Promise.allSettled([customer?.stop(), tlsCustomer?.stop()]);
    for (const d of databases) await adminSql(`DROP DATABASE IF EXISTS ${d} WITH (FORCE)`).catch(() => {});
  });

  test('create validates, stores, syncs and serves the schema — names that need quoting come back exactly', async () => {
    const db = await customerDatabase(12);
    const created = await api('POST', '/v1/integrations', { integration_type: 'POSTGRESQL', credential: credentialFor(db), config: { schemas: ['public', 'Sales Dept'] } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const integration = created.body;
    assert.equal(integration.status, 'CONNECTED');
    assert.equal(integration.integration_type, 'POSTGRESQL');
    assert.deepEqual(integration.target, { host: '127.0.0.1', port: 5432, database_name: db, username: credentialFor(db).username });
    // The create answer names the sync as the sync-worker last saw it: the created event may already have set it running.
    assert.ok(['STARTED', 'PROCESSING'].includes(integration.sync.status), integration.sync.status);

    const sync = await waitSync(integration.sync.id, 'first sync completed', (s) => s.status === 'COMPLETED');
    assert.equal(sync.progress.done, sync.progress.total);
    assert.ok(sync.progress.total >= 15);

    const schema = await api('GET', `/v1/integrations/${integration.id}/schema`);
    assert.equal(schema.status, 200);
    const names = schema.body.relations.map((r: { schema: string; name: string }) => `${r.schema}.${r.name}`);
    for (const n of ['Sales Dept.Weird "Name"', 'Sales Dept.with space', 'Sales Dept.child', 'public.t1', 'public.t12']) assert.ok(names.includes(n), n);
    const weird = schema.body.relations.find((r: { name: string }) => r.name === 'Weird "Name"');
    assert.deepEqual(weird.columns.map((c: { name: string }) => c.name), ['id', 'ünïcödé', 'MixedCase']);
    assert.deepEqual(schema.body.enums, [{ schema: 'Sales Dept', name: 'mood ☺', values: ['happy', 'sad'] }]);
    const composite = schema.body.relationships.find((r: { from: { table: string } }) => r.from.table === 'child');
    assert.deepEqual(composite.from.columns, ['x', 'y']);
    assert.deepEqual(composite.to, { schema: 'Sales Dept', table: 'with space', columns: ['a', 'b'] });

    const filtered = await api('GET', `/v1/integrations/${integration.id}/schema?schema=${encodeURIComponent('Sales Dept')}&table=${encodeURIComponent('with space')}`);
    assert.deepEqual(filtered.body.relations.map((r: { name: string }) => r.name), ['with space']);

    const tested = await api('POST', `/v1/integrations/${integration.id}/test`);
    assert.equal(tested.body.ok, true);
    assert.match(tested.body.server_version, /^\d+/);

    // The seed routes see it too.
    const seedList = await api('GET', '/integrations/POSTGRESQL');
    assert.ok(seedList.body.data.some((i: { id: string }) => i.id === integration.id));
    const seedSync = await api('GET', '/integrations/POSTGRESQL/sync');
    const mine = seedSync.body.data.find((i: { integration_id: string }) => i.integration_id === integration.id);
    assert.equal(mine.latest_sync.status, 'COMPLETED');
  });

  test('a retried create with the same Idempotency-Key creates one integration', async () => {
    const db = await customerDatabase(1);
    const body = { integration_type: 'POSTGRESQL', name: `idem ${db}`, credential: credentialFor(db) };
    const send = (b: unknown, key: string) =>
      fetch(`${sys.api}/v1/integrations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${sys.adminKey}`, 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify(b),
      });
    const first = await send(body, `key-${db}`);
    const again = await send(body, `key-${db}`);
    assert.equal(first.status, 201);
    assert.equal(again.status, 201);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    const [a, b] = [(await first.json()) as { id: string }, (await again.json()) as { id: string }];
    assert.equal(b.id, a.id, 'the retry answers with the first integration');
    const other = await send({ ...body, name: 'changed' }, `key-${db}`);
    assert.equal(other.status, 422);
    const list = await api('GET', '/v1/integrations?limit=200');
    assert.equal(list.body.data.filter((i: { name: string }) => i.name === body.name).length, 1);
  });

  test('bad input is a 400 problem that says which, and never echoes the password', async () => {
    const db = await customerDatabase(1);
    const good = credentialFor(db);
    const cases: [string, unknown, string][] = [
      ['missing fields', { integration_type: 'POSTGRESQL', credential: { port: 5432 } }, 'body.credential.host'],
      ['mistyped port', { integration_type: 'POSTGRESQL', credential: { ...good, port: 'abc' } }, 'body.credential.port'],
      ['port out of range', { integration_type: 'POSTGRESQL', credential: { ...good, port: 70000 } }, 'body.credential.port'],
      ['unknown type', { integration_type: 'ORACLE', credential: good }, 'body.integration_type'],
      ['no credential', { integration_type: 'POSTGRESQL' }, 'body.credential'],
    ];
    for (const [what, body, field] of cases) {
      const r = await api('POST', '/v1/integrations', body);
      assert.equal(r.status, 400, what);
      assert.equal(r.body.code, 'VALIDATION_FAILED', what);
      assert.ok(r.body.errors.some((e: { field: string }) => e.field === field), `${what}: ${JSON.stringify(r.body.errors)}`);
    }
    const missing = await api('POST', '/v1/integrations', { integration_type: 'POSTGRESQL', credential: {} });
    const fields = missing.body.errors.map((e: { field: string }) => e.field);
    for (const f of ['host', 'username', 'password', 'database_name']) assert.ok(fields.includes(`body.credential.${f}`), f);

    // A port that accepts and never answers: the 5 s bound holds.
    const silent = (await import('node:net')).createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const silentPort = (silent.address() as { port: number }).port;
    const failures: [string, object, string][] = [
      ['host does not resolve', { ...good, host: 'db.does-not-exist.invalid' }, 'HOST_NOT_FOUND'],
      ['port that never answers', { ...good, port: silentPort }, 'TIMEOUT'],
      ['wrong password', { host: customer.host, port: customer.port, username: customer.user, password: PASSWORD, database_name: 'postgres' }, 'AUTHENTICATION_FAILED'],
      ['database does not exist', { ...good, database_name: `${db}_nope` }, 'DATABASE_NOT_FOUND'],
      ['TLS required', { host: tlsCustomer.host, port: tlsCustomer.port, username: tlsCustomer.user, password: tlsCustomer.password, database_name: 'postgres', sslmode: 'disable' }, 'TLS_REQUIRED'],
    ];
    try {
      for (const [what, credential, reason] of failures) {
        const started = Date.now();
        const r = await api('POST', '/v1/integrations', { integration_type: 'POSTGRESQL', credential });
        assert.equal(r.status, 400, `${what}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.code, 'CONNECTION_FAILED', what);
        assert.equal(r.body.reason, reason, what);
        assert.ok(!JSON.stringify(r.body).includes(PASSWORD), what);
        if (reason === 'TIMEOUT') assert.ok(Date.now() - started < 8_000, 'the connection attempt is bounded by about 5 s');
      }
    } finally {
      silent.close();
    }
    // The same TLS-only server accepts the credential over TLS.
    const overTls = await api('POST', '/v1/integrations', {
      integration_type: 'POSTGRESQL',
      credential: { host: tlsCustomer.host, port: tlsCustomer.port, username: tlsCustomer.user, password: tlsCustomer.password, database_name: 'postgres', sslmode: 'require' },
    });
    assert.equal(overTls.status, 201, JSON.stringify(overTls.body));
    const list = await api('GET', '/v1/integrations?status=CONNECTED&type=POSTGRESQL&limit=200');
    assert.ok(!list.body.data.some((i: { target: { database_name: string } }) => i.target.database_name === `${db}_nope`), 'nothing was stored for a failure');
  });

  test('one active sync per integration; progress shows while it runs; cancel ends it', async () => {
    const db = await customerDatabase(40);
    proxy.latencyMs = 100;
    const created = await api('POST', '/v1/integrations', { integration_type: 'POSTGRESQL', credential: credentialFor(db, proxyPort) });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const { id, sync } = created.body;

    const second = await api('POST', `/v1/integrations/${id}/syncs`);
    assert.equal(second.status, 409);
    assert.ok(second.body.detail.includes(sync.id), 'the conflict names the active sync');

    const running = await waitSync(sync.id, 'progress between 0 and total', (s) => s.status === 'PROCESSING' && s.progress.done > 0 && s.progress.done < s.progress.total);
    assert.ok(running.progress.total > running.progress.done);

    const cancelled = await api('POST', `/v1/syncs/${sync.id}/cancel`);
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.body.status, 'CANCELLED');
    assert.equal((await api('POST', `/v1/syncs/${sync.id}/cancel`)).status, 409, 'a finished sync cannot be cancelled');

    proxy.latencyMs = 0;
    const next = await api('POST', `/v1/integrations/${id}/syncs`);
    assert.equal(next.status, 202);
    await waitSync(next.body.id, 'the next sync completed', (s) => s.status === 'COMPLETED');
    assert.equal((await api('GET', `/v1/syncs/${sync.id}`)).body.status, 'CANCELLED', 'the cancelled sync stays cancelled');
    const history = await api('GET', `/v1/integrations/${id}/syncs`);
    assert.deepEqual(history.body.data.map((s: { id: string }) => s.id), [next.body.id, sync.id]);
  });

  test('a worker killed mid-sync does not leave it stuck: the sync is redelivered and finishes', async () => {
    const db = await customerDatabase(40);
    proxy.latencyMs = 100;
    const created = await api('POST', '/v1/integrations', { integration_type: 'POSTGRESQL', credential: credentialFor(db, proxyPort) });
    const syncId = created.body.sync.id;
    await waitSync(syncId, 'sync under way', (s) => s.status === 'PROCESSING' && s.progress.done > 0);
    await sys.killAndRestart('sync-worker');
    proxy.latencyMs = 0;
    const done = await waitSync(syncId, 'sync completed by the new worker', (s) => s.status === 'COMPLETED');
    assert.ok((done as unknown as { attempts: number }).attempts >= 2, 'it ran again after the kill');
  });

  test('a database dropped during a sync fails the sync with a clear reason', async () => {
    const db = await customerDatabase(40);
    proxy.latencyMs = 100;
    const created = await api('POST', '/v1/integrations', { integration_type: 'POSTGRESQL', credential: credentialFor(db, proxyPort) });
    const syncId = created.body.sync.id;
    await waitSync(syncId, 'sync under way', (s) => s.status === 'PROCESSING' && s.progress.done > 0);
    await adminSql(`DROP DATABASE ${db} WITH (FORCE)`);
    proxy.latencyMs = 0;
    const failed = (await waitSync(syncId, 'sync failed', (s) => s.status === 'FAILED')) as unknown as { error: { code: string; message: string } };
    assert.equal(failed.error.code, 'DATABASE_NOT_FOUND');
    assert.match(failed.error.message, /does not exist/);
  });

  test('schema drift between syncs is stored and announced', async () => {
    const db = await customerDatabase(3);
    const created = await api('POST', '/v1/integrations', { integration_type: 'POSTGRESQL', credential: credentialFor(db) });
    const id = created.body.id;
    await waitSync(created.body.sync.id, 'first sync', (s) => s.status === 'COMPLETED');
    await adminSql(`ALTER TABLE public.t1 ADD COLUMN added int; ALTER TABLE public.t2 ALTER COLUMN note TYPE varchar(20); DROP TABLE public.t3;`, db);
    const second = await api('POST', `/v1/integrations/${id}/syncs`);
    await waitSync(second.body.id, 'second sync', (s) => s.status === 'COMPLETED');
    const changes = await api('GET', `/v1/integrations/${id}/schema/changes`);
    assert.equal(changes.body.data.length, 1);
    const set = changes.body.data[0];
    assert.equal(set.sync_id, second.body.id);
    const summary = set.changes.map((c: { kind: string; object: string; relation: string | null; name: string }) => `${c.kind} ${c.object} ${c.relation ?? ''}.${c.name}`);
    assert.ok(summary.includes('added column t1.added'), summary.join('; '));
    assert.ok(summary.includes('altered column t2.note'), summary.join('; '));
    assert.ok(summary.some((s: string) => s.startsWith('removed relation') && s.endsWith('t3')), summary.join('; '));

    // Announced too: the schema.changed event of that sync is on the EVENTS stream.
    // Read as the provisioner, the one user that may read a stream's messages (services may not).
    const nc = await connect({ servers: sys.nats.url, user: PROVISIONER, pass: sys.envFor(PROVISIONER).NATS_PASSWORD, inboxPrefix: inboxPrefix(PROVISIONER) });
    try {
      const jsm = await jetstreamManager(nc);
      const event = await eventually('the schema.changed event', async () => {
        const m = await jsm.streams.getMessage('EVENTS', { last_by_subj: 'events.schema.changed' });
        const e = m?.json<{ data: { sync_id: string; total: number } }>();
        return e?.data.sync_id === second.body.id ? e : undefined;
      });
      assert.equal(event.data.total, set.changes.length);
    } finally {
      await nc.close();
    }
  });

  test('disconnect stops syncs; connect allows them again; credentials can be replaced after validation', async () => {
    const db = await customerDatabase(2);
    const created = await api('POST', '/v1/integrations', { integration_type: 'POSTGRESQL', credential: credentialFor(db) });
    const id = created.body.id;
    await waitSync(created.body.sync.id, 'first sync', (s) => s.status === 'COMPLETED');
    assert.equal((await api('POST', `/v1/integrations/${id}/disconnect`)).body.status, 'DISCONNECTED');
    const refused = await api('POST', `/v1/integrations/${id}/syncs`);
    assert.equal(refused.status, 409);
    assert.match(refused.body.detail, /disconnected/);
    assert.equal((await api('POST', `/v1/integrations/${id}/connect`)).body.status, 'CONNECTED');

    const bad = await api('PUT', `/v1/integrations/${id}/credentials`, { ...credentialFor(db), database_name: 'nope_nope' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.reason, 'DATABASE_NOT_FOUND');
    const other = await customerDatabase(1);
    const rotated = await api('PUT', `/v1/integrations/${id}/credentials`, credentialFor(other));
    assert.equal(rotated.status, 200);
    assert.equal(rotated.body.target.database_name, other);
    const renamed = await api('PATCH', `/v1/integrations/${id}`, { name: 'renamed', config: { syncFrequency: 'daily' } });
    assert.equal(renamed.body.name, 'renamed');
    assert.deepEqual(renamed.body.config, { syncFrequency: 'daily' });
    assert.equal((await api('PATCH', `/v1/integrations/${id}`, {})).status, 400);
  });

  test("another tenant's integration is a 404 everywhere", async () => {
    const db = await customerDatabase(1);
    const created = await api('POST', '/v1/integrations', { integration_type: 'POSTGRESQL', credential: credentialFor(db) });
    const id = created.body.id;
    for (const [method, path] of [
      ['GET', `/v1/integrations/${id}`],
      ['PATCH', `/v1/integrations/${id}`],
      ['DELETE', `/v1/integrations/${id}`],
      ['POST', `/v1/integrations/${id}/test`],
      ['POST', `/v1/integrations/${id}/syncs`],
      ['GET', `/v1/integrations/${id}/syncs`],
      ['GET', `/v1/integrations/${id}/schema`],
      ['GET', `/v1/syncs/${created.body.sync.id}`],
      ['POST', `/v1/syncs/${created.body.sync.id}/cancel`],
    ] as const) {
      const r = await api(method, path, method === 'PATCH' ? { name: 'x' } : undefined, otherTenantKey);
      assert.equal(r.status, 404, `${method} ${path}`);
    }
    const theirs = await api('GET', '/v1/integrations?limit=200', undefined, otherTenantKey);
    assert.deepEqual(theirs.body.data, []);
  });

  test('delete removes the integration and its credential and cancels an active sync', async () => {
    const db = await customerDatabase(40);
    proxy.latencyMs = 100;
    const created = await api('POST', '/v1/integrations', { integration_type: 'POSTGRESQL', credential: credentialFor(db, proxyPort) });
    const { id, sync } = created.body;
    await waitSync(sync.id, 'sync under way', (s) => s.status === 'PROCESSING');
    assert.equal((await api('DELETE', `/v1/integrations/${id}`)).status, 204);
    proxy.latencyMs = 0;
    assert.equal((await api('GET', `/v1/integrations/${id}`)).status, 404);
    await waitSync(sync.id, 'the active sync cancelled', (s) => s.status === 'CANCELLED');

    // Asked as the integrations service (which may ask), the credential is gone.
    const nc = await connect({ servers: sys.nats.url, user: 'integrations', pass: sys.envFor('integrations').NATS_PASSWORD, inboxPrefix: inboxPrefix('integrations') });
    try {
      const reply = (await nc.request(credentialRequests.reveal.subject, JSON.stringify({ tenant_id: 'default', integration_id: id }), { timeout: 3_000 })).json<{ ok: boolean; error?: { code: string } }>();
      assert.deepEqual([reply.ok, reply.error?.code], [false, 'NOT_FOUND']);
    } finally {
      await nc.close();
    }
  });

  test('NATS restarting right after a create loses nothing: the sync still completes', async () => {
    const db = await customerDatabase(2);
    const created = await api('POST', '/v1/integrations', { integration_type: 'POSTGRESQL', credential: credentialFor(db) });
    assert.equal(created.status, 201);
    await sys.nats.restart();
    await waitSync(created.body.sync.id, 'sync completed after the NATS restart', (s) => s.status === 'COMPLETED', 90_000);
  });

  test('master key rotation: existing credentials still decrypt, new ones use the new key', async () => {
    const db = await customerDatabase(1);
    const created = await api('POST', '/v1/integrations', { integration_type: 'POSTGRESQL', credential: credentialFor(db) });
    const rotate = spawnSync(process.execPath, ['--import', 'tsx', 'services/gateway/src/cli.ts', 'rotate-master-key'], {
      cwd: ROOT,
      env: { ...process.env, ...sys.envFor('operator') },
      encoding: 'utf8',
    });
    assert.equal(rotate.status, 0, rotate.stderr);
    const tested = await api('POST', `/v1/integrations/${created.body.id}/test`);
    assert.equal(tested.body.ok, true, 'the credential stored under the old key still decrypts');

    const nc = await connect({ servers: sys.nats.url, user: 'operator', pass: sys.envFor('operator').NATS_PASSWORD, inboxPrefix: inboxPrefix('operator') });
    try {
      const ring = () => nc.request(credentialRequests.keyRing.subject, '{}', { timeout: 3_000 }).then((m) => m.json<{ ok: true; data: { active_key_id: string; keys: { id: string; records: number; retired: boolean }[] } }>().data);
      const settled = await eventually('every record re-wrapped under the new key', async () => {
        const r = await ring();
        const old = r.keys.filter((k) => k.id !== r.active_key_id);
        return old.length > 0 && old.every((k) => k.records === 0 && k.retired) ? r : undefined;
      });
      const after = await api('POST', '/v1/integrations', { integration_type: 'POSTGRESQL', credential: credentialFor(db) });
      assert.equal(after.status, 201);
      const active = (await ring()).keys.find((k) => k.id === settled.active_key_id)!;
      assert.ok(active.records >= 2, 'the new credential is under the active key too');
      assert.equal((await api('POST', `/v1/integrations/${after.body.id}/test`)).body.ok, true);
    } finally {
      await nc.close();
    }
  });

  test('the password never appears in a response, a log line or an event', async () => {
    // Read as the provisioner, the one user that may read a stream's messages (services may not).
    const nc = await connect({ servers: sys.nats.url, user: PROVISIONER, pass: sys.envFor(PROVISIONER).NATS_PASSWORD, inboxPrefix: inboxPrefix(PROVISIONER) });
    try {
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info('EVENTS');
      assert.ok(info.state.messages > 0);
      for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
        const m = await jsm.streams.getMessage('EVENTS', { seq }).catch(() => null);
        if (m) assert.ok(!m.string().includes(PASSWORD), `event ${m.subject} #${seq}`);
      }
    } finally {
      await nc.close();
    }
    for (const r of responses) assert.ok(!r.includes(PASSWORD));
    for (const s of sys.services) for (const line of s.logs) assert.ok(!line.includes(PASSWORD), `${s.name}: ${line.slice(0, 200)}`);
    assert.ok(sys.services.some((s) => s.logs.length > 10), 'the services did log');
  });
});
