import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { z } from 'zod';
import { Heartbeat, ServiceStatus, signals, statusRequests, type RequestRoute } from '@switchyard/contracts';
import { connectNats, type NatsConnection } from './nats.ts';
import { RpcClient } from './rpc.ts';
import { Runtime } from './runtime.ts';
import { dropSchema, eventually, freePort, testConfig, testLogger, uniqueName } from './testing/index.ts';

const config = testConfig();
const log = testLogger('orchestrator');

/** Heartbeats of one instance, in arrival order, with a way to wait for the next that matches. */
function heartbeats(nc: NatsConnection, instanceId: string) {
  const seen: Heartbeat[] = [];
  const waiters: { match: (h: Heartbeat) => boolean; resolve: (h: Heartbeat) => void }[] = [];
  const sub = nc.subscribe(signals.heartbeat);
  void (async () => {
    for await (const m of sub) {
      const h = Heartbeat.parse(m.json());
      if (h.instance_id !== instanceId) continue;
      seen.push(h);
      for (const w of waiters.splice(0)) {
        if (w.match(h)) w.resolve(h);
        else waiters.push(w);
      }
    }
  })();
  return {
    sub,
    seen,
    next: (match: (h: Heartbeat) => boolean, what: string) =>
      new Promise<Heartbeat>((resolve, reject) => {
        const found = seen.find(match);
        if (found) return resolve(found);
        const timer = setTimeout(() => reject(new Error(`no heartbeat ${what}`)), 5_000);
        waiters.push({
          match,
          resolve: (h) => {
            clearTimeout(timer);
            resolve(h);
          },
        });
      }),
  };
}

describe('Runtime', () => {
  const schema = uniqueName('kit_rt');
  const instanceId = uniqueName('orchestrator-test');
  let rt: Runtime;
  let nc: NatsConnection;
  let beats: ReturnType<typeof heartbeats>;

  beforeAll(async () => {
    nc = await connectNats({ servers: config.NATS_URL, name: 'runtime-test-client', log });
    beats = heartbeats(nc, instanceId);
    await nc.flush();
    rt = await Runtime.create({ service: 'orchestrator', version: '0.0.0-test', instanceId, config, log, schema });
  });

  afterAll(async () => {
    await rt.stop('test over');
    beats.sub.unsubscribe();
    await nc.close();
    await dropSchema(config.DATABASE_URL, schema);
  });

  test('starts not ready: status says starting and /readyz is 503', async () => {
    assert.equal(rt.currentState, 'starting');
    assert.equal((await rt.status()).state, 'starting');
    const res = await fetch(`http://127.0.0.1:${rt.healthPort}/readyz`);
    assert.equal(res.status, 503);
    assert.equal((await fetch(`http://127.0.0.1:${rt.healthPort}/healthz`)).status, 200);
  });

  test("migrated the kit's outbox into the service's own schema", async () => {
    const { rows } = await rt.pool.query<{ s: string; outbox: string | null }>(
      `SELECT current_schema() AS s, to_regclass('outbox')::text AS outbox`,
    );
    assert.deepEqual(rows[0], { s: schema, outbox: 'outbox' });
  });

  test('after markReady: ready, every dependency up, /readyz 200, and a heartbeat says so', async () => {
    await rt.markReady();
    const beat = await beats.next((h) => h.state === 'ready', 'with state ready');
    assert.equal(beat.service, 'orchestrator');
    assert.equal(beat.stopping, false);
    assert.equal(beat.pid, process.pid);

    const status = ServiceStatus.parse(await rt.status());
    assert.equal(status.state, 'ready');
    assert.equal(status.instance_id, instanceId);
    assert.equal(status.version, '0.0.0-test');
    for (const dep of ['postgres', 'redis', 'nats'] as const)
      assert.equal(status.dependencies[dep]?.status, 'up', `${dep}: ${JSON.stringify(status.dependencies[dep])}`);

    const res = await fetch(`http://127.0.0.1:${rt.healthPort}/readyz`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { checks: Record<string, { status: string }> };
    assert.deepEqual(Object.keys(body.checks).sort(), ['nats', 'postgres', 'redis']);
  });

  test('answers orchestrator.status over NATS', async () => {
    // Other orchestrators on a shared NATS share the queue group; ask until this instance answers.
    const client = new RpcClient(nc);
    const status = await eventually(
      'this instance to answer orchestrator.status',
      async () => {
        const s = await client.request(statusRequests.orchestrator, {});
        return s.instance_id === instanceId && s;
      },
      { every: 1, timeoutMs: 5_000 },
    );
    assert.equal(status.state, 'ready');
    assert.equal(status.service, 'orchestrator');
    assert.equal(status.dependencies.postgres?.status, 'up');
    assert.equal(status.dependencies.redis?.status, 'up');
    assert.equal(status.dependencies.nats?.status, 'up');
  });

  test('serves request routes over NATS', async () => {
    const route = {
      subject: `${uniqueName('kitrt')}.whoami`,
      service: 'orchestrator',
      request: z.object({}),
      response: z.object({ instance_id: z.string(), state: z.string() }),
      timeoutMs: 2_000,
    } satisfies RequestRoute;
    rt.serve({ whoami: route }, { whoami: async () => ({ instance_id: rt.instanceId, state: rt.currentState }) });
    await rt.nc.flush();
    const res = await new RpcClient(nc).request(route, {});
    assert.deepEqual(res, { instance_id: instanceId, state: 'ready' });
  });

  test('stop() drains in order, resolves true, closes NATS and the health server, and says goodbye', async () => {
    const ok = await rt.stop('test');
    assert.equal(ok, true);
    assert.equal(rt.currentState, 'draining');
    assert.equal(rt.nc.isClosed(), true);
    await assert.rejects(fetch(`http://127.0.0.1:${rt.healthPort}/healthz`));
    await assert.rejects(rt.pool.query('SELECT 1'));
    const goodbye = await beats.next((h) => h.stopping, 'with stopping: true');
    assert.equal(goodbye.state, 'draining');
    // Stopping again is a no-op with the same outcome.
    assert.equal(await rt.stop('again'), true);
  });
});

/** A port that was free a moment ago. */
describe('Runtime.create failing', () => {
  test('rejects with the cause and closes what it had opened', async () => {
    const port = await freePort();
    const bad = testConfig({
      DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${uniqueName('no_such_db')}`,
      HEALTH_PORT: String(port),
    });
    await assert.rejects(
      Runtime.create({ service: 'orchestrator', version: 't', instanceId: 'bad', config: bad, log, schema: uniqueName('kit_rt') }),
      /does not exist/,
    );
    // The health server started before the migration failed; it must be closed again.
    const srv = createServer();
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, '127.0.0.1', resolve);
    });
    await new Promise((r) => srv.close(r));
  });
});
