/**
 * sslmode on a production Switchyard (see connect-plan.ts): verified TLS by
 * default, never plaintext, and a password only for a verified server,
 * against real clusters (TLS-only with a self-signed certificate, and plain)
 * and stand-ins that ask for the password the ways a real server may.
 */
import assert from 'node:assert/strict';
import { afterAll, beforeAll, beforeEach, describe, test } from 'vitest';
import type { PostgresCredential, SslMode } from '@switchyard/contracts';
import { targetPolicyFrom, type TargetPolicy } from '@switchyard/kit';
import { startCustomerPostgres, type CustomerPostgres } from '@switchyard/kit/testing';
import { connectOptions } from './connect-plan.ts';
import { testConnection } from './connect.ts';
import { ConnectionFailure } from './errors.ts';
import { fakeServer, selfSignedCert, type FakeServer } from './testing.ts';

const PASSWORD = 'Pr0duction-pa55word';
// The clusters listen on 127.0.0.1: private targets are allowed here, the TLS rules are what is tested.
const production = targetPolicyFrom({ NODE_ENV: 'production', CONNECTOR_PRIVATE_TARGETS: 'allow' });
const insecureAllowed = targetPolicyFrom({ NODE_ENV: 'production', CONNECTOR_PRIVATE_TARGETS: 'allow', CONNECTOR_ALLOW_INSECURE_TLS: true });
const development = targetPolicyFrom({ NODE_ENV: 'development' });

let tlsOnly: CustomerPostgres | undefined;
let plain: CustomerPostgres | undefined;
let unavailable: string | undefined;
const servers: FakeServer[] = [];

beforeAll(async () => {
  try {
    [tlsOnly, plain] = await Promise.all([startCustomerPostgres({ tls: true, password: PASSWORD }), startCustomerPostgres({ password: PASSWORD })]);
  } catch (err) {
    unavailable = (err as Error).message.split('\n')[0];
  }
});
afterAll(async () => {
  await Promise.all([tlsOnly?.stop(), plain?.stop(), ...servers.map((s) => s.close())]);
});

const on = (c: { host: string; port: number; user: string }, sslmode?: SslMode): PostgresCredential => ({
  host: c.host,
  port: c.port,
  username: c.user,
  password: PASSWORD,
  database_name: 'postgres',
  ...(sslmode ? { sslmode } : {}),
});

/** 'OK', or the reason it failed (with a message that never shows the password). */
async function outcome(cred: PostgresCredential, policy: TargetPolicy): Promise<string> {
  const err = await testConnection(cred, { timeoutMs: 5_000, policy }).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err === undefined) return 'OK';
  assert.ok(err instanceof ConnectionFailure, String(err));
  assert.ok(!err.message.includes(PASSWORD), err.message);
  return err.reason;
}

describe('sslmode against real clusters', () => {
  beforeEach((ctx) => ctx.skip(!!unavailable, unavailable));

  test('no sslmode: verify-full in production (a self-signed certificate fails, no plaintext), prefer in development', async () => {
    assert.equal(await outcome(on(tlsOnly!), production), 'TLS_FAILED');
    assert.equal(await outcome(on(plain!), production), 'TLS_UNAVAILABLE');
    assert.equal(await outcome(on(tlsOnly!), development), 'OK');
    assert.equal(await outcome(on(plain!), development), 'OK');
  });

  test('production: require, prefer and allow reach a TLS server with an unverified certificate through SCRAM channel binding', async () => {
    for (const sslmode of ['require', 'prefer', 'allow'] as const) assert.equal(await outcome(on(tlsOnly!, sslmode), production), 'OK', sslmode);
  });

  test('production: prefer and allow never fall back to plaintext; disable is refused before connecting', async () => {
    for (const sslmode of ['prefer', 'allow', 'require'] as const) assert.equal(await outcome(on(plain!, sslmode), production), 'TLS_UNAVAILABLE', sslmode);
    const err = await testConnection(on(plain!, 'prefer'), { timeoutMs: 5_000, policy: production }).catch((e: unknown) => e);
    assert.match((err as Error).message, /does not fall back to plaintext/);
    assert.equal(await outcome(on(plain!, 'disable'), production), 'TLS_REQUIRED');
    // The same credentials outside production, as libpq has them.
    for (const sslmode of ['prefer', 'allow', 'disable'] as const) assert.equal(await outcome(on(plain!, sslmode), development), 'OK', sslmode);
  });

  test('production with CONNECTOR_ALLOW_INSECURE_TLS: a named mode is libpq\'s own; no sslmode is still verify-full', async () => {
    for (const sslmode of ['prefer', 'allow', 'disable'] as const) assert.equal(await outcome(on(plain!, sslmode), insecureAllowed), 'OK', sslmode);
    assert.equal(await outcome(on(plain!), insecureAllowed), 'TLS_UNAVAILABLE');
    assert.equal(await outcome(on(tlsOnly!), insecureAllowed), 'TLS_FAILED');
  });
});

describe('the password over unverified TLS, against stand-ins', () => {
  const cert = selfSignedCert();
  beforeEach((ctx) => ctx.skip(!cert, 'openssl is not installed'));

  const asking = async (askPassword: true | 'scram') => {
    const s = await fakeServer({
      ssl: cert!,
      plain: { error: { code: '28000', message: 'no pg_hba.conf entry for host "127.0.0.1", user "bob", database "shop", no encryption' } },
      tls: { askPassword, error: { code: '28P01', message: 'password authentication failed for user "bob"' } },
    });
    servers.push(s);
    return s;
  };
  const at = (s: FakeServer, sslmode: SslMode): PostgresCredential => ({ host: '127.0.0.1', port: s.port, username: 'bob', password: PASSWORD, database_name: 'shop', sslmode });

  for (const ask of [true, 'scram'] as const) {
    const how = ask === true ? 'in cleartext' : 'through SCRAM without channel binding';
    test(`production: a server that asks for the password ${how} is TLS_UNVERIFIED and gets nothing`, async () => {
      for (const sslmode of ['require', 'prefer', 'allow'] as const) {
        const s = await asking(ask);
        assert.equal(await outcome(at(s, sslmode), production), 'TLS_UNVERIFIED', sslmode);
        assert.deepEqual(s.passwords, [], `${sslmode}: nothing derived from the password was sent`);
      }
    });
  }

  test('outside production, and with CONNECTOR_ALLOW_INSECURE_TLS, require sends it as libpq would', async () => {
    for (const policy of [development, insecureAllowed]) {
      const s = await asking(true);
      assert.equal(await outcome(at(s, 'require'), policy), 'AUTHENTICATION_FAILED');
      assert.deepEqual(s.passwords, [PASSWORD]);
    }
  });

  test('production: sslmode=disable opens no connection at all', async () => {
    const s = await asking(true);
    const err = await testConnection(at(s, 'disable'), { timeoutMs: 5_000, policy: production }).catch((e: unknown) => e);
    assert.ok(err instanceof ConnectionFailure && err.reason === 'TLS_REQUIRED' && !err.retryable, String(err));
    assert.match(err.message, /connects only over TLS/);
    assert.equal(s.connections, 0);
  });
});

describe('connectOptions under the transport policy', () => {
  const cred: PostgresCredential = { host: 'db.example.com', port: 5432, username: 'bob', password: PASSWORD, database_name: 'shop' };
  test('production: verify-full by default; require, prefer and allow are TLS only with channel binding; disable throws TLS_REQUIRED', () => {
    const byDefault = connectOptions(cred, 1_000, 1_000, 'verified');
    assert.deepEqual(byDefault.config.ssl, { rejectUnauthorized: true });
    assert.equal(byDefault.channelBinding, false);
    for (const sslmode of ['require', 'prefer', 'allow'] as const) {
      const plan = connectOptions({ ...cred, sslmode }, 1_000, 1_000, 'verified');
      assert.deepEqual(plan.config.ssl, { rejectUnauthorized: false }, sslmode);
      assert.equal(plan.fallback, null, sslmode);
      assert.equal(plan.channelBinding, true, sslmode);
    }
    assert.throws(() => connectOptions({ ...cred, sslmode: 'disable' }, 1_000, 1_000, 'verified'), (e) => e instanceof ConnectionFailure && e.reason === 'TLS_REQUIRED');
    assert.equal(connectOptions({ ...cred, sslmode: 'verify-ca' }, 1_000, 1_000, 'verified').channelBinding, false);
  });

  test('as-asked keeps libpq for a named mode and verify-full without one; lenient is libpq throughout', () => {
    assert.deepEqual(connectOptions(cred, 1_000, 1_000, 'as-asked').config.ssl, { rejectUnauthorized: true });
    assert.equal(connectOptions({ ...cred, sslmode: 'prefer' }, 1_000, 1_000, 'as-asked').fallback?.when, 'TLS_UNAVAILABLE');
    assert.equal(connectOptions({ ...cred, sslmode: 'disable' }, 1_000, 1_000, 'as-asked').config.ssl, false);
    assert.equal(connectOptions(cred, 1_000).fallback?.when, 'TLS_UNAVAILABLE');
  });
});
