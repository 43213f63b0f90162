/**
 * Who sees what of the system: a tenant's keys get a health summary, the
 * platform operator's keys also get every instance (hosts, pids, dependency
 * errors), operator routes refuse other tenants. A monitor of this file's own
 * answers on a private nats-server, with an instance whose database is down.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { monitorRequests, OperatorSystemStatus, SERVICE_NAMES, SystemStatus, type ServiceInstance } from '@switchyard/contracts';
import { connectNats, Runtime, serveRequests, type NatsConnection, type RequestServer } from '@switchyard/kit';
import { dropSchema, startNatsServer, testConfig, testLogger, uniqueName, type NatsServer } from '@switchyard/kit/testing';
import type { FastifyInstance } from 'fastify';
import { Config } from './config.ts';
import { buildHttp } from './http.ts';
import { createApiKey } from './repo/api-keys.ts';

const schema = uniqueName('gateway_system_test');
let nats: NatsServer;
let config: Config;
let rt: Runtime;
let app: FastifyInstance;
let monitorNc: NatsConnection;
let monitor: RequestServer;
const keys: Record<string, string> = {};

const now = new Date().toISOString();
const instance = (service: (typeof SERVICE_NAMES)[number], over: Partial<ServiceInstance> = {}): ServiceInstance => ({
  service,
  instance_id: `${service}-secret-host-4242-abcd`,
  version: '1.2.3',
  started_at: now,
  uptime_s: 10,
  state: 'ready',
  dependencies: { postgres: { status: 'up', latency_ms: 1 }, redis: { status: 'up' }, nats: { status: 'up' } },
  host: 'secret-host.internal',
  pid: 4242,
  last_seen: now,
  healthy: true,
  ...over,
});
// Every service once, and a second sync-worker whose database is down (with the error text only the operator may read).
const INSTANCES = [
  ...SERVICE_NAMES.map((s) => instance(s)),
  instance('sync-worker', {
    instance_id: 'sync-worker-secret-host-4343-ef01',
    pid: 4343,
    healthy: false,
    dependencies: { postgres: { status: 'down', error: 'connect ECONNREFUSED 10.1.2.3:5432' } },
  }),
];

const get = (url: string, key?: string) => app.inject({ method: 'GET', url, headers: key ? { authorization: `Bearer ${key}` } : {} });

describe('system status: tenants get a summary, the operator gets the instances', () => {
  beforeAll(async () => {
    nats = await startNatsServer();
    config = testConfig({ NATS_URL: nats.url }, Config);
    rt = await Runtime.create({
      service: 'gateway',
      version: 'test',
      instanceId: uniqueName('gateway'),
      config,
      log: testLogger('gateway'),
      schema,
      migrationsDir: fileURLToPath(new URL('../migrations', import.meta.url)),
    });
    rt.markReady();
    app = await buildHttp(rt, config);
    monitorNc = await connectNats({ servers: nats.url, name: 'fake-monitor', log: testLogger('monitor') });
    monitor = serveRequests(monitorNc, {
      routes: monitorRequests,
      handlers: { listInstances: async (req) => ({ instances: req.include_stale ? [...INSTANCES, instance('monitor', { instance_id: 'stale-one', healthy: false })] : INSTANCES }) },
      queue: 'monitor',
      log: testLogger('monitor'),
    });
    keys.operator = (await createApiKey(rt.pool, { tenantId: 'platform', name: 'operator', role: 'admin', operator: true })).key;
    keys.operatorViewer = (await createApiKey(rt.pool, { tenantId: 'platform', name: 'dashboard', role: 'viewer' })).key;
    keys.tenantAdmin = (await createApiKey(rt.pool, { tenantId: 'acme', name: 'admin', role: 'admin' })).key;
    keys.tenantViewer = (await createApiKey(rt.pool, { tenantId: 'acme', name: 'viewer', role: 'viewer' })).key;
  });

  afterAll(async () => {
    await monitor?.drain();
    await monitorNc?.close();
    await app?.close();
    await rt?.stop('test done');
    await dropSchema(config.DATABASE_URL, schema);
    await nats?.dispose();
  });

  test("a tenant's admin and viewer get per-service health and instance counts, and nothing about hosts, pids or errors", async () => {
    for (const key of [keys.tenantAdmin!, keys.tenantViewer!]) {
      const res = await get('/v1/system/status', key);
      assert.equal(res.statusCode, 200);
      const body = res.json() as Record<string, unknown>;
      assert.deepEqual(Object.keys(body).sort(), ['checked_at', 'services', 'status']);
      const status = SystemStatus.parse(body);
      assert.equal(status.status, 'ok', 'one sync-worker is unhealthy, but a healthy one keeps its service healthy');
      const syncWorker = status.services.find((s) => s.service === 'sync-worker');
      assert.deepEqual(syncWorker, { service: 'sync-worker', healthy: true, instances: 2 });
      for (const secret of ['secret-host', '4242', '4343', 'ECONNREFUSED', '10.1.2.3', 'instance_id', '"pid"', '"host"', 'dependencies'])
        assert.ok(!res.body.includes(secret), `a tenant's answer has no ${secret}`);
    }
  });

  test("the operator's keys (any role of its tenant) also get every instance with its host, pid and dependency errors", async () => {
    for (const key of [keys.operator!, keys.operatorViewer!]) {
      const res = await get('/v1/system/status', key);
      assert.equal(res.statusCode, 200);
      const status = OperatorSystemStatus.parse(res.json());
      assert.equal(status.instances.length, INSTANCES.length);
      const down = status.instances.find((i) => i.pid === 4343);
      assert.equal(down?.host, 'secret-host.internal');
      assert.equal(down?.dependencies.postgres?.error, 'connect ECONNREFUSED 10.1.2.3:5432');
      assert.deepEqual(status.services.find((s) => s.service === 'gateway'), { service: 'gateway', healthy: true, instances: 1 });
    }
    const all = await get('/v1/system/instances?include_stale=true', keys.operatorViewer);
    assert.equal(all.statusCode, 200);
    assert.equal(all.json().instances.length, INSTANCES.length + 1);
    assert.equal((await get('/v1/system/instances', keys.operator)).json().instances.length, INSTANCES.length);
  });

  test('an operator route refuses every other tenant, admin included (403 problem), and an unknown key (401)', async () => {
    for (const key of [keys.tenantAdmin, keys.tenantViewer]) {
      const res = await get('/v1/system/instances', key);
      assert.equal(res.statusCode, 403);
      assert.match(res.headers['content-type'] as string, /^application\/problem\+json/);
      assert.equal(res.json().code, 'FORBIDDEN');
      assert.match(res.json().detail, /platform operator/);
      assert.ok(!res.body.includes('secret-host'));
    }
    for (const key of [undefined, `sy_${'x'.repeat(32)}`]) {
      for (const url of ['/v1/system/status', '/v1/system/instances']) {
        const res = await get(url, key);
        assert.equal(res.statusCode, 401, `${url} with ${key ?? 'no key'}`);
        assert.equal(res.json().code, 'UNAUTHENTICATED');
      }
    }
  });

  test('a key made without --operator in the operator tenant is an operator key too (it is the tenant that is the operator)', async () => {
    const later = (await createApiKey(rt.pool, { tenantId: 'platform', name: 'later', role: 'editor' })).key;
    assert.equal((await get('/v1/system/instances', later)).statusCode, 200);
    const again = (await createApiKey(rt.pool, { tenantId: 'acme', name: 'again', role: 'admin', operator: false })).key;
    assert.equal((await get('/v1/system/instances', again)).statusCode, 403);
  });
});
