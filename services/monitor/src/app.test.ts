import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { fileURLToPath } from 'node:url';
import { monitorRequests, signals, type Heartbeat } from '@switchyard/contracts';
import { Runtime } from '@switchyard/kit';
import { dropSchema, eventually, startNatsServer, testConfig, testLogger, uniqueName, type NatsServer } from '@switchyard/kit/testing';
import { buildApp } from './app.ts';
import { Config } from './config.ts';

// A private nats-server: the monitor's queue group must not meet one from `npm start`.
let nats: NatsServer;
let monitor: Runtime;
const schemas: string[] = [];

async function runtime(service: 'monitor' | 'orchestrator') {
  const config = testConfig({ NATS_URL: nats.url, HEARTBEAT_INTERVAL_MS: '300' }, Config);
  const schema = uniqueName(`${service}_test`);
  schemas.push(schema);
  const rt = await Runtime.create({
    service,
    version: 'test',
    instanceId: uniqueName(service),
    config,
    log: testLogger(service),
    schema,
    migrationsDir: service === 'monitor' ? fileURLToPath(new URL('../migrations', import.meta.url)) : undefined,
  });
  if (service === 'monitor') await buildApp(rt, config);
  await rt.markReady();
  return rt;
}

const list = (includeStale = false) => monitor.rpc.request(monitorRequests.listInstances, { include_stale: includeStale });

describe('monitor: the live list of service instances', () => {
  beforeAll(async () => {
    nats = await startNatsServer();
    monitor = await runtime('monitor');
  });

  afterAll(async () => {
    await monitor?.stop('done');
    await nats?.dispose();
    for (const s of schemas) await dropSchema(monitor.config.DATABASE_URL, s);
  });

  test('an instance appears healthy from its heartbeats and leaves the list when it stops', async () => {
    const orchestrator = await runtime('orchestrator');
    const seen = await eventually('the orchestrator listed healthy', async () =>
      (await list()).instances.find((i) => i.instance_id === orchestrator.instanceId && i.healthy),
    );
    assert.equal(seen.service, 'orchestrator');
    assert.equal(seen.state, 'ready');
    assert.equal(seen.dependencies.postgres?.status, 'up');

    await orchestrator.stop('test');
    // The last heartbeat is a message: the monitor removes the row when it has handled it. Stale rows stay in
    // list(true), so only that heartbeat can make the instance disappear from it.
    await eventually('its last heartbeat removed it', async () =>
      !(await list(true)).instances.some((i) => i.instance_id === orchestrator.instanceId),
    );
  });

  test('an instance that falls silent is dropped from the live list but kept as stale', async () => {
    const beat: Heartbeat = {
      service: 'sync-worker',
      instance_id: uniqueName('silent'),
      version: 'test',
      started_at: new Date().toISOString(),
      uptime_s: 0,
      state: 'ready',
      dependencies: { postgres: { status: 'up' }, redis: { status: 'up' }, nats: { status: 'up' } },
      host: 'test',
      pid: 1,
      interval_ms: 100,
      stopping: false,
    };
    monitor.nc.publish(signals.heartbeat, JSON.stringify(beat));
    await eventually('the silent instance listed', async () => (await list()).instances.some((i) => i.instance_id === beat.instance_id));
    // Three missed 100 ms beats make it stale.
    await eventually('the silent instance gone from the live list', async () => !(await list()).instances.some((i) => i.instance_id === beat.instance_id));
    const stale = (await list(true)).instances.find((i) => i.instance_id === beat.instance_id);
    assert.equal(stale?.healthy, false);
  });

  test('an instance reporting a dependency down is listed unhealthy; malformed heartbeats are dropped', async () => {
    monitor.nc.publish(signals.heartbeat, '{"service":"nope"}');
    monitor.nc.publish(signals.heartbeat, 'not json');
    const id = uniqueName('sick');
    const beat = {
      service: 'credentials',
      instance_id: id,
      version: 'test',
      started_at: new Date().toISOString(),
      uptime_s: 1,
      state: 'ready',
      dependencies: { postgres: { status: 'down', error: 'connection refused' }, redis: { status: 'up' }, nats: { status: 'up' } },
      host: 'test',
      pid: 2,
      interval_ms: 60_000,
      stopping: false,
    };
    monitor.nc.publish(signals.heartbeat, JSON.stringify(beat));
    const listed = await eventually('the sick instance listed', async () => (await list()).instances.find((i) => i.instance_id === id));
    assert.equal(listed.healthy, false);
    assert.ok(!(await list(true)).instances.some((i) => (i.service as string) === 'nope'));
  });
});
