import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import type { DependencyHealth } from '@switchyard/contracts';
import { probe, startHealthServer, type State } from './health.ts';

describe('startHealthServer', () => {
  let state: State = 'starting';
  let checks: Record<string, DependencyHealth> = {};
  let checksCalled = 0;
  let server: Awaited<ReturnType<typeof startHealthServer>>;
  const get = async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${server.port}${path}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
  };

  beforeAll(async () => {
    server = await startHealthServer({
      host: '127.0.0.1',
      port: 0,
      state: () => state,
      checks: async () => {
        checksCalled++;
        return checks;
      },
      metrics: (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('# metrics\n');
      },
    });
  });
  afterAll(() => server.close());

  test('listens on the port the OS chose', () => {
    assert.ok(server.port > 0);
  });

  test('/healthz is 200 whatever the state, without asking the dependencies', async () => {
    checks = { postgres: { status: 'down', error: 'connection refused' } };
    const before = checksCalled;
    for (const s of ['starting', 'ready', 'draining'] as const) {
      state = s;
      const res = await get('/healthz');
      assert.equal(res.status, 200, `state ${s}`);
      assert.deepEqual(res.body, { status: 'ok' });
    }
    assert.equal(checksCalled, before);
  });

  test('/readyz is 503 while starting and while draining', async () => {
    checks = { postgres: { status: 'up', latency_ms: 1 } };
    state = 'starting';
    let res = await get('/readyz');
    assert.equal(res.status, 503);
    assert.deepEqual(res.body, { status: 'starting' });
    assert.equal(res.headers.get('cache-control'), 'no-store');
    state = 'draining';
    res = await get('/readyz');
    assert.equal(res.status, 503);
    assert.deepEqual(res.body, { status: 'draining' });
  });

  test('/readyz is 200 when ready and every check is up, with the checks in the body', async () => {
    state = 'ready';
    checks = { postgres: { status: 'up', latency_ms: 1.5 }, nats: { status: 'up', latency_ms: 0.2 } };
    const res = await get('/readyz');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { status: 'ready', checks });
  });

  test('/readyz is 503 when ready but a check is down', async () => {
    state = 'ready';
    checks = { postgres: { status: 'up', latency_ms: 1 }, redis: { status: 'down', error: 'ECONNREFUSED' } };
    const res = await get('/readyz');
    assert.equal(res.status, 503);
    assert.deepEqual(res.body, { status: 'degraded', checks });
  });

  test('/metrics is served by the metrics handler; unknown paths are 404', async () => {
    const metrics = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    assert.equal(metrics.status, 200);
    assert.equal(await metrics.text(), '# metrics\n');
    assert.equal((await get('/nope')).status, 404);
  });
});

describe('startHealthServer with failing checks', () => {
  test('/readyz is 503 when the checks themselves throw', async () => {
    const server = await startHealthServer({
      host: '127.0.0.1',
      port: 0,
      state: () => 'ready',
      checks: async () => {
        throw new Error('checks broke');
      },
      metrics: (_req, res) => res.end(),
    });
    try {
      const res = await fetch(`http://127.0.0.1:${server.port}/readyz`);
      assert.equal(res.status, 503);
      assert.equal(((await res.json()) as { status: string }).status, 'error');
    } finally {
      await server.close();
    }
  });
});

describe('probe', () => {
  test('reports up with a latency when the probe answers', async () => {
    const h = await probe(async () => 'PONG');
    assert.equal(h.status, 'up');
    assert.equal(typeof h.latency_ms, 'number');
    assert.ok(h.latency_ms! >= 0);
  });

  test('reports down with the error message when the probe rejects', async () => {
    const h = await probe(async () => {
      throw new Error('ECONNREFUSED 127.0.0.1:6379');
    });
    assert.deepEqual(h, { status: 'down', error: 'ECONNREFUSED 127.0.0.1:6379' });
  });

  test('times out a probe that never answers', async () => {
    const started = performance.now();
    const h = await probe(() => new Promise(() => {}), 100);
    const took = performance.now() - started;
    assert.deepEqual(h, { status: 'down', error: 'no answer within 100 ms' });
    assert.ok(took >= 95 && took < 1_000, `took ${took} ms`);
  });
});

describe('startHealthServer with required checks', () => {
  test('/readyz stays 200 while only an optional dependency is down, and says so; a required one makes it 503', async () => {
    let checks: Record<string, DependencyHealth> = {
      postgres: { status: 'up', latency_ms: 1 },
      nats: { status: 'up', latency_ms: 1 },
      redis: { status: 'down', error: 'ECONNREFUSED' },
    };
    const server = await startHealthServer({
      host: '127.0.0.1',
      port: 0,
      state: () => 'ready',
      checks: async () => checks,
      required: ['postgres', 'nats'],
      metrics: (_req, res) => res.end(),
    });
    try {
      const optional = await fetch(`http://127.0.0.1:${server.port}/readyz`);
      assert.equal(optional.status, 200);
      assert.deepEqual(await optional.json(), { status: 'ready', checks });
      checks = { ...checks, postgres: { status: 'down', error: 'ECONNREFUSED' } };
      const required = await fetch(`http://127.0.0.1:${server.port}/readyz`);
      assert.equal(required.status, 503);
      assert.deepEqual(await required.json(), { status: 'degraded', checks });
    } finally {
      await server.close();
    }
  });
});
