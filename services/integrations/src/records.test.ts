import assert from 'node:assert/strict';
import { afterAll, afterEach, beforeAll, describe, test } from 'vitest';
import {
  credentialRequests,
  integrationRequests,
  syncRequests,
  type Integration,
  type IntegrationConfig,
  type RequestOf,
} from '@switchyard/contracts';
import { uniqueName } from '@switchyard/kit/testing';
import { Harness, rejection } from './testing.ts';

let h: Harness;
const tenant = () => uniqueName('tenant');

async function create(tenant_id: string, body: { name?: string; config?: IntegrationConfig } = {}): Promise<Integration> {
  const { sync: _sync, ...integration } = await h.caller.request(integrationRequests.create, {
    tenant_id,
    body: { integration_type: 'POSTGRESQL', credential: h.customer.cred, ...body },
  });
  return integration;
}

type ListQuery = RequestOf<typeof integrationRequests.list>['query'];

/** Every page of a listing, following next_cursor to the end; `between` runs after the first page. */
async function pages(tenant_id: string, query: ListQuery, between?: () => Promise<unknown>): Promise<string[][]> {
  const out: string[][] = [];
  let cursor: string | undefined;
  do {
    const page = await h.caller.request(integrationRequests.list, { tenant_id, query: { ...query, cursor } });
    out.push(page.data.map((i) => i.id));
    cursor = page.next_cursor ?? undefined;
    if (out.length === 1) await between?.();
  } while (cursor);
  return out;
}

/** The ids in list order: newest first, the id breaking a tie (as PostgreSQL orders uuids). */
const newestFirst = (list: Integration[]) =>
  [...list].sort((a, b) => (a.created_at === b.created_at ? (a.id < b.id ? 1 : -1) : a.created_at < b.created_at ? 1 : -1)).map((i) => i.id);

describe('integrations.list, .get, .update, and tenancy', () => {
  beforeAll(async () => {
    h = await Harness.start();
  });

  afterEach(() => h.closeTaps());

  afterAll(async () => {
    await h?.stop();
  });

  test('list pages newest first by cursor, never repeating or skipping, even while rows are added; it filters by status and type', async () => {
    const t = tenant();
    // One after another: a tenant runs at most CONNECTION_TESTS_PER_TENANT credential checks at once.
    const made: Integration[] = [];
    for (let i = 0; i < 7; i++) made.push(await create(t, { name: `db ${i}` }));
    // Replicas under load create several in one millisecond (the cursor's precision); the test cannot time that,
    // so it gives four of them one creation time: only the id in the cursor tells them apart.
    await h.integrations.pool.query(
      `UPDATE integrations SET created_at = date_trunc('milliseconds', now()) WHERE id = ANY($1::uuid[])`,
      [made.slice(1, 5).map((i) => i.id)],
    );
    const disconnected = await Promise.all(made.slice(0, 3).map(({ id }) => h.caller.request(integrationRequests.disconnect, { tenant_id: t, id })));
    const connected = await Promise.all(made.slice(3).map(({ id }) => h.caller.request(integrationRequests.get, { tenant_id: t, id })));
    const created = [...disconnected, ...connected];

    let late: Integration | undefined;
    const all = await pages(t, { limit: 2 }, async () => (late = await create(t, { name: 'added after the first page' })));
    assert.ok(all.every((p) => p.length <= 2));
    assert.deepEqual(all.flat(), newestFirst(created), 'a row newer than the first page does not appear on later ones');
    assert.equal((await h.caller.request(integrationRequests.list, { tenant_id: t, query: { limit: 1 } })).data[0]?.id, late?.id);

    assert.deepEqual((await pages(t, { status: 'DISCONNECTED', limit: 2 })).flat(), newestFirst(disconnected));
    assert.deepEqual((await pages(t, { status: 'CONNECTED', limit: 3 })).flat(), newestFirst([...connected, late!]));
    assert.deepEqual((await pages(t, { type: 'POSTGRESQL', limit: 200 })).flat(), newestFirst([...created, late!]));
    assert.deepEqual(await pages(tenant(), {}), [[]], 'another tenant lists none of them');

    const bad = await rejection(h.caller.request(integrationRequests.list, { tenant_id: t, query: { cursor: 'not-a-cursor' } }), 'VALIDATION_FAILED');
    assert.equal(bad.errors?.[0]?.field, 'query.cursor');
  });

  test('get answers the integration as created; update renames or reconfigures it and announces each change', async () => {
    const t = tenant();
    const created = await create(t, { config: { schemas: ['public'], syncFrequency: 'daily' } });
    assert.deepEqual(await h.caller.request(integrationRequests.get, { tenant_id: t, id: created.id }), created);

    const renamed = await h.caller.request(integrationRequests.update, { tenant_id: t, id: created.id, name: 'Warehouse' });
    assert.equal(renamed.name, 'Warehouse');
    assert.deepEqual(renamed.config, created.config, 'a rename keeps the config');
    assert.ok(renamed.updated_at >= created.updated_at);
    const reconfigured = await h.caller.request(integrationRequests.update, { tenant_id: t, id: created.id, config: { schemas: ['sales'] } });
    assert.equal(reconfigured.name, 'Warehouse', 'a new config keeps the name');
    assert.deepEqual(reconfigured.config, { schemas: ['sales'] });
    assert.deepEqual(await h.caller.request(integrationRequests.get, { tenant_id: t, id: created.id }), reconfigured);

    const events = await h.events(created.id);
    assert.deepEqual(events.map((e) => e.type), ['switchyard.integration.created', 'switchyard.integration.updated', 'switchyard.integration.updated']);
    assert.deepEqual(events.slice(1).map((e) => e.data), [{ integration: renamed }, { integration: reconfigured }]);
  });

  test("another tenant's integration is not found on every route, and nothing of it changes", async () => {
    const owner = tenant();
    const integration = await create(owner);
    const started = await h.tap(syncRequests.start);
    const [stored, deleted] = await Promise.all([h.tap(credentialRequests.store), h.tap(credentialRequests.delete)]);
    const ref = { tenant_id: tenant(), id: integration.id };
    // Every route that names an integration (create and list name none): a new route must be added here to compile.
    const routes: Record<Exclude<keyof typeof integrationRequests, 'create' | 'list'>, () => Promise<unknown>> = {
      get: () => h.caller.request(integrationRequests.get, ref),
      update: () => h.caller.request(integrationRequests.update, { ...ref, name: 'taken over' }),
      delete: () => h.caller.request(integrationRequests.delete, ref),
      test: () => h.caller.request(integrationRequests.test, ref),
      connect: () => h.caller.request(integrationRequests.connect, ref),
      disconnect: () => h.caller.request(integrationRequests.disconnect, ref),
      replaceCredential: () => h.caller.request(integrationRequests.replaceCredential, { ...ref, credential: h.customer.cred }),
      startSync: () => h.caller.request(integrationRequests.startSync, ref),
    };
    for (const [name, call] of Object.entries(routes)) await rejection(call(), 'NOT_FOUND', name);
    assert.deepEqual((await h.caller.request(integrationRequests.list, { tenant_id: ref.tenant_id, query: {} })).data, []);

    assert.deepEqual(await h.caller.request(integrationRequests.get, { tenant_id: owner, id: integration.id }), integration);
    assert.equal((await h.caller.request(credentialRequests.reveal, { tenant_id: owner, integration_id: integration.id })).version, 1);
    assert.deepEqual((await h.events(integration.id)).map((e) => e.type), ['switchyard.integration.created']);
    assert.deepEqual([started, stored, deleted], [[], [], []], 'a request reached another service');
  });
});
