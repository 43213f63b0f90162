/** The target policy (see the kit's target-policy.ts) as connecting applies it. */
import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { testConnection } from './connect.ts';
import { ConnectionFailure } from './errors.ts';

const deny = { allowPrivate: false, allowCidrs: [] };
const local = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');

describe('connecting under a target policy', () => {
  test('a refused host is never connected to; an allowed name is connected to at the address that was checked', async () => {
    const cred = { host: 'localhost', port: Number(local.port || 5432), username: local.username || 'postgres', password: 'x', database_name: 'postgres', sslmode: 'disable' as const };
    await assert.rejects(testConnection(cred, { timeoutMs: 2_000, policy: deny }), (err) => err instanceof ConnectionFailure && err.reason === 'TARGET_NOT_ALLOWED');
    const ok = await testConnection(cred, { timeoutMs: 5_000, policy: { allowPrivate: false, allowCidrs: ['127.0.0.0/8', '::1/128'] } });
    assert.match(ok.server_version, /^\d+/);
  });
});
