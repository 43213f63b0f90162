import assert from 'node:assert/strict';
import { afterAll, afterEach, beforeAll, describe, test } from 'vitest';
import { closedPort } from '@switchyard/connectors/testing';
import {
  createdSyncId,
  credentialRequests,
  integrationRequests,
  syncRequests,
  type CreateIntegrationBody,
  type PostgresCredential,
} from '@switchyard/contracts';
import { eventually, startCustomerPostgres, uniqueName, type CustomerPostgres } from '@switchyard/kit/testing';
import { Harness, rejection } from './testing.ts';

// A password no record, answer or event of the integrations service may hold (local trust auth ignores it).
const PASSWORD = uniqueName('pw-never-in-integrations');
const tenant = () => uniqueName('tenant');

let h: Harness;
let cluster: CustomerPostgres;

const credential = (extra: Partial<PostgresCredential> = {}): PostgresCredential => ({ ...h.customer.cred, password: PASSWORD, ...extra });
const create = (tenant_id: string, body: Partial<CreateIntegrationBody> = {}) =>
  h.caller.request(integrationRequests.create, { tenant_id, body: { integration_type: 'POSTGRESQL', credential: credential(), ...body } });

describe('integrations.create', () => {
  beforeAll(async () => {
    // Both at once; settled, so that afterAll stops whichever started when the other did not.
    const started = await Promise.allSettled([
      Harness.start().then((x) => (h = x)),
      startCustomerPostgres({ password: 'the-right-one' }).then((c) => (cluster = c)),
    ]);
    for (const r of started) if (r.status === 'rejected') throw r.reason;
  });

  afterEach(() => h.closeTaps());

  afterAll(async () => {
    await Promise.allSettled([h?.stop(), cluster?.stop()]);
  });

  test('a credential that does not connect is refused with the reason; nothing is stored, recorded or started', async () => {
    const [stored, started] = await Promise.all([h.tap(credentialRequests.store), h.tap(syncRequests.start)]);
    const t = tenant();
    const onCluster = { host: cluster.host, port: cluster.port, username: cluster.user, database_name: 'postgres', sslmode: 'disable' as const };
    const cases = [
      { reason: 'AUTHENTICATION_FAILED', credential: credential({ ...onCluster, password: 'the-wrong-one' }) },
      { reason: 'CONNECTION_REFUSED', credential: credential({ port: await closedPort() }) },
      { reason: 'DATABASE_NOT_FOUND', credential: credential({ database_name: uniqueName('no_such_database') }) },
    ];
    for (const c of cases) {
      const err = await rejection(create(t, { credential: c.credential }), 'CONNECTION_FAILED');
      assert.equal(err.details?.reason, c.reason, err.message);
      assert.equal(err.errors?.[0]?.field, 'body.credential');
      assert.ok(!err.message.includes(c.credential.password), 'the message holds the password');
    }
    assert.deepEqual(stored.filter((r) => r.tenant_id === t), [], 'a credential was stored');
    assert.deepEqual(started.filter((r) => r.tenant_id === t), [], 'a sync was started');
    assert.deepEqual((await h.caller.request(integrationRequests.list, { tenant_id: t, query: {} })).data, []);

    // The same cluster with its password connects: what failed above was the password.
    const created = await create(t, { credential: credential({ ...onCluster, password: 'the-right-one' }) });
    assert.equal(created.target.port, cluster.port);
  });

  test('the credential is stored by the credentials service, never by integrations; the created event is written', async () => {
    const t = tenant();
    const created = await create(t, { config: { schemas: ['public', 'sales'] } });
    const { sync: _sync, ...integration } = created;
    assert.equal(integration.status, 'CONNECTED');
    assert.equal(integration.name, `${h.customer.name} on 127.0.0.1`);
    assert.deepEqual(integration.target, { host: '127.0.0.1', port: h.customer.cred.port, database_name: h.customer.name, username: h.customer.cred.username });
    assert.ok(!JSON.stringify(created).includes(PASSWORD), 'the answer holds the password');

    const revealed = await h.caller.request(credentialRequests.reveal, { tenant_id: t, integration_id: created.id });
    assert.deepEqual(revealed, { integration_id: created.id, secret: credential(), version: 1 });
    const { rows } = await h.integrations.pool.query<{ row: string }>('SELECT i::text AS row FROM integrations i WHERE id = $1', [created.id]);
    assert.equal(rows.length, 1);
    assert.ok(!rows[0]!.row.includes(PASSWORD), 'the integrations table holds the password');

    const events = await h.events(created.id);
    assert.deepEqual(events.map((e) => e.type), ['switchyard.integration.created']);
    const [event] = events;
    assert.deepEqual(event!.data, { integration });
    assert.equal(event!.tenantid, t);
    assert.ok(!JSON.stringify(event).includes(PASSWORD), 'the event holds the password');

    // What the other services receive: the relay publishes it to EVENTS, deduplicated by its id.
    const published = await eventually('the created event in EVENTS', async () => {
      const last = await h.lastPublished('events.integration.created');
      return last?.event.id === event!.id && last;
    });
    assert.equal(published.msgId, event!.id);
    assert.deepEqual(published.event, event);
  });

  test("the first sync is requested with trigger created and the integration's schemas, under its deterministic id", async () => {
    const started = await h.tap(syncRequests.start);
    const t = tenant();
    const created = await create(t, { config: { schemas: ['public', 'sales'], syncFrequency: 'daily' } });
    assert.deepEqual(created.sync, { id: createdSyncId(created.id), status: 'STARTED' });
    const requests = await eventually('the start request seen', () => started.filter((r) => r.integration_id === created.id).at(0));
    assert.deepEqual(requests, {
      tenant_id: t,
      integration_id: created.id,
      integration: { type: 'POSTGRESQL', schemas: ['public', 'sales'] },
      trigger: 'created',
    });
    const sync = await h.caller.request(syncRequests.get, { tenant_id: t, sync_id: created.sync!.id });
    assert.equal(sync.trigger, 'created');
    assert.equal(sync.integration_id, created.id);
  });

  test('with the sync-worker away the create still succeeds, naming the sync its created event will start', async () => {
    await h.stopSyncWorker();
    try {
      const created = await create(tenant());
      assert.deepEqual(created.sync, { id: createdSyncId(created.id), status: 'STARTED' });
      assert.deepEqual((await h.events(created.id)).map((e) => e.type), ['switchyard.integration.created']);
    } finally {
      await h.startSyncWorker();
    }
  });

  // The record and its event are one transaction: when either cannot be written, neither is kept, and the
  // credential stored just before is deleted again. The failures are real: PostgreSQL refuses the row.
  for (const table of ['integrations', 'outbox'] as const)
    test(`if the ${table === 'integrations' ? 'record' : 'created event'} cannot be written, nothing is kept and the stored credential is deleted again`, async () => {
      const [stored, started] = await Promise.all([h.tap(credentialRequests.store), h.tap(syncRequests.start)]);
      const t = tenant();
      const refused = await h.refuseInserts(table, t);
      try {
        await rejection(create(t), 'INTERNAL');
      } finally {
        await refused.lift();
      }
      const store = stored.filter((r) => r.tenant_id === t);
      assert.equal(store.length, 1, 'the credential was stored before the insert');
      const ref = { tenant_id: t, integration_id: store[0]!.integration_id };
      await rejection(h.caller.request(credentialRequests.reveal, ref), 'NOT_FOUND');
      await rejection(h.caller.request(integrationRequests.get, { tenant_id: t, id: ref.integration_id }), 'NOT_FOUND');
      assert.deepEqual(await h.events(ref.integration_id), []);
      assert.deepEqual(started.filter((r) => r.tenant_id === t), []);
    });
});
