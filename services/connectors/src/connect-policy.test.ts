/** The target policy (see the kit's target-policy.ts) as connecting applies it. */
import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { startDnsServer, type DnsServer } from '@switchyard/kit/testing';
import { testConnection } from './connect.ts';
import { ConnectionFailure } from './errors.ts';

const deny = { allowPrivate: false, allowCidrs: [] };
const local = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
const cred = (host: string) => ({ host, port: Number(local.port || 5432), username: local.username || 'postgres', password: 'x', database_name: 'postgres', sslmode: 'disable' as const });

let dns: DnsServer;
beforeAll(async () => {
  dns = await startDnsServer((q) => (q.name === 'db.example.test' ? { addresses: ['127.0.0.1'] } : q.name === 'gone.example.test' ? { rcode: 'NXDOMAIN' } : 'drop'));
});
afterAll(() => dns.close());

describe('connecting under a target policy', () => {
  test('a refused host is never connected to; an allowed name is connected to at the address that was checked', async () => {
    await assert.rejects(testConnection(cred('localhost'), { timeoutMs: 2_000, policy: deny }), (err) => err instanceof ConnectionFailure && err.reason === 'TARGET_NOT_ALLOWED');
    const ok = await testConnection(cred('localhost'), { timeoutMs: 5_000, policy: { allowPrivate: false, allowCidrs: ['127.0.0.0/8', '::1/128'] } });
    assert.match(ok.server_version, /^\d+/);
  });

  test("a name is resolved with the policy's DNS servers: found, not found, and never answered (TIMEOUT at the connection bound)", async () => {
    const open = { allowPrivate: true, allowCidrs: [], dnsServers: [dns.address] };
    const ok = await testConnection(cred('db.example.test'), { timeoutMs: 5_000, policy: open });
    assert.match(ok.server_version, /^\d+/);
    await assert.rejects(testConnection(cred('gone.example.test'), { timeoutMs: 5_000, policy: open }), (err) => err instanceof ConnectionFailure && err.reason === 'HOST_NOT_FOUND' && /gone\.example\.test/.test(err.message));
    const err = await testConnection(cred('silent.example.test'), { timeoutMs: 500, policy: open }).catch((e: unknown) => e);
    assert.ok(err instanceof ConnectionFailure && err.reason === 'TIMEOUT' && err.retryable, String(err));
    assert.match(err.message, /within 0\.5 s/);
  });
});
