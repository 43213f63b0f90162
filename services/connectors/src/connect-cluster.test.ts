/**
 * Against a real PostgreSQL cluster of its own with password (scram-sha-256)
 * authentication and TLS only, as a customer's server often is: the failures
 * the stand-in servers of connect.test.ts imitate, from the real thing.
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import type { PostgresCredential } from '@switchyard/contracts';
import { startCustomerPostgres, type CustomerPostgres } from '@switchyard/kit/testing';
import { testConnection } from './connect.ts';
import { discover } from './discover.ts';
import { ConnectionFailure } from './errors.ts';

let cluster: CustomerPostgres | undefined;
let unavailable: string | undefined;

beforeAll(async () => {
  try {
    cluster = await startCustomerPostgres({ tls: true, password: 'Cust0mer-pa55word' });
  } catch (err) {
    // No server binaries or openssl on this machine: the stand-in servers still cover these paths.
    unavailable = (err as Error).message.split('\n')[0];
  }
});
afterAll(async () => {
  await cluster?.stop();
});

const cred = (over: Partial<PostgresCredential> = {}): PostgresCredential => ({
  host: cluster!.host,
  port: cluster!.port,
  username: cluster!.user,
  password: cluster!.password,
  database_name: 'postgres',
  ...over,
});

async function reason(c: PostgresCredential) {
  const err = await testConnection(c, { timeoutMs: 5_000 }).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err === undefined) return 'OK';
  assert.ok(err instanceof ConnectionFailure, String(err));
  assert.ok(!err.message.includes(c.password), err.message);
  return err.reason;
}

describe('a TLS-only cluster with password authentication', () => {
  test('a wrong password is AUTHENTICATION_FAILED', async (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    assert.equal(await reason(cred({ password: 'not-the-password' })), 'AUTHENTICATION_FAILED');
  });

  test('sslmode=disable is TLS_REQUIRED', async (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    assert.equal(await reason(cred({ sslmode: 'disable' })), 'TLS_REQUIRED');
  });

  test('prefer, require and allow all get in (allow after the server asks for TLS)', async (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    for (const sslmode of [undefined, 'prefer', 'require', 'allow'] as const) assert.equal(await reason(cred({ sslmode })), 'OK', sslmode);
  });

  test('verify-ca and verify-full refuse its self-signed certificate: TLS_FAILED', async (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    for (const sslmode of ['verify-ca', 'verify-full'] as const) assert.equal(await reason(cred({ sslmode })), 'TLS_FAILED', sslmode);
  });

  test('discovery works over TLS', async (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    const catalog = await discover(cred({ sslmode: 'require' }));
    assert.equal(catalog.database, 'postgres');
    assert.deepEqual(
      catalog.schemas.map((s) => s.name),
      ['public'],
    );
  });
});
