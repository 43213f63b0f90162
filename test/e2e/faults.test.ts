/**
 * Faults, with everything private to this file: Switchyard's own PostgreSQL
 * cluster, its own redis-server and nats-server (with per-service NATS
 * users), so each can be stopped and started while the seven services run.
 * A customer database sits behind a proxy that can slow it down.
 *
 * What must hold: a gateway killed mid-request or a caller's timeout never
 * makes a retry with the same Idempotency-Key do the work twice; while
 * PostgreSQL or NATS is down the API answers 503 with Retry-After (never a
 * 500 or a 504), Redis being down changes nothing a request needs; no service
 * exits; the system serves again by itself when the dependency returns; work
 * accepted before or around an outage is not lost; and the process supervisor
 * of `npm start` restarts a service that dies.
 *
 * The answer latencies and recovery times are printed, not asserted.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { inboxPrefix, PROVISIONER, SERVICE_NAMES } from '@switchyard/contracts';
import { createDatabase, type TestDatabase } from '@switchyard/connectors/testing';
import { Supervisor } from '@switchyard/kit/local';
import { eventually, SlowProxy, startCustomerPostgres, startRedisServer, type CustomerPostgres, type RedisServer } from '@switchyard/kit/testing';
import { startSystem, type IsolatedSystem } from '@switchyard/kit/testing/system';
import { afterAll, beforeAll, describe, test } from 'vitest';

let pg: CustomerPostgres;
let redis: RedisServer;
let sys: IsolatedSystem;
let customer: TestDatabase;
let proxy: SlowProxy;
let proxyPort: number;
let supervisor: Supervisor | undefined;
const figures: Record<string, Record<string, number | string>> = {};

interface Answer {
  status: number;
  ms: number;
  retryAfter: string | null;
  body: Record<string, unknown>;
  headers: Headers;
}

async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const started = performance.now();
  const res = await fetch(`${sys.api}${path}`, {
    method,
    headers: { authorization: `Bearer ${sys.adminKey}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  return { status: res.status, ms: performance.now() - started, retryAfter: res.headers.get('retry-after'), body: text ? JSON.parse(text) : {}, headers: res.headers };
}

const credential = (port: number) => ({
  host: '127.0.0.1',
  port,
  username: customer.cred.username,
  password: customer.cred.password,
  database_name: customer.cred.database_name,
  sslmode: 'disable' as const,
});
const createBody = (name: string, port = customer.cred.port) => ({ integration_type: 'POSTGRESQL', name, credential: credential(port) });

async function namedIntegrations(name: string) {
  const { body } = await api('GET', '/v1/integrations?limit=200');
  return (body.data as { id: string; name: string }[]).filter((i) => i.name === name);
}

/** Requests in a loop while an outage is staged; every answer is kept. */
function load(path: string) {
  const answers: (Answer & { at: number })[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      try {
        answers.push({ ...(await api('GET', path)), at: performance.now() });
      } catch (err) {
        answers.push({ status: 0, ms: 0, retryAfter: null, body: { error: String(err) }, headers: new Headers(), at: performance.now() });
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  return {
    answers,
    /** Waits until `n` answers satisfy `pred` (counted from now). */
    async until(what: string, pred: (a: Answer) => boolean, n = 1) {
      const from = answers.length;
      return eventually(what, () => {
        const hits = answers.slice(from).filter(pred);
        return hits.length >= n ? hits : undefined;
      }, { timeoutMs: 60_000, every: 25 });
    },
    async stop() {
      running = false;
      await done;
    },
  };
}

const alive = () => sys.services.filter((s) => s.child.exitCode === null && s.child.signalCode === null).map((s) => s.name);

async function allReady() {
  return eventually('every service ready', async () => {
    const ready = await Promise.all(sys.services.map((s) => fetch(`http://127.0.0.1:${s.healthPort}/readyz`).then((r) => r.status === 200, () => false)));
    return ready.every(Boolean);
  }, { timeoutMs: 60_000 });
}

const summarise = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { answers: s.length, p50_ms: Math.round(s[Math.floor(s.length / 2)] ?? NaN), max_ms: Math.round(s.at(-1) ?? NaN) };
};

describe('faults: crashes, timeouts and dependency outages', { timeout: 240_000 }, () => {
  beforeAll(async () => {
    [pg, redis, customer] = await Promise.all([startCustomerPostgres(), startRedisServer(), createDatabase('faults_customer')]);
    await customer.sql('CREATE TABLE orders (id int PRIMARY KEY)');
    proxy = new SlowProxy({ host: '127.0.0.1', port: customer.cred.port });
    proxyPort = await proxy.start();
    sys = await startSystem({
      name: 'faults',
      natsPermissions: true,
      databaseServer: pg.url(),
      env: { REDIS_URL: redis.url, SHUTDOWN_TIMEOUT_MS: '5000', CONNECT_TIMEOUT_MS: '30000' },
      print: process.env.E2E_LOGS ? undefined : null,
    });
  });

  afterAll(async () => {
    if (supervisor) {
      await supervisor.stop(10_000);
      sys.services = [];
    }
    await sys?.stop();
    await Promise.allSettled([proxy?.stop(), pg?.stop(), redis?.stop(), customer?.drop()]);
    console.log('\nFault figures (answers while down, and recovery after the dependency returned):');
    console.table(figures);
  });

  test('a gateway killed mid-create: the retry with the same key gets the one integration', async () => {
    // Slow enough that the create is still connecting when the gateway dies.
    proxy.latencyMs = 400;
    const name = `killed-gateway-${randomUUID()}`;
    const key = randomUUID();
    const connected = once(proxy, 'connection');
    const first = api('POST', '/v1/integrations', createBody(name, proxyPort), { 'idempotency-key': key }).catch((err: unknown) => err);
    await connected;
    const killedAt = performance.now();
    await sys.killAndRestart('gateway');
    assert.ok((await first) instanceof Error, 'the first caller lost its connection with the gateway');
    proxy.latencyMs = 0;

    const seen: number[] = [];
    const retried = await eventually('the retry answered with the integration', async () => {
      const a = await api('POST', '/v1/integrations', createBody(name, proxyPort), { 'idempotency-key': key });
      seen.push(a.status);
      if (a.status === 409) assert.ok(a.retryAfter, 'a 409 while the first still runs says when to retry');
      return a.status === 201 ? a : undefined;
    }, { timeoutMs: 60_000, every: 250 });
    figures['gateway killed mid-create'] = { retry_statuses: [...new Set(seen)].join(' '), answered_after_kill_ms: Math.round(performance.now() - killedAt) };
    assert.ok(seen.every((s) => s === 409 || s === 201), `statuses: ${seen.join(',')}`);
    assert.equal(retried.headers.get('idempotent-replayed'), 'true', 'the answer is the first request’s');
    const found = await namedIntegrations(name);
    assert.equal(found.length, 1);
    assert.equal(found[0]!.id, retried.body.id);
  });

  test('a create slower than the gateway’s timeout: the retry still makes one integration', async () => {
    // Far slower than the gateway waits (8 s) but within the integration's own bound (CONNECT_TIMEOUT_MS).
    proxy.latencyMs = 5_000;
    const name = `slow-create-${randomUUID()}`;
    const key = randomUUID();
    const first = await api('POST', '/v1/integrations', createBody(name, proxyPort), { 'idempotency-key': key });
    assert.equal(first.status, 504, JSON.stringify(first.body));
    proxy.latencyMs = 0;
    const seen: number[] = [];
    const retried = await eventually('the retry answered with the integration', async () => {
      const a = await api('POST', '/v1/integrations', createBody(name, proxyPort), { 'idempotency-key': key });
      seen.push(a.status);
      return a.status === 201 ? a : undefined;
    }, { timeoutMs: 90_000, every: 500 });
    figures['create past the gateway timeout'] = { first: first.status, retry_statuses: [...new Set(seen)].join(' ') };
    assert.ok(seen.every((s) => s === 409 || s === 201), `statuses: ${seen.join(',')}`);
    const found = await namedIntegrations(name);
    assert.equal(found.length, 1, 'exactly one integration');
    assert.equal(found[0]!.id, retried.body.id);
  });

  test('PostgreSQL restarting under load: 503 with Retry-After while down, serving again by itself, nothing accepted lost', async () => {
    const before = await api('POST', '/v1/integrations', createBody(`before-pg-outage-${randomUUID()}`), { 'idempotency-key': randomUUID() });
    assert.equal(before.status, 201, JSON.stringify(before.body));
    const l = load('/v1/integrations?limit=1');
    await l.until('answers before the outage', (a) => a.status === 200, 3);

    await pg.halt('fast');
    const down = await l.until('503s while PostgreSQL is down', (a) => a.status === 503, 20);
    // A create while the database is down is refused, not half done; its retry after the outage makes it once.
    const key = randomUUID();
    const name = `during-pg-outage-${randomUUID()}`;
    const refused = await api('POST', '/v1/integrations', createBody(name), { 'idempotency-key': key });
    assert.equal(refused.status, 503, JSON.stringify(refused.body));

    const resumedAt = performance.now();
    await pg.resume();
    const [back] = await l.until('200 again after PostgreSQL returned', (a) => a.status === 200);
    await l.stop();
    const whileDown = l.answers.filter((a) => a.status !== 200);
    figures['PostgreSQL down'] = { ...summarise(whileDown.map((a) => a.ms)), recovered_after_ms: Math.round((back as Answer & { at: number }).at - resumedAt) };

    assert.deepEqual([...new Set(whileDown.map((a) => a.status))], [503], 'only 503s while down');
    assert.ok(down.every((a) => a.retryAfter && Number(a.retryAfter) > 0), 'every 503 carries Retry-After');
    assert.deepEqual(alive().sort(), [...SERVICE_NAMES].sort(), 'no service exited');
    await allReady();

    const retried = await api('POST', '/v1/integrations', createBody(name), { 'idempotency-key': key });
    assert.equal(retried.status, 201, JSON.stringify(retried.body));
    assert.equal((await namedIntegrations(name)).length, 1);
    // Accepted before the outage: its first sync still completes.
    const syncId = (before.body.sync as { id: string }).id;
    await eventually('the first sync of the integration accepted before the outage completed', async () => {
      const s = await api('GET', `/v1/syncs/${syncId}`);
      return s.body.status === 'COMPLETED';
    }, { timeoutMs: 60_000 });
  });

  test('Redis down: every request still served, every service ready, /health degraded', async () => {
    await redis.stop();
    try {
      const l = load('/v1/integrations?limit=1');
      const served = await l.until('answers while Redis is down', () => true, 20);
      await l.stop();
      assert.deepEqual([...new Set(served.map((a) => a.status))], [200]);
      const created = await api('POST', '/v1/integrations', createBody(`during-redis-outage-${randomUUID()}`), { 'idempotency-key': randomUUID() });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      await allReady();
      const health = await api('GET', '/health');
      assert.equal(health.status, 200);
      assert.equal(health.body.status, 'degraded');
      assert.equal((health.body.checks as Record<string, { status: string }>).cache?.status, 'down');
      figures['Redis down'] = { ...summarise(served.map((a) => a.ms)), statuses: '200' };
    } finally {
      await redis.start();
    }
    await eventually('/health ok once Redis is back', async () => (await api('GET', '/health')).body.status === 'ok', { timeoutMs: 30_000 });
    assert.deepEqual(alive().sort(), [...SERVICE_NAMES].sort(), 'no service exited');
  });

  test('NATS restarting under load: 503 with Retry-After while down, serving again by itself, an event accepted meanwhile published', async () => {
    const l = load('/v1/integrations?limit=1');
    await l.until('answers before the outage', (a) => a.status === 200, 3);
    await sys.nats.stop();
    const down = await l.until('503s while NATS is down', (a) => a.status === 503, 20);
    // The gateway's own work needs only its database: an API key made now is accepted, its event waits in the outbox.
    const key = await api('POST', '/v1/api-keys', { name: `during-nats-outage-${randomUUID()}`, role: 'viewer' });
    assert.equal(key.status, 201, JSON.stringify(key.body));

    const restartedAt = performance.now();
    await sys.nats.restart();
    const [back] = await l.until('200 again after NATS returned', (a) => a.status === 200);
    await l.stop();
    const whileDown = l.answers.filter((a) => a.status !== 200);
    figures['NATS down'] = { ...summarise(whileDown.map((a) => a.ms)), recovered_after_ms: Math.round((back as Answer & { at: number }).at - restartedAt) };

    assert.deepEqual([...new Set(whileDown.map((a) => a.status))], [503], 'only 503s while down');
    assert.ok(down.every((a) => a.retryAfter), 'every 503 carries Retry-After');
    assert.deepEqual(alive().sort(), [...SERVICE_NAMES].sort(), 'no service exited');
    await allReady();

    const nc = await connect({ servers: sys.nats.url, user: PROVISIONER, pass: sys.envFor(PROVISIONER).NATS_PASSWORD, inboxPrefix: inboxPrefix(PROVISIONER) });
    try {
      const jsm = await jetstreamManager(nc);
      await eventually('the api_key.created event of the key made during the outage', async () => {
        const m = await jsm.streams.getMessage('EVENTS', { last_by_subj: 'events.api_key.created' });
        return m?.json<{ data: { key_id: string } }>().data.key_id === key.body.id;
      });
    } finally {
      await nc.close();
    }
  });

  test('the supervisor of npm start restarts a service that dies', async () => {
    const logged: string[] = [];
    supervisor = new Supervisor(sys.services, { ...sys.startOptions, log: (m) => logged.push(m) });
    const monitor = supervisor.running.find((s) => s.name === 'monitor')!;
    monitor.child.kill('SIGKILL');
    const fresh = await eventually('a new monitor process', () => supervisor!.running.find((s) => s.name === 'monitor' && s !== monitor));
    await eventually('the new monitor ready', async () => (await fetch(`http://127.0.0.1:${fresh.healthPort}/readyz`).catch(() => undefined))?.status === 200);
    assert.notEqual(fresh.child.pid, monitor.child.pid);
    assert.ok(logged.some((m) => /monitor exited unexpectedly \(SIGKILL\); restarting it in 1 s/.test(m)), logged.join('\n'));
    sys.services = supervisor.running;
  });
});
