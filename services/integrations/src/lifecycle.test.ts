import assert from 'node:assert/strict';
import { afterAll, afterEach, beforeAll, describe, test } from 'vitest';
import { credentialRequests, integrationRequests, syncRequests, type IntegrationConfig } from '@switchyard/contracts';
import { uniqueName } from '@switchyard/kit/testing';
import { Harness, rejection } from './testing.ts';

let h: Harness;
const tenant = () => uniqueName('tenant');

async function create(tenant_id: string, config?: IntegrationConfig) {
  const { sync, ...integration } = await h.caller.request(integrationRequests.create, {
    tenant_id,
    body: { integration_type: 'POSTGRESQL', credential: h.customer.cred, config },
  });
  return { integration, ref: { tenant_id, id: integration.id }, firstSync: sync! };
}
const eventTypes = async (id: string) => (await h.events(id)).map((e) => e.type);

describe('integrations.connect, .disconnect, .syncs.start and .delete', () => {
  beforeAll(async () => {
    h = await Harness.start();
  });

  afterEach(() => h.closeTaps());

  afterAll(async () => {
    await h?.stop();
  });

  test('disconnect and connect each announce a change once; a repeat answers the integration and announces nothing', async () => {
    const { ref } = await create(tenant());
    const off = await h.caller.request(integrationRequests.disconnect, ref);
    assert.equal(off.status, 'DISCONNECTED');
    assert.deepEqual(await h.caller.request(integrationRequests.disconnect, ref), off);
    assert.deepEqual(await h.caller.request(integrationRequests.get, ref), off);

    const on = await h.caller.request(integrationRequests.connect, ref);
    assert.equal(on.status, 'CONNECTED');
    assert.deepEqual(await h.caller.request(integrationRequests.connect, ref), on);

    const events = await h.events(ref.id);
    assert.deepEqual(events.map((e) => e.type), ['switchyard.integration.created', 'switchyard.integration.disconnected', 'switchyard.integration.connected']);
    assert.deepEqual(events.slice(1).map((e) => e.data), [{ integration: off }, { integration: on }]);
  });

  test("a disconnected integration refuses syncs.start as a conflict without asking the sync-worker; connected, it starts a manual sync with the integration's schemas", async () => {
    const { ref, firstSync } = await create(tenant(), { schemas: ['public'] });
    // No job runner here: the first sync stays STARTED until it is cancelled, and the worker allows one active sync.
    await h.caller.request(syncRequests.cancel, { tenant_id: ref.tenant_id, sync_id: firstSync.id });
    const started = await h.tap(syncRequests.start);

    await h.caller.request(integrationRequests.disconnect, ref);
    const refused = await rejection(h.caller.request(integrationRequests.startSync, ref), 'CONFLICT');
    assert.match(refused.message, /disconnected/);
    assert.deepEqual(started, [], 'the start reached the sync-worker');

    await h.caller.request(integrationRequests.connect, ref);
    const sync = await h.caller.request(integrationRequests.startSync, ref);
    assert.equal(sync.integration_id, ref.id);
    assert.equal(sync.trigger, 'manual');
    assert.equal(sync.status, 'STARTED');
    assert.deepEqual(started, [
      { tenant_id: ref.tenant_id, integration_id: ref.id, integration: { type: 'POSTGRESQL', schemas: ['public'] }, trigger: 'manual' },
    ]);
    // The sync-worker's own conflict (one active sync) reaches the caller as it was given.
    const busy = await rejection(h.caller.request(integrationRequests.startSync, ref), 'CONFLICT');
    assert.equal(busy.details?.active_sync_id, sync.id);
  });

  test('delete removes the credential first: with the credentials service away nothing is deleted and the error is retryable; a retry succeeds', async () => {
    const { integration, ref } = await create(tenant());
    await h.stopCredentials();
    try {
      const err = await rejection(h.caller.request(integrationRequests.delete, ref), 'UNAVAILABLE');
      assert.equal(err.retryable, true);
      assert.deepEqual(await h.caller.request(integrationRequests.get, ref), integration);
      assert.deepEqual(await eventTypes(ref.id), ['switchyard.integration.created']);
    } finally {
      await h.startCredentials();
    }
    const credential = { tenant_id: ref.tenant_id, integration_id: ref.id };
    assert.equal((await h.caller.request(credentialRequests.reveal, credential)).version, 1, 'the credential outlived the failed delete');

    assert.deepEqual(await h.caller.request(integrationRequests.delete, ref), { deleted: true });
    await rejection(h.caller.request(integrationRequests.get, ref), 'NOT_FOUND');
    await rejection(h.caller.request(credentialRequests.reveal, credential), 'NOT_FOUND');
    const events = await h.events(ref.id);
    assert.deepEqual(events.map((e) => e.type), ['switchyard.integration.created', 'switchyard.integration.deleted']);
    assert.deepEqual(events[1]!.data, { integration_id: ref.id, tenant_id: ref.tenant_id });
    await rejection(h.caller.request(integrationRequests.delete, ref), 'NOT_FOUND');
  });

  test('a deletion whose event cannot be written is not kept; the retry deletes it although the credential is already gone', async () => {
    const { integration, ref } = await create(tenant());
    const refused = await h.refuseInserts('outbox', ref.tenant_id);
    try {
      await rejection(h.caller.request(integrationRequests.delete, ref), 'INTERNAL');
    } finally {
      await refused.lift();
    }
    assert.deepEqual(await h.caller.request(integrationRequests.get, ref), integration);
    assert.deepEqual(await eventTypes(ref.id), ['switchyard.integration.created']);
    // The credential went first, as designed: until the retry the integration stands without it.
    await rejection(h.caller.request(credentialRequests.reveal, { tenant_id: ref.tenant_id, integration_id: ref.id }), 'NOT_FOUND');

    assert.deepEqual(await h.caller.request(integrationRequests.delete, ref), { deleted: true });
    await rejection(h.caller.request(integrationRequests.get, ref), 'NOT_FOUND');
    assert.deepEqual(await eventTypes(ref.id), ['switchyard.integration.created', 'switchyard.integration.deleted']);
  });
});
