import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { z } from 'zod';
import { resolveTarget, TargetError, targetPolicyConfig, targetPolicyFrom } from './target-policy.ts';

const deny = { allowPrivate: false, allowCidrs: [] };

const refused = (host: string) => (err: unknown) => err instanceof TargetError && err.reason === 'TARGET_NOT_ALLOWED' && !err.retryable && err.message.includes(host);

describe('target policy', () => {
  test('refuses loopback, private, link-local and metadata addresses, by address or by name', async () => {
    for (const host of ['127.0.0.1', 'localhost', '10.1.2.3', '172.20.0.5', '192.168.1.1', '169.254.169.254', '100.64.0.1', '::1', 'fd00::1', '::ffff:127.0.0.1']) {
      await assert.rejects(resolveTarget(host, deny), refused(host), host);
    }
  });

  test('public addresses pass; an allowed range lets a private one through', async () => {
    assert.equal(await resolveTarget('203.0.113.10', deny), '203.0.113.10');
    assert.equal(await resolveTarget('10.20.1.1', { allowPrivate: false, allowCidrs: ['10.20.0.0/16'] }), '10.20.1.1');
    assert.equal(await resolveTarget('127.0.0.1', { allowPrivate: true, allowCidrs: [] }), '127.0.0.1');
  });

  test('production refuses private targets unless told otherwise; elsewhere they are allowed', () => {
    assert.equal(targetPolicyFrom({ NODE_ENV: 'production' }).allowPrivate, false);
    assert.equal(targetPolicyFrom({ NODE_ENV: 'production', CONNECTOR_PRIVATE_TARGETS: 'allow' }).allowPrivate, true);
    assert.equal(targetPolicyFrom({ NODE_ENV: 'development' }).allowPrivate, true);
    assert.deepEqual(targetPolicyFrom({ NODE_ENV: 'production', CONNECTOR_ALLOWED_CIDRS: '10.0.0.0/8, fd00::/8' }).allowCidrs, ['10.0.0.0/8', 'fd00::/8']);
    const cidrs = z.object(targetPolicyConfig).shape.CONNECTOR_ALLOWED_CIDRS;
    assert.equal(cidrs.safeParse('10.0.0.0/8').success, true);
    assert.equal(cidrs.safeParse('10.0.0.0').success, false);
    assert.equal(cidrs.safeParse('not-a-range/8').success, false);
  });
});
