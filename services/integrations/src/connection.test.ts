import assert from 'node:assert/strict';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, test } from 'vitest';
import { createDatabase } from '@switchyard/connectors/testing';
import { credentialRequests, integrationRequests, type PostgresCredential } from '@switchyard/contracts';
import { startCustomerPostgres, uniqueName, type CustomerPostgres } from '@switchyard/kit/testing';
import { Harness, rejection } from './testing.ts';

let h: Harness;
let cluster: CustomerPostgres;
const tenant = () => uniqueName('tenant');

const create = (tenant_id: string, credential: PostgresCredential) =>
  h.caller.request(integrationRequests.create, { tenant_id, body: { integration_type: 'POSTGRESQL', credential } });
const testConnection = (tenant_id: string, id: string) => h.caller.request(integrationRequests.test, { tenant_id, id });
const reveal = (tenant_id: string, integration_id: string) => h.caller.request(credentialRequests.reveal, { tenant_id, integration_id });

/** The customer changes the password of its cluster's user, as a customer rotating secrets does. */
async function changePassword(password: string, current: string) {
  const client = new pg.Client({ host: cluster.host, port: cluster.port, user: cluster.user, password: current, database: 'postgres' });
  await client.connect();
  try {
    await client.query(`ALTER ROLE "${cluster.user}" PASSWORD '${password}'`);
  } finally {
    await client.end();
  }
}

describe('integrations.test_connection and .credentials.replace', () => {
  beforeAll(async () => {
    // Both at once; settled, so that afterAll stops whichever started when the other did not.
    const started = await Promise.allSettled([
      Harness.start().then((x) => (h = x)),
      startCustomerPostgres({ password: 'first-password' }).then((c) => (cluster = c)),
    ]);
    for (const r of started) if (r.status === 'rejected') throw r.reason;
  });

  afterEach(() => h.closeTaps());

  afterAll(async () => {
    await Promise.allSettled([h?.stop(), cluster?.stop()]);
  });

  test('a connection test with the stored credential answers ok, with its latency and the server version', async () => {
    const t = tenant();
    const { id } = await create(t, h.customer.cred);
    const result = await testConnection(t, id);
    assert.ok(result.ok, JSON.stringify(result));
    assert.ok(result.latency_ms >= 0);
    const [server] = await h.customer.sql<{ server_version: string }>('SHOW server_version');
    assert.equal(result.server_version, server?.server_version);
  });

  test('a connection test that fails is an answer with the reason, not an error, and changes nothing; it is announced', async () => {
    const t = tenant();
    const doomed = await createDatabase('integrations_doomed');
    let id: string;
    try {
      ({ id } = await create(t, doomed.cred));
    } finally {
      await doomed.drop();
    }
    const result = await testConnection(t, id);
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.reason, 'DATABASE_NOT_FOUND', JSON.stringify(result));
    assert.ok(!JSON.stringify(result).includes(doomed.cred.password), 'the answer holds the password');
    assert.equal((await h.caller.request(integrationRequests.get, { tenant_id: t, id })).status, 'CONNECTED');
    const events = await h.events(id);
    assert.deepEqual(events.map((e) => e.type), ['switchyard.integration.created', 'switchyard.integration.connection_tested']);
    assert.deepEqual({ ...(events[1]!.data as object), tested_at: undefined }, {
      integration_id: id,
      tenant_id: t,
      ok: false,
      latency_ms: null,
      reason: 'DATABASE_NOT_FOUND',
      message: result.ok ? null : result.message,
      trigger: 'api',
      tested_at: undefined,
    });
  });

  test('a replacement credential must connect before it replaces the old one; each replacement bumps the version and is announced', async () => {
    const t = tenant();
    const first: PostgresCredential = {
      host: cluster.host,
      port: cluster.port,
      username: cluster.user,
      password: 'first-password',
      database_name: 'postgres',
      sslmode: 'disable',
    };
    const { sync: _sync, ...integration } = await create(t, first);
    await changePassword('second-password', 'first-password');
    const failing = await testConnection(t, integration.id);
    assert.equal(!failing.ok && failing.reason, 'AUTHENTICATION_FAILED', JSON.stringify(failing));

    const stored = await h.tap(credentialRequests.store);
    const refused = await rejection(
      h.caller.request(integrationRequests.replaceCredential, { tenant_id: t, id: integration.id, credential: { ...first, password: 'still-wrong' } }),
      'CONNECTION_FAILED',
    );
    assert.equal(refused.details?.reason, 'AUTHENTICATION_FAILED');
    assert.deepEqual(stored, [], 'a credential that does not connect reached the credentials service');
    assert.deepEqual(await reveal(t, integration.id), { integration_id: integration.id, secret: first, version: 1 });
    // The failed test is announced; the refused replacement is not.
    assert.deepEqual((await h.events(integration.id)).map((e) => e.type), ['switchyard.integration.created', 'switchyard.integration.connection_tested']);

    const second = { ...first, password: 'second-password' };
    const replaced = await h.caller.request(integrationRequests.replaceCredential, { tenant_id: t, id: integration.id, credential: second });
    assert.deepEqual(replaced.target, integration.target);
    assert.deepEqual(await reveal(t, integration.id), { integration_id: integration.id, secret: second, version: 2 });
    assert.equal((await testConnection(t, integration.id)).ok, true);

    // A credential for another database moves the integration there.
    const moved = await h.caller.request(integrationRequests.replaceCredential, { tenant_id: t, id: integration.id, credential: h.customer.cred });
    assert.deepEqual(moved.target, { host: '127.0.0.1', port: h.customer.cred.port, database_name: h.customer.name, username: h.customer.cred.username });
    assert.deepEqual(await h.caller.request(integrationRequests.get, { tenant_id: t, id: integration.id }), moved);
    assert.equal((await reveal(t, integration.id)).version, 3);

    const events = await h.events(integration.id);
    assert.deepEqual(events.map((e) => e.type), [
      'switchyard.integration.created',
      'switchyard.integration.connection_tested',
      'switchyard.integration.credentials_rotated',
      'switchyard.integration.connection_tested',
      'switchyard.integration.credentials_rotated',
    ]);
    const rotated = events.filter((e) => e.type === 'switchyard.integration.credentials_rotated');
    assert.deepEqual(rotated.map((e) => e.data), [2, 3].map((version) => ({ integration_id: integration.id, tenant_id: t, version })));
    assert.ok(!JSON.stringify(events).includes('second-password'), 'an event holds the password');
  });
});
