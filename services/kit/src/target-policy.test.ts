import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { z } from 'zod';
import { embeddedV4 } from './special-addresses.ts';
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
    assert.equal(await resolveTarget('8.8.8.8', deny), '8.8.8.8');
    assert.equal(await resolveTarget('10.20.1.1', { allowPrivate: false, allowCidrs: ['10.20.0.0/16'] }), '10.20.1.1');
    assert.equal(await resolveTarget('127.0.0.1', { allowPrivate: true, allowCidrs: [] }), '127.0.0.1');
  });

  test('an IPv6 address that carries an IPv4 address is judged by that IPv4 address, in every notation', async () => {
    const carried = {
      // NAT64, well-known prefix: the last 32 bits.
      '64:ff9b::7f00:1': '127.0.0.1',
      '64:ff9b::127.0.0.1': '127.0.0.1',
      '64:ff9b::a9fe:a9fe': '169.254.169.254',
      // NAT64, local-use /48: bits 48-63 and 72-87, around the u octet.
      '64:ff9b:1:7f00:0:100::': '127.0.0.1',
      '64:ff9b:1:a9fe:a9:fe00::': '169.254.169.254',
      // 6to4: bits 16-47.
      '2002:7f00:1::': '127.0.0.1',
      '2002:a00:1:1::5': '10.0.0.1',
      // Mapped, translated and compatible, hexadecimal or dotted.
      '::ffff:7f00:1': '127.0.0.1',
      '0:0:0:0:0:ffff:127.0.0.1': '127.0.0.1',
      '::FFFF:10.0.0.1': '10.0.0.1',
      '::ffff:0:7f00:1': '127.0.0.1',
      '::127.0.0.1': '127.0.0.1',
      '::a00:1': '10.0.0.1',
    };
    for (const [host, v4] of Object.entries(carried)) {
      assert.equal(embeddedV4(host), v4, host);
      await assert.rejects(resolveTarget(host, deny), refused(host), host);
    }
    for (const host of ['64:ff9b::808:808', '64:ff9b::8.8.8.8', '64:ff9b:1:808:8:800::', '2002:808:808::1', '::ffff:8.8.8.8']) {
      assert.equal(embeddedV4(host), '8.8.8.8', host);
      assert.equal(await resolveTarget(host, deny), host);
    }
    // An allowed range holds the carried address as it holds the plain one.
    const peered = { allowPrivate: false, allowCidrs: ['10.20.0.0/16'] };
    for (const host of ['::ffff:10.20.1.1', '64:ff9b::a14:101', '2002:a14:101::1']) assert.equal(await resolveTarget(host, peered), host);
  });

  test('reserved IPv6 and IPv4 ranges are refused: discard, documentation, Teredo, the rest of the NAT64 block, site-local, multicast', async () => {
    const reserved = [
      '100::1', '100:0:0:1::1', '2001:db8::1', '3fff::1', '2001::1', '2001:0:4136:e378:8000:63bf:3fff:fdd2', '2001:2::1', '5f00::1',
      '64:ff9b:2::1', '64:ff9b:0:1::1', 'fec0::1', 'fe80::1%eth0', 'ff02::1', '::',
      '192.0.2.1', '198.51.100.7', '203.0.113.10', '192.88.99.1', '0.0.0.0', '255.255.255.255', '233.252.0.1',
      // In the local-use NAT64 prefix but not laid out as its /48 (a longer prefix inside it): refused as reserved.
      '64:ff9b:1::808:808', '64:ff9b:1:808:108:800::',
    ];
    for (const host of reserved) await assert.rejects(resolveTarget(host, deny), refused(host), host);
    assert.equal(embeddedV4('64:ff9b:1::808:808'), null);
    assert.equal(await resolveTarget('2606:4700:4700::1111', deny), '2606:4700:4700::1111');
    assert.equal(await resolveTarget('2001:4860:4860::8888', deny), '2001:4860:4860::8888');
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
    assert.equal(cidrs.safeParse('fd00::/64').success, true);
    assert.equal(cidrs.safeParse('10.0.0.0/33').success, false);
    assert.equal(cidrs.safeParse('fd00::/129').success, false);
  });

  test('production asks for verified TLS; CONNECTOR_ALLOW_INSECURE_TLS lets a named weaker mode through; elsewhere the protocol defaults stand', () => {
    assert.equal(targetPolicyFrom({ NODE_ENV: 'production' }).transport, 'verified');
    assert.equal(targetPolicyFrom({ NODE_ENV: 'production', CONNECTOR_ALLOW_INSECURE_TLS: false }).transport, 'verified');
    assert.equal(targetPolicyFrom({ NODE_ENV: 'production', CONNECTOR_ALLOW_INSECURE_TLS: true }).transport, 'as-asked');
    assert.equal(targetPolicyFrom({ NODE_ENV: 'development', CONNECTOR_ALLOW_INSECURE_TLS: false }).transport, 'lenient');
    assert.equal(targetPolicyFrom({ NODE_ENV: 'test' }).transport, 'lenient');
    const insecure = z.object(targetPolicyConfig).shape.CONNECTOR_ALLOW_INSECURE_TLS;
    assert.equal(insecure.parse('false'), false);
    assert.equal(insecure.parse('1'), true);
    assert.equal(insecure.safeParse('yes').success, false);
  });
});
