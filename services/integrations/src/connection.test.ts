<<<<<<< HEAD
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

  test('a connection test that fails is an answer with the reason, not an error, and changes nothing', async () => {
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
    assert.deepEqual((await h.events(id)).map((e) => e.type), ['switchyard.integration.created']);
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
    assert.deepEqual((await h.events(integration.id)).map((e) => e.type), ['switchyard.integration.created']);

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
    assert.deepEqual(events.map((e) => e.type), ['switchyard.integration.created', 'switchyard.integration.credentials_rotated', 'switchyard.integration.credentials_rotated']);
    assert.deepEqual(events.slice(1).map((e) => e.data), [2, 3].map((version) => ({ integration_id: integration.id, tenant_id: t, version })));
    assert.ok(!JSON.stringify(events).includes('second-password'), 'an event holds the password');
=======
/**
 * Connection tests are limited per tenant: test_connection (tryConnection),
 * create and credentials.replace (verifyCredential) share the tenant's slots.
 * The attempts are held in DNS (a server of the test's own) for as long as
 * the test needs them running.
 */
import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { credentialFromUrl } from '@switchyard/connectors/testing';
import type { PostgresCredential } from '@switchyard/contracts';
import { isAppError, type RequestContext } from '@switchyard/kit';
import { startDnsServer, testLogger, type DnsServer } from '@switchyard/kit/testing';
import { tryConnection, verifyCredential, type ConnectLimits } from './connection.ts';
import { create } from './handlers/integrations.create.ts';
import { TenantSlots } from './tenant-slots.ts';

const LIMIT = 2;
let dns: DnsServer;
/** Answers for names under held.example.test wait here: released with the local server's address, or as not found. */
const held: ((found: boolean) => void)[] = [];

beforeAll(async () => {
  dns = await startDnsServer((q) => {
    if (q.name === 'db.example.test') return { addresses: ['127.0.0.1'] };
    if (q.name.endsWith('held.example.test') && q.type === 'A') {
      return new Promise((r) => held.push((found) => r(found ? { addresses: ['127.0.0.1'] } : { rcode: 'NXDOMAIN' })));
    }
    return q.name.endsWith('held.example.test') ? { addresses: [] } : { rcode: 'NXDOMAIN' };
  });
});
afterAll(() => dns.close());

const local = credentialFromUrl(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', 'postgres');
const cred = (host: string): PostgresCredential => ({ ...local, host });
const limits = (): ConnectLimits => ({
  timeoutMs: 30_000,
  policy: { allowPrivate: true, allowCidrs: [], dnsServers: [dns.address] },
  perTenant: new TenantSlots(LIMIT),
});
const rateLimited = (err: unknown) => isAppError(err) && err.code === 'RATE_LIMITED' && err.details?.retry_after_seconds === 1;

/** Starts `n` attempts that wait in DNS until released. */
async function holdAttempts(n: number, start: (i: number) => Promise<unknown>) {
  const asked = dns.questions.length;
  const waiting = held.length;
  const running = Array.from({ length: n }, (_, i) => start(i).catch((e: unknown) => e));
  await dns.asked(asked + 2 * n);
  assert.equal(held.length, waiting + n);
  return running;
}
const release = (found: boolean) => {
  for (const go of held.splice(0)) go(found);
};

describe('connection tests per tenant', () => {
  test('a tenant with all its slots busy is refused at once; another tenant is not; a freed slot takes the next test', async () => {
    const l = limits();
    const running = await holdAttempts(LIMIT, (i) => tryConnection('t1', cred(`${i}.held.example.test`), l));
    await assert.rejects(tryConnection('t1', cred('db.example.test'), l), rateLimited);
    await assert.rejects(verifyCredential('t1', cred('db.example.test'), l), rateLimited);
    const other = await tryConnection('t2', cred('db.example.test'), l);
    assert.equal(other.ok, true, JSON.stringify(other));
    release(true);
    for (const r of await Promise.all(running)) assert.equal((r as { ok: boolean }).ok, true, JSON.stringify(r));
    assert.equal(l.perTenant.inUse('t1'), 0);
    assert.equal((await tryConnection('t1', cred('db.example.test'), l)).ok, true);
  });

  test('a failed verification frees its slot too', async () => {
    const l = limits();
    const running = await holdAttempts(LIMIT, (i) => verifyCredential('t1', cred(`v${i}.held.example.test`), l));
    release(false);
    for (const err of await Promise.all(running)) assert.ok(isAppError(err) && err.code === 'CONNECTION_FAILED' && err.details?.reason === 'HOST_NOT_FOUND', String(err));
    assert.equal(l.perTenant.inUse('t1'), 0);
  });

  test('integrations.create verifies in the tenant\'s slots: past the limit it is RATE_LIMITED before anything is stored', async () => {
    const l = limits();
    // Refused or failed creates never get past the credential check: nothing else is touched.
    const untouched = new Proxy({}, { get: () => assert.fail('create went past the credential check') }) as never;
    const handler = create({ pool: untouched, rpc: untouched, log: testLogger(), limits: l });
    const ctx = { log: testLogger(), subject: 'integrations.create' } as RequestContext;
    const body = (host: string) => ({ integration_type: 'POSTGRESQL' as const, credential: cred(host) });
    const running = await holdAttempts(LIMIT, (i) => handler({ tenant_id: 't1', body: body(`c${i}.held.example.test`) }, ctx));
    await assert.rejects(handler({ tenant_id: 't1', body: body('db.example.test') }, ctx), rateLimited);
    release(false);
    for (const err of await Promise.all(running)) assert.ok(isAppError(err) && err.code === 'CONNECTION_FAILED', String(err));
>>>>>>> connectors-hardening
  });
});
