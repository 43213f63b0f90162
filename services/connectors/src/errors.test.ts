import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import type { ConnectionFailureReason } from '@switchyard/contracts';
import { classify, redact, type Target } from './errors.ts';

const target: Target = { host: 'db.example.com', port: 5432, username: 'bob', database_name: 'x', password: 'hunter2-secret' };

/** An error shaped as pg or Node produce them: a message and a code (SQLSTATE or system). */
const err = (message: string, code?: string) => Object.assign(new Error(message), code ? { code } : {});

describe('classify', () => {
  const cases: Array<[string, Error, ConnectionFailureReason, boolean, string?]> = [
    ['ENOTFOUND', err('getaddrinfo ENOTFOUND db.example.com', 'ENOTFOUND'), 'HOST_NOT_FOUND', false, 'could not resolve host name "db.example.com"'],
    ['EAI_AGAIN', err('getaddrinfo EAI_AGAIN db.example.com', 'EAI_AGAIN'), 'HOST_NOT_FOUND', false],
    ['ECONNREFUSED', err('connect ECONNREFUSED', 'ECONNREFUSED'), 'CONNECTION_REFUSED', true, 'could not connect to db.example.com:5432: connection refused'],
    ["pg's connect timeout", err('timeout expired'), 'TIMEOUT', true, 'no answer from db.example.com:5432 within 5 s'],
    ['28P01', err('password authentication failed for user "bob"', '28P01'), 'AUTHENTICATION_FAILED', false, 'password authentication failed for user "bob"'],
    [
      '28000 no encryption',
      err('no pg_hba.conf entry for host "1.2.3.4", user "bob", database "x", no encryption', '28000'),
      'TLS_REQUIRED',
      false,
    ],
    ['28000 SSL off (PostgreSQL < 14)', err('no pg_hba.conf entry for host "1.2.3.4", user "bob", database "x", SSL off', '28000'), 'TLS_REQUIRED', false],
    ['28000 not permitted to log in', err('role "bob" is not permitted to log in', '28000'), 'AUTHENTICATION_FAILED', false],
    ['3D000', err('database "x" does not exist', '3D000'), 'DATABASE_NOT_FOUND', false, 'database "x" does not exist on db.example.com:5432'],
    ['no SSL on the server', err('The server does not support SSL connections'), 'TLS_UNAVAILABLE', false],
    ['a certificate error', err('self-signed certificate', 'DEPTH_ZERO_SELF_SIGNED_CERT'), 'TLS_FAILED', false],
    ['a host name mismatch', err("Hostname/IP does not match certificate's altnames", 'ERR_TLS_CERT_ALTNAME_INVALID'), 'TLS_FAILED', false],
    ['42501', err('permission denied for database x', '42501'), 'PERMISSION_DENIED', false],
    ['connection terminated', err('Connection terminated unexpectedly'), 'CONNECTION_LOST', true],
    ['57P01', err('terminating connection due to administrator command', '57P01'), 'CONNECTION_LOST', true],
    ['ECONNRESET', err('read ECONNRESET', 'ECONNRESET'), 'CONNECTION_LOST', true],
    ['statement timeout', err('canceling statement due to statement timeout', '57014'), 'TIMEOUT', true],
    ['anything else', err('out of memory', '53200'), 'UNKNOWN', true, 'out of memory (SQLSTATE 53200)'],
    ['not even an Error', 'boom' as unknown as Error, 'UNKNOWN', true],
  ];
  for (const [what, e, reason, retryable, message] of cases) {
    test(`${what} → ${reason}`, () => {
      const f = classify(e, target, 'connect', 5_000);
      assert.equal(f.reason, reason);
      assert.equal(f.retryable, retryable);
      assert.equal(f.name, 'ConnectionFailure');
      if (message) assert.equal(f.message, message);
      assert.ok(!f.message.includes(target.password!));
    });
  }

  test('keeps the underlying code, not the error', () => {
    const f = classify(err('database "x" does not exist', '3D000'), target);
    assert.equal(f.code, '3D000');
    assert.equal(f.cause, undefined);
  });
});

describe('redact', () => {
  test('removes the password wherever it appears, and keeps one line', () => {
    assert.equal(redact('a hunter2-secret b hunter2-secret\n    at x.js:1', 'hunter2-secret'), 'a [redacted] b [redacted]');
  });
});
