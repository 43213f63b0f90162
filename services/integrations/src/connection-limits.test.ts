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
    const ctx: RequestContext = { log: testLogger(), subject: 'integrations.create', deadline: Number.MAX_SAFE_INTEGER };
    const body = (host: string) => ({ integration_type: 'POSTGRESQL' as const, credential: cred(host) });
    const running = await holdAttempts(LIMIT, (i) => handler({ tenant_id: 't1', body: body(`c${i}.held.example.test`) }, ctx));
    await assert.rejects(handler({ tenant_id: 't1', body: body('db.example.test') }, ctx), rateLimited);
    release(false);
    for (const err of await Promise.all(running)) assert.ok(isAppError(err) && err.code === 'CONNECTION_FAILED', String(err));
  });
});
