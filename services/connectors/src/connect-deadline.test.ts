/**
 * A connection attempt that ends (its bound passed, or its caller gave up)
 * leaves nothing behind: work still under way then (a DNS answer on its way,
 * a connect) must not open a connection nobody will close. Counted where it
 * would show: the sessions of a customer cluster of the test's own.
 */
import assert from 'node:assert/strict';
import { afterAll, beforeAll, beforeEach, describe, test } from 'vitest';
import type { PostgresCredential } from '@switchyard/contracts';
import { eventually, startCustomerPostgres, startDnsServer, type CustomerPostgres, type DnsServer } from '@switchyard/kit/testing';
import { APPLICATION_NAME } from './connect-plan.ts';
import { connect, testConnection } from './connect.ts';
import { discover } from './discover.ts';
import { ConnectionFailure } from './errors.ts';
import { pg } from './pg.ts';

let cluster: CustomerPostgres | undefined;
let unavailable: string | undefined;
let dns: DnsServer;
/** Answers to names under slow.example.test wait here until the test lets them go. */
const held: (() => void)[] = [];

beforeAll(async () => {
  dns = await startDnsServer((q) => {
    if (q.name === 'db.example.test') return { addresses: ['127.0.0.1'] };
    if (q.name.endsWith('slow.example.test')) return new Promise((r) => held.push(() => r({ addresses: ['127.0.0.1'] })));
    return { rcode: 'NXDOMAIN' };
  });
  try {
    cluster = await startCustomerPostgres({ password: 'Dead1ine-pa55word' });
  } catch (err) {
    unavailable = (err as Error).message.split('\n')[0];
  }
});
afterAll(async () => {
  await dns.close();
  await cluster?.stop();
});

const cred = (host: string): PostgresCredential => ({
  host,
  port: cluster!.port,
  username: cluster!.user,
  password: cluster!.password,
  database_name: 'postgres',
  sslmode: 'disable',
});
const policy = () => ({ allowPrivate: true, allowCidrs: [], dnsServers: [dns.address] });

/** Sessions Switchyard has open on the cluster. */
async function sessions(): Promise<number> {
  const admin = new (pg().Client)({ ...cred('127.0.0.1'), user: cluster!.user, database: 'postgres', application_name: 'deadline-test' });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [APPLICATION_NAME]);
    return rows[0]!.n;
  } finally {
    await admin.end();
  }
}

/** Lets the held DNS answers go and waits until they are sent; then shows nothing connects because of them. */
async function releaseAndCount(): Promise<void> {
  const before = dns.questions.length;
  const waiting = held.splice(0);
  for (const go of waiting) go();
  await dns.answered(waiting.length);
  // A connection made after the answers: by the time it is done, one the late answers started would be too.
  await testConnection(cred('db.example.test'), { timeoutMs: 5_000, policy: policy() });
  assert.ok(dns.questions.length > before);
  await eventually('no Switchyard session left on the cluster', async () => (await sessions()) === 0, { timeoutMs: 5_000 });
}

/**
 * Starts an attempt at a name whose DNS answer is held, lets `giveUp` (if any)
 * end it once it has asked, and returns what it ended with: the attempt has
 * ended before the answer comes.
 */
async function endedBeforeTheAnswer(start: (signal: AbortSignal) => Promise<unknown>, giveUp = false): Promise<unknown> {
  const asked = dns.questions.length;
  const caller = new AbortController();
  const ending = start(caller.signal).catch((e: unknown) => e);
  await dns.asked(asked + 2);
  if (giveUp) caller.abort(new Error('caller gave up'));
  return ending;
}

const timedOut = (err: unknown) => assert.ok(err instanceof ConnectionFailure && err.reason === 'TIMEOUT', String(err));

describe('a connection attempt past its bound', () => {
  beforeEach((ctx) => ctx.skip(!!unavailable, unavailable));

  test('a DNS answer that comes after the bound opens no connection', async () => {
    timedOut(await endedBeforeTheAnswer(() => testConnection(cred('db.slow.example.test'), { timeoutMs: 500, policy: policy() })));
    await releaseAndCount();
  });

  test('a caller that gives up while DNS is answering gets nothing left open either', async () => {
    timedOut(await endedBeforeTheAnswer((signal) => connect(cred('other.slow.example.test'), { timeoutMs: 5_000, policy: policy(), signal }), true));
    await releaseAndCount();
  });

  test('a discovery cancelled while connecting is an AbortError and leaves nothing open', async () => {
    const err = await endedBeforeTheAnswer((signal) => discover(cred('third.slow.example.test'), { timeoutMs: 5_000, policy: policy(), signal }), true);
    assert.ok(err instanceof Error && err.name === 'AbortError', String(err));
    await releaseAndCount();
  });
});
