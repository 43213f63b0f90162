/** Host names through c-ares, against a DNS server of the test's own. */
import assert from 'node:assert/strict';
import { pbkdf2, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { z } from 'zod';
import { lookupHost, TargetError } from './resolve-host.ts';
import { resolveTarget, targetPolicyConfig, targetPolicyFrom } from './target-policy.ts';
import { startDnsServer, type DnsAnswer, type DnsServer } from './testing/dns-server.ts';

const ZONE: Record<string, DnsAnswer> = {
  'db.example.com': { addresses: ['2606:4700:4700::1111', '93.184.215.14'] },
  'v6only.example.com': { addresses: ['2606:4700:4700::1111'] },
  'loopback.example.com': { addresses: ['127.0.0.1'] },
  'mixed.example.com': { addresses: ['10.0.0.5', '93.184.215.14'] },
  'noaddress.example.com': { addresses: [] },
  'broken.example.com': { rcode: 'SERVFAIL' },
  'silent.example.com': 'drop',
};

let dns: DnsServer;
let dir: string;
beforeAll(async () => {
  dns = await startDnsServer((q) => ZONE[q.name] ?? { rcode: 'NXDOMAIN' });
  dir = mkdtempSync(join(tmpdir(), 'resolve-host-'));
});
afterAll(async () => {
  await dns.close();
  rmSync(dir, { recursive: true, force: true });
});

const via = () => ({ servers: [dns.address] });
const failsWith = (reason: string, retryable: boolean, text: RegExp) => (err: unknown) =>
  err instanceof TargetError && err.reason === reason && err.retryable === retryable && text.test(err.message);

describe('lookupHost', () => {
  test('asks the configured server for A and AAAA; IPv4 addresses come first', async () => {
    assert.deepEqual(await lookupHost('db.example.com', via()), ['93.184.215.14', '2606:4700:4700::1111']);
    assert.deepEqual(await lookupHost('v6only.example.com', via()), ['2606:4700:4700::1111']);
    const asked = dns.questions.filter((q) => q.name === 'db.example.com').map((q) => q.type).sort();
    assert.deepEqual(asked, ['A', 'AAAA']);
  });

  test('a name that does not exist is HOST_NOT_FOUND; one without addresses too; a failing server is a retryable HOST_NOT_FOUND', async () => {
    await assert.rejects(lookupHost('nonexistent.example.com', via()), failsWith('HOST_NOT_FOUND', false, /could not resolve host name "nonexistent\.example\.com"/));
    await assert.rejects(lookupHost('noaddress.example.com', via()), failsWith('HOST_NOT_FOUND', false, /no IPv4 or IPv6 address/));
    await assert.rejects(lookupHost('broken.example.com', via()), failsWith('HOST_NOT_FOUND', true, /DNS server failed \(ESERVFAIL\)/));
  });

  test('a server that never answers is TIMEOUT, at the bound', async () => {
    await assert.rejects(lookupHost('silent.example.com', { ...via(), timeoutMs: 300 }), failsWith('TIMEOUT', true, /no answer from DNS for "silent\.example\.com" within 0\.3 s/));
  });

  test('hanging lookups do not occupy the libuv thread pool: file and crypto work goes on beside them', async () => {
    const stop = new AbortController();
    const before = dns.questions.length;
    let settled = 0;
    const hanging = Array.from({ length: 8 }, () =>
      lookupHost('silent.example.com', { ...via(), timeoutMs: 60_000, signal: stop.signal }).finally(() => (settled += 1)),
    );
    // Every lookup has asked (A and AAAA): all eight are in flight, twice the pool's four threads.
    await dns.asked(before + 16);
    await promisify(pbkdf2)('password', randomBytes(16), 1_000, 32, 'sha256');
    await readFile(join(import.meta.dirname, 'resolve-host.ts'));
    assert.equal(settled, 0, 'the pool work finished while every lookup still waited');
    stop.abort(new Error('test over'));
    for (const h of hanging) await assert.rejects(h, /test over/);
  });

  test('localhost and names in the hosts file are answered without DNS; *.invalid never exists', async () => {
    const hostsPath = join(dir, 'hosts');
    writeFileSync(hostsPath, '# a comment\n10.9.8.7   DB.internal  db-alias # trailing\n::1 db.internal\nnot-an-address bogus\n');
    const before = dns.questions.length;
    assert.deepEqual(await lookupHost('db.internal', { ...via(), hostsPath }), ['10.9.8.7', '::1']);
    assert.deepEqual(await lookupHost('DB-ALIAS.', { ...via(), hostsPath }), ['10.9.8.7']);
    assert.deepEqual(await lookupHost('localhost', { ...via(), hostsPath }), ['127.0.0.1', '::1']);
    assert.deepEqual(await lookupHost('app.localhost', { ...via(), hostsPath }), ['127.0.0.1', '::1']);
    await assert.rejects(lookupHost('nonexistent.invalid', via()), failsWith('HOST_NOT_FOUND', false, /nonexistent\.invalid/));
    assert.equal(dns.questions.length, before, 'DNS was not asked');
    // This machine's own hosts file names localhost too.
    assert.ok((await lookupHost('localhost')).includes('127.0.0.1'));
  });

  test("the name is asked as written: resolv.conf's search list is not applied", async () => {
    const saved = process.env.LOCALDOMAIN;
    process.env.LOCALDOMAIN = 'corp.example'; // c-ares reads it as a search list
    try {
      await assert.rejects(lookupHost('db', via()), failsWith('HOST_NOT_FOUND', false, /"db"/));
    } finally {
      if (saved === undefined) delete process.env.LOCALDOMAIN;
      else process.env.LOCALDOMAIN = saved;
    }
    assert.ok(!dns.questions.some((q) => q.name.endsWith('corp.example')));
  });
});

describe('resolveTarget through DNS', () => {
  const deny = { allowPrivate: false, allowCidrs: [], dnsServers: [] as string[] };
  const policy = () => ({ ...deny, dnsServers: [dns.address] });

  test('a name is judged by the addresses it resolves to; the first allowed one is returned', async () => {
    assert.equal(await resolveTarget('db.example.com', policy()), '93.184.215.14');
    assert.equal(await resolveTarget('mixed.example.com', policy()), '93.184.215.14');
    await assert.rejects(resolveTarget('loopback.example.com', policy()), failsWith('TARGET_NOT_ALLOWED', false, /loopback\.example\.com resolves to a private or reserved address \(127\.0\.0\.1\)/));
  });

  test('CONNECTOR_DNS_SERVERS names the servers; it must be a list of addresses', () => {
    const servers = z.object(targetPolicyConfig).shape.CONNECTOR_DNS_SERVERS;
    for (const ok of ['10.0.0.2', '10.0.0.2:5353, 10.0.0.3', 'fd00::53', '[fd00::53]:53']) assert.equal(servers.safeParse(ok).success, true, ok);
    for (const bad of ['dns.example.com', '10.0.0.2:99999', '[10.0.0.2]', 'fd00::53:']) assert.equal(servers.safeParse(bad).success, false, bad);
    assert.deepEqual(targetPolicyFrom({ NODE_ENV: 'production', CONNECTOR_DNS_SERVERS: '10.0.0.2, [fd00::53]:53' }).dnsServers, ['10.0.0.2', '[fd00::53]:53']);
    assert.equal(targetPolicyFrom({ NODE_ENV: 'production' }).dnsServers, undefined);
  });
});
