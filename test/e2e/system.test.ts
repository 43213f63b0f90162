/**
 * The whole system as processes: seven services on a private nats-server and
 * a database of their own, tracing into an in-process OTLP receiver.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { InstanceList, OperatorSystemStatus, SERVICE_NAMES, SystemStatus } from '@switchyard/contracts';
import { eventually } from '@switchyard/kit/testing';
import { stopAll } from '@switchyard/kit/local';
import { startSystem, type IsolatedSystem } from '@switchyard/kit/testing/system';
import { OtlpReceiver } from '@switchyard/kit/testing';

const SHUTDOWN_TIMEOUT_MS = 5_000;
const otlp = new OtlpReceiver();
let sys: IsolatedSystem;
/** Keys made through the admin CLI so far: the admin key, then the tenants' keys. */
let keysMade = 1;

const call = (path: string, init: RequestInit = {}) =>
  fetch(`${sys.api}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${sys.adminKey}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
  });

describe('the seven services', { timeout: 180_000 }, () => {
  beforeAll(async () => {
    sys = await startSystem({
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: await otlp.start(),
        // The receiver reads OTLP/JSON; the SDK's default protocol is http/protobuf.
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '200',
        SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
      },
      print: process.env.E2E_LOGS ? undefined : null,
    });
  });

  afterAll(async () => {
    await sys?.stop();
    await otlp.stop();
  });

  test('GET /v1/system/status: the operator key (as npm start makes it) sees all seven services healthy and every instance', async () => {
    const status = await eventually('all seven services healthy', async () => {
      const res = await call('/v1/system/status');
      assert.equal(res.status, 200);
      const body = OperatorSystemStatus.parse(await res.json());
      return body.status === 'ok' ? body : undefined;
    });
    assert.deepEqual(status.services.map((s) => s.service).sort(), [...SERVICE_NAMES].sort());
    for (const s of status.services) {
      assert.equal(s.instances, 1, `${s.service} has one instance`);
      const mine = status.instances.filter((i) => i.service === s.service);
      assert.equal(mine.length, 1, `${s.service} is listed with its instance`);
      const [i] = mine;
      assert.equal(i!.state, 'ready');
      assert.ok(i!.host && i!.pid > 0);
      assert.deepEqual(
        Object.fromEntries(Object.entries(i!.dependencies).map(([k, v]) => [k, v?.status])),
        { postgres: 'up', redis: 'up', nats: 'up' },
      );
    }
  });

  test("a tenant's keys get the health summary only: no hosts, pids, instance ids or dependency errors", async () => {
    const operator = OperatorSystemStatus.parse(await (await call('/v1/system/status')).json());
    for (const role of ['admin', 'viewer'] as const) {
      const key = sys.createKey({ tenant: `tenant-${role}`, role });
      keysMade++;
      const res = await call('/v1/system/status', { headers: { authorization: `Bearer ${key}` } });
      assert.equal(res.status, 200);
      const text = await res.text();
      const body = JSON.parse(text) as Record<string, unknown>;
      assert.deepEqual(Object.keys(body).sort(), ['checked_at', 'services', 'status']);
      assert.deepEqual(SystemStatus.parse(body).services.map((s) => s.instances), SERVICE_NAMES.map(() => 1));
      for (const i of operator.instances) {
        assert.ok(!text.includes(i.instance_id), 'no instance id');
        assert.ok(!text.includes(i.host), 'no host name');
      }
      assert.doesNotMatch(text, /"(host|pid|dependencies|error|instance_id)"/);
      const instances = await call('/v1/system/instances', { headers: { authorization: `Bearer ${key}` } });
      assert.equal(instances.status, 403);
      assert.match(instances.headers.get('content-type') ?? '', /^application\/problem\+json/);
    }
    const all = await call('/v1/system/instances?include_stale=true');
    assert.equal(all.status, 200);
    assert.ok(InstanceList.parse(await all.json()).instances.length >= SERVICE_NAMES.length);
  });

  test('one trace follows a request from the gateway into the service it called', async () => {
    const traceId = randomBytes(16).toString('hex');
    const res = await call('/v1/system/status', { headers: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` } });
    assert.equal(res.status, 200);
    // Spans arrive in export batches: wait for the monitor's span and the span it names as its parent.
    const spans = await otlp.waitFor('the monitor span of the trace and its parent', (all) => {
      const mine = all.filter((s) => s.traceId === traceId);
      const served = mine.find((s) => s.service === 'monitor' && s.name === 'monitor.instances.list process');
      return Boolean(served && mine.some((s) => s.spanId === served.parentSpanId));
    });
    const mine = spans.filter((s) => s.traceId === traceId);
    const served = mine.find((s) => s.service === 'monitor' && s.name === 'monitor.instances.list process')!;
    assert.ok(served, 'the monitor handled the request inside the trace');
    const caller = mine.find((s) => s.spanId === served.parentSpanId);
    assert.equal(caller?.service, 'gateway', "the monitor's span is a child of the gateway's NATS request span");
  });

  test('an event written to the outbox while NATS is down is published once NATS is back', async () => {
    await sys.nats.stop();
    const res = await call('/v1/api-keys', { method: 'POST', body: JSON.stringify({ name: 'made while NATS was down', role: 'viewer' }) });
    assert.equal(res.status, 201);
    const { id } = (await res.json()) as { id: string };

    await sys.nats.restart();
    const nc = await connect({ servers: sys.nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      const subject = 'events.api_key.created';
      const event = await eventually(
        'the api_key.created event on the EVENTS stream',
        async () => {
          const msg = await jsm.streams.getMessage('EVENTS', { last_by_subj: subject });
          const e = msg?.json<{ data: { key_id: string }; id: string }>();
          return e?.data.key_id === id ? e : undefined;
        },
        { timeoutMs: 30_000 },
      );
      assert.equal(event.data.key_id, id);
      // Every key made in this system (the admin key, the tenants' keys and this one) is announced exactly once.
      const info = await jsm.streams.info('EVENTS', { subjects_filter: subject });
      assert.equal(info.state.subjects?.[subject], keysMade + 1);
    } finally {
      await nc.close();
    }
  });

  test('SIGTERM drains every service within its deadline', async () => {
    const services = sys.services;
    const codes = await stopAll(services, SHUTDOWN_TIMEOUT_MS * 3);
    // Exit code 0 means the ordered shutdown finished before SHUTDOWN_TIMEOUT_MS (past it the kit exits 1).
    assert.deepEqual(codes, services.map(() => 0));
    for (const s of services) assert.ok(s.logs.some((l) => l.includes('"msg":"stopped"')), `${s.name} logged its stop`);
  });
});
