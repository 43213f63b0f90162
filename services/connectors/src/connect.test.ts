import { afterAll, beforeAll, beforeEach, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import type { ConnectionFailureReason, PostgresCredential } from '@switchyard/contracts';
import { connectOptions } from './connect-plan.ts';
import { testConnection } from './connect.ts';
import { ConnectionFailure } from './errors.ts';
import { uniqueName } from '@switchyard/kit/testing';
import { adminQuery, closedPort, createDatabase, fakeServer, selfSignedCert, silentServer, type FakeServer, type TestDatabase } from './testing.ts';

const PASSWORD = 'S3cret-pa55word!';
const TIMEOUT_MS = 500;

let db: TestDatabase;
const roles: string[] = [];
const servers: FakeServer[] = [];

beforeAll(async () => {
  db = await createDatabase('connectors_connect');
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await db.drop();
  for (const r of roles) await adminQuery(`DROP ROLE IF EXISTS "${r}"`);
});

const local = (over: Partial<PostgresCredential> = {}): PostgresCredential => ({ ...db.cred, password: PASSWORD, ...over });
const fake = async (behaviour: Parameters<typeof fakeServer>[0]) => {
  const s = await fakeServer(behaviour);
  servers.push(s);
  return s;
};
const at = (port: number, over: Partial<PostgresCredential> = {}): PostgresCredential => ({
  host: '127.0.0.1',
  port,
  username: 'bob',
  password: PASSWORD,
  database_name: 'shop',
  ...over,
});

/** Expects testConnection to fail for `reason`, with a message that is safe to show. */
async function failsWith(cred: PostgresCredential, reason: ConnectionFailureReason, retryable: boolean): Promise<ConnectionFailure> {
  const err = await testConnection(cred, { timeoutMs: TIMEOUT_MS * 4 }).then(
    () => assert.fail(`expected ${reason}`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ConnectionFailure, `not a ConnectionFailure: ${String(err)}`);
  assert.equal(err.reason, reason, err.message);
  assert.equal(err.retryable, retryable);
  assert.ok(!err.message.includes(cred.password), `message shows the password: ${err.message}`);
  assert.doesNotMatch(err.message, /\n\s+at /, 'message carries a stack');
  return err;
}

describe('testConnection against the real server', () => {
  test('answers with the server version and a latency', async () => {
    const r = await testConnection(local());
    assert.match(r.server_version, /^\d+(\.\d+)?/);
    assert.ok(r.latency_ms >= 0 && r.latency_ms < 5_000);
  });

  test('sslmode prefer (the default) falls back to plain when the server has no TLS', async (ctx) => {
    const { sslmode: _, ...cred } = local();
    const r = await testConnection(cred).catch((e: unknown) => e);
    if (r instanceof ConnectionFailure && r.reason === 'TLS_FAILED') ctx.skip('the local server has TLS with a certificate we cannot check');
    else assert.ok(!(r instanceof Error), String(r));
  });

  test('an unknown database is DATABASE_NOT_FOUND', async () => {
    const err = await failsWith(local({ database_name: 'no_such_db_here' }), 'DATABASE_NOT_FOUND', false);
    assert.match(err.message, /database "no_such_db_here" does not exist/);
  });

  test('a role that may not log in is AUTHENTICATION_FAILED', async () => {
    const role = uniqueName('nologin');
    roles.push(role);
    await db.sql(`CREATE ROLE "${role}" NOLOGIN PASSWORD '${PASSWORD}'`);
    const err = await failsWith(local({ username: role }), 'AUTHENTICATION_FAILED', false);
    assert.match(err.message, /not permitted to log in/);
  });

  test('an unknown role is AUTHENTICATION_FAILED', async () => {
    await failsWith(local({ username: uniqueName('ghost') }), 'AUTHENTICATION_FAILED', false);
  });

  test('a role without CONNECT on the database is PERMISSION_DENIED', async () => {
    const role = uniqueName('noconnect');
    roles.push(role);
    await db.sql(`CREATE ROLE "${role}" LOGIN PASSWORD '${PASSWORD}'; REVOKE CONNECT ON DATABASE "${db.name}" FROM PUBLIC`);
    await failsWith(local({ username: role }), 'PERMISSION_DENIED', false);
  });

  test('a host name that does not resolve is HOST_NOT_FOUND', async () => {
    const err = await failsWith(local({ host: 'nonexistent.invalid' }), 'HOST_NOT_FOUND', false);
    assert.match(err.message, /nonexistent\.invalid/);
  });

  test('a closed port is CONNECTION_REFUSED', async () => {
    const port = await closedPort();
    const err = await failsWith(local({ port }), 'CONNECTION_REFUSED', true);
    assert.equal(err.message, `could not connect to 127.0.0.1:${port}: connection refused`);
  });
});

describe('testConnection against a misbehaving server', () => {
  for (const sslmode of ['prefer', 'disable'] as const) {
    test(`a server that accepts and never answers is TIMEOUT within the bound (sslmode=${sslmode})`, async () => {
      const s = await silentServer();
      servers.push(s);
      const began = performance.now();
      const err = await testConnection(at(s.port, { sslmode }), { timeoutMs: TIMEOUT_MS }).catch((e: unknown) => e);
      const took = performance.now() - began;
      assert.ok(err instanceof ConnectionFailure);
      assert.equal(err.reason, 'TIMEOUT');
      assert.equal(err.retryable, true);
      assert.equal(err.message, `no answer from 127.0.0.1:${s.port} within 0.5 s`);
      assert.ok(took < TIMEOUT_MS * 5, `took ${took} ms`);
    });
  }

  test('a server that logs in and then never answers the query is TIMEOUT within the bound', async () => {
    const s = await fake({ plain: { ready: true, onQuery: 'silent' } });
    const began = performance.now();
    const err = await testConnection(at(s.port, { sslmode: 'disable' }), { timeoutMs: TIMEOUT_MS }).catch((e: unknown) => e);
    assert.ok(err instanceof ConnectionFailure);
    assert.equal(err.reason, 'TIMEOUT');
    assert.ok(performance.now() - began < TIMEOUT_MS * 5);
  });

  test('a wrong password (28P01) is AUTHENTICATION_FAILED, and the password was sent', async () => {
    const s = await fake({ plain: { askPassword: true, error: { code: '28P01', message: 'password authentication failed for user "bob"' } } });
    const err = await failsWith(at(s.port, { sslmode: 'disable' }), 'AUTHENTICATION_FAILED', false);
    assert.equal(err.message, 'password authentication failed for user "bob"');
    assert.deepEqual(s.passwords, [PASSWORD]);
  });

  test('a server that echoes the password back never gets it into the message', async () => {
    const s = await fake({ plain: { askPassword: true, error: { code: 'XX000', message: `internal error near "${PASSWORD}"` } } });
    const err = await failsWith(at(s.port, { sslmode: 'disable' }), 'UNKNOWN', true);
    assert.match(err.message, /\[redacted\]/);
  });

  test('sslmode=require against a server without TLS is TLS_UNAVAILABLE', async () => {
    const s = await fake({ ssl: 'N', plain: { error: { code: '28P01', message: 'unused' } } });
    await failsWith(at(s.port, { sslmode: 'require' }), 'TLS_UNAVAILABLE', false);
  });

  test('sslmode=prefer against a server without TLS retries in plain', async () => {
    const s = await fake({ ssl: 'N', plain: { error: { code: '28P01', message: 'password authentication failed for user "bob"' } } });
    await failsWith(at(s.port, { sslmode: 'prefer' }), 'AUTHENTICATION_FAILED', false);
  });

  test('a server that only accepts TLS ("no encryption") is TLS_REQUIRED', async () => {
    const s = await fake({
      plain: { error: { code: '28000', message: 'no pg_hba.conf entry for host "127.0.0.1", user "u", database "d", no encryption' } },
    });
    const err = await failsWith(at(s.port, { sslmode: 'disable' }), 'TLS_REQUIRED', false);
    assert.match(err.message, /only accepts TLS/);
  });

  test('the connection closed by the server mid-session is CONNECTION_LOST', async () => {
    const s = await fake({ plain: { ready: true, onQuery: { code: '57P01', message: 'terminating connection due to administrator command' } } });
    await failsWith(at(s.port, { sslmode: 'disable' }), 'CONNECTION_LOST', true);
  });

  const cert = selfSignedCert();
  describe('with TLS', () => {
    // Skipped, with the reason shown on each test, when openssl is missing.
    beforeEach((ctx) => ctx.skip(!cert, 'openssl is not installed'));

    const tlsServer = () =>
      fake({
        ssl: cert!,
        plain: { error: { code: '28000', message: 'no pg_hba.conf entry for host "127.0.0.1", user "bob", database "shop", no encryption' } },
        tls: { askPassword: true, error: { code: '28P01', message: 'password authentication failed for user "bob"' } },
      });

    test('sslmode=require encrypts without checking the certificate', async () => {
      const s = await tlsServer();
      await failsWith(at(s.port, { sslmode: 'require' }), 'AUTHENTICATION_FAILED', false);
      assert.deepEqual(s.passwords, [PASSWORD]);
    });

    for (const sslmode of ['verify-ca', 'verify-full'] as const) {
      test(`sslmode=${sslmode} refuses a self-signed certificate: TLS_FAILED`, async () => {
        const s = await tlsServer();
        const err = await failsWith(at(s.port, { sslmode }), 'TLS_FAILED', false);
        assert.match(err.message, /self-signed/);
        assert.deepEqual(s.passwords, [], 'the password must not be sent to an unverified server');
      });
    }

    test('sslmode=allow tries plain, then TLS when the server requires it', async () => {
      const s = await tlsServer();
      await failsWith(at(s.port, { sslmode: 'allow' }), 'AUTHENTICATION_FAILED', false);
      assert.deepEqual(s.passwords, [PASSWORD]);
    });
  });
});

describe('connectOptions', () => {
  const cred = at(5432);
  test('maps every sslmode as libpq does', () => {
    assert.deepEqual(
      { ssl: connectOptions({ ...cred, sslmode: 'disable' }, 1_000).config.ssl, fallback: connectOptions({ ...cred, sslmode: 'disable' }, 1_000).fallback },
      { ssl: false, fallback: null },
    );
    const allow = connectOptions({ ...cred, sslmode: 'allow' }, 1_000);
    assert.equal(allow.config.ssl, false);
    assert.equal(allow.fallback?.when, 'TLS_REQUIRED');
    assert.deepEqual(allow.fallback?.config.ssl, { rejectUnauthorized: false });

    const prefer = connectOptions(cred, 1_000);
    assert.deepEqual(prefer.config.ssl, { rejectUnauthorized: false });
    assert.equal(prefer.fallback?.when, 'TLS_UNAVAILABLE');
    assert.equal(prefer.fallback?.config.ssl, false);

    const require = connectOptions({ ...cred, sslmode: 'require' }, 1_000);
    assert.deepEqual(require.config.ssl, { rejectUnauthorized: false });
    assert.equal(require.fallback, null);

    const ca = connectOptions({ ...cred, sslmode: 'verify-ca' }, 1_000).config.ssl as { rejectUnauthorized: boolean; checkServerIdentity: () => unknown };
    assert.equal(ca.rejectUnauthorized, true);
    assert.equal(ca.checkServerIdentity(), undefined);

    assert.deepEqual(connectOptions({ ...cred, sslmode: 'verify-full' }, 1_000).config.ssl, { rejectUnauthorized: true });
  });

  test('bounds connecting and queries, and names the application', () => {
    const { config } = connectOptions(cred, 1_500);
    assert.equal(config.connectionTimeoutMillis, 1_500);
    assert.ok(typeof config.query_timeout === 'number' && config.query_timeout >= 1_500);
    assert.equal(config.application_name, 'switchyard');
  });
});
