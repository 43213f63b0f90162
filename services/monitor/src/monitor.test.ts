/**
 * The monitor on a private nats-server with the real streams and consumers
 * and its own schema: events published to the EVENTS stream are recorded as
 * they arrive, and what the API answers is checked against what was sent.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import {
  consumers,
  monitorApiRequests,
  streams,
  type DeadLetter,
  type EventData,
  type EventSubject,
  type Integration,
  type Sync,
} from '@switchyard/contracts';
import { provision, Runtime } from '@switchyard/kit';
import { dropSchema, eventually, startNatsServer, testConfig, testEvent, testLogger, uniqueName, type NatsServer } from '@switchyard/kit/testing';
import { buildApp, definition } from './app.ts';
import { Config } from './config.ts';

let nats: NatsServer;
let nc: NatsConnection;
let js: JetStreamClient;
let rt: Runtime;
const schema = uniqueName('monitor_test');

const event = testEvent;

async function publish<S extends EventSubject>(subject: S, tenant: string, data: EventData<S>, e = event(subject, tenant, data)) {
  await js.publish(subject, JSON.stringify(e));
  return e;
}

function integration(tenant: string): Integration {
  const now = new Date().toISOString();
  return {
    id: randomUUID(),
    tenant_id: tenant,
    integration_type: 'POSTGRESQL',
    name: `db ${tenant}`,
    status: 'CONNECTED',
    // Checked rarely: these tests feed the health themselves.
    config: { healthCheckIntervalSeconds: 86_400 },
    target: { host: 'db.example', port: 5432, database_name: 'x', username: 'u' },
    created_at: now,
    updated_at: now,
  };
}

function sync(i: Integration, outcome: 'COMPLETED' | 'FAILED', durationMs: number, errorCode = 'TIMEOUT'): Sync {
  const finished = Date.now();
  return {
    id: randomUUID(),
    integration_id: i.id,
    tenant_id: i.tenant_id,
    status: outcome,
    trigger: 'manual',
    progress: { done: 1, total: 1 },
    attempts: 1,
    error: outcome === 'FAILED' ? { code: errorCode, message: 'failed' } : null,
    summary: outcome === 'COMPLETED' ? { schemas: 1, relations: 40, columns: 400, changes: 0 } : null,
    created_at: new Date(finished - durationMs - 5).toISOString(),
    started_at: new Date(finished - durationMs).toISOString(),
    finished_at: new Date(finished).toISOString(),
  };
}

async function registered(i: Integration) {
  await publish('events.integration.created', i.tenant_id, { integration: i });
  await eventually('the integration registered', async () => {
    const { rowCount } = await rt.pool.query('SELECT 1 FROM integrations WHERE id = $1', [i.id]);
    return rowCount === 1;
  });
}

const metrics1h = async (i: Integration) => (await rt.rpc.request(monitorApiRequests.metrics, { tenant_id: i.tenant_id, integration_id: i.id, window: '1h' })).windows[0]!;
const outboxCount = async (subject: string, where = 'true', args: unknown[] = []) =>
  Number((await rt.pool.query(`SELECT count(*) AS n FROM outbox WHERE subject = $1 AND ${where}`, [subject, ...args])).rows[0].n);

describe('monitor: health, metrics and alerts from events', { timeout: 60_000 }, () => {
  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
    js = jetstream(nc);
    await provision(nc, {
      streams: [streams.events, streams.deadLetter],
      consumers: [consumers.monitorIntegrationEvents, consumers.monitorSyncEvents, consumers.monitorDeadLetters],
    });
    const config = testConfig({ NATS_URL: nats.url, ALERT_EVALUATION_INTERVAL_MS: '200', HEALTH_CHECK_INTERVAL_MS: '86400000' }, Config);
    rt = await Runtime.create({ service: 'monitor', version: 'test', instanceId: uniqueName('monitor'), config, log: testLogger('monitor'), schema, migrationsDir: definition.migrationsDir });
    await buildApp(rt, config);
    await rt.markReady();
  });

  afterAll(async () => {
    await rt?.stop('done');
    await nc?.close();
    await nats?.dispose();
    await dropSchema(rt.config.DATABASE_URL, schema);
  });

  test('percentiles, averages and counts match the known durations of the syncs sent; a redelivered event counts once', async () => {
    const i = integration(uniqueName('acme'));
    await registered(i);
    // 1..200 × 37 ms: exact figures are easy to state.
    const durations = Array.from({ length: 200 }, (_, k) => (k + 1) * 37);
    for (const d of durations) await publish('events.sync.completed', i.tenant_id, { sync: sync(i, 'COMPLETED', d) });
    for (let k = 0; k < 10; k++) await publish('events.sync.failed', i.tenant_id, { sync: sync(i, 'FAILED', 100, k < 3 ? 'AUTHENTICATION_FAILED' : 'TIMEOUT') });
    // The same event twice (a redelivery the stream's window did not catch): it must count once.
    const once = await publish('events.sync.completed', i.tenant_id, { sync: sync(i, 'COMPLETED', 37) });
    await publish('events.sync.completed', i.tenant_id, once.data, once);

    const m = await eventually('every sync counted', async () => {
      const w = await metrics1h(i);
      return w.syncs.completed + w.syncs.failed >= 211 ? w : undefined;
    });
    assert.deepEqual(m.syncs, { started: 0, completed: 201, failed: 10, cancelled: 0 });
    const all = [...durations, 37].sort((a, b) => a - b);
    const exact = (q: number) => all[Math.ceil(q * all.length) - 1]!;
    const avg = all.reduce((s, d) => s + d, 0) / all.length;
    assert.ok(Math.abs(m.duration_ms.avg! - avg) < 0.1, `avg ${m.duration_ms.avg} vs ${avg}`);
    for (const [q, got] of [[0.5, m.duration_ms.p50], [0.95, m.duration_ms.p95], [0.99, m.duration_ms.p99]] as const)
      assert.ok(Math.abs(got! - exact(q)) / exact(q) <= 0.045, `p${q * 100}: ${got} vs ${exact(q)}`);
    assert.equal(m.duration_ms.max, 7_400);
    assert.equal(m.success_rate, Math.round((201 / 211) * 10_000) / 10_000);
    assert.equal(m.error_rate, Math.round((10 / 211) * 10_000) / 10_000);
    assert.deepEqual(m.errors, { AUTHENTICATION_FAILED: 3, TIMEOUT: 7 });
    assert.equal(m.throughput.relations_per_sync, 40);

    const perf = await rt.rpc.request(monitorApiRequests.performance, { tenant_id: i.tenant_id, integration_id: i.id, window: '1h' });
    assert.ok(perf.recommendations.some((r) => r.code === 'CHECK_CREDENTIALS' && r.evidence.authentication_failures === 3));

    // Another tenant asking about it sees nothing of it.
    const other = await rt.rpc.request(monitorApiRequests.metrics, { tenant_id: 'someone-else', integration_id: i.id, window: '1h' });
    assert.equal(other.windows[0]!.syncs.completed, 0);
  });

  test('health follows connection tests through degraded and unhealthy and back, announcing each change once', async () => {
    const i = integration(uniqueName('globex'));
    await registered(i);
    const tested = (ok: boolean) =>
      publish('events.integration.connection_tested', i.tenant_id, {
        integration_id: i.id,
        tenant_id: i.tenant_id,
        ok,
        latency_ms: ok ? 8.25 : null,
        reason: ok ? null : 'CONNECTION_REFUSED',
        message: ok ? null : 'refused',
        trigger: 'health_check',
        tested_at: new Date().toISOString(),
      });
    const state = async () => (await rt.rpc.request(monitorApiRequests.health, { tenant_id: i.tenant_id, integration_id: i.id, limit: 20 })).state;
    const expect = ['healthy', 'degraded', 'unhealthy', 'degraded', 'healthy'] as const;
    for (const [k, ok] of [true, false, false, true, true].entries()) {
      await tested(ok);
      await eventually(`health ${expect[k]}`, async () => (await state()) === expect[k]);
    }
    const h = await rt.rpc.request(monitorApiRequests.health, { tenant_id: i.tenant_id, integration_id: i.id, limit: 20 });
    assert.deepEqual(h.history.map((t) => t.to).reverse(), ['healthy', 'degraded', 'unhealthy', 'degraded', 'healthy']);
    assert.equal(h.checks.length, 5);
    assert.deepEqual(h.checks[1]?.error, null);
    assert.equal(h.checks[2]?.error?.code, 'CONNECTION_REFUSED');
    assert.equal(await outboxCount('events.integration.health_changed', `event->'data'->>'integration_id' = $2`, [i.id]), 5);
    // Another tenant's view of it: never checked.
    assert.equal((await rt.rpc.request(monitorApiRequests.health, { tenant_id: 'someone-else', integration_id: i.id, limit: 5 })).checks.length, 0);
  });

  test('a rule fires once while its condition holds over many evaluations, and resolves once', async () => {
    const i = integration(uniqueName('initech'));
    await registered(i);
    const rule = await rt.rpc.request(monitorApiRequests.createRule, {
      tenant_id: i.tenant_id,
      operator: false,
      body: { name: 'failures', metric: 'failed_syncs', comparator: 'gte', threshold: 2, window: '1h', for: '0s', severity: 'critical', scope: { type: 'integration', integration_id: i.id } },
    });
    const mine = `event->'data'->'alert'->>'rule_id' = $2`;
    for (let k = 0; k < 2; k++) await publish('events.sync.failed', i.tenant_id, { sync: sync(i, 'FAILED', 100) });
    const firing = await eventually('the alert firing', async () => {
      const { data } = await rt.rpc.request(monitorApiRequests.listAlerts, { tenant_id: i.tenant_id, operator: false, query: { state: 'firing', limit: 50 } });
      return data.find((a) => a.rule_id === rule.id);
    });
    assert.equal(firing.value, 2);
    assert.equal(firing.integration_id, i.id);
    // Several more evaluations with the condition still true: still one fired event.
    const evaluations = async () => Number((await rt.pool.query('SELECT count(*) AS n FROM alerts WHERE rule_id = $1', [rule.id])).rows[0].n);
    await publish('events.sync.failed', i.tenant_id, { sync: sync(i, 'FAILED', 100) });
    await eventually('the value updated to 3', async () => (await rt.pool.query('SELECT value FROM alerts WHERE rule_id = $1', [rule.id])).rows[0]?.value === 3);
    assert.equal(await evaluations(), 1);
    assert.equal(await outboxCount('events.alert.fired', mine, [rule.id]), 1);

    // Raising the threshold above the value resolves it, once.
    await rt.rpc.request(monitorApiRequests.updateRule, { tenant_id: i.tenant_id, operator: false, id: rule.id, body: { threshold: 10 } });
    await eventually('the alert resolved', async () => {
      const { data } = await rt.rpc.request(monitorApiRequests.listAlerts, { tenant_id: i.tenant_id, operator: false, query: { state: 'resolved', limit: 50 } });
      return data.some((a) => a.id === firing.id);
    });
    await eventually('another evaluation', async () => (await rt.pool.query(`SELECT 1 FROM alerts WHERE rule_id = $1 AND state = 'resolved'`, [rule.id])).rowCount === 1);
    assert.equal(await outboxCount('events.alert.resolved', mine, [rule.id]), 1);
    assert.equal(await outboxCount('events.alert.fired', mine, [rule.id]), 1);
    // Another tenant lists none of it, nor may change it.
    const { data } = await rt.rpc.request(monitorApiRequests.listAlerts, { tenant_id: 'someone-else', operator: false, query: { limit: 50 } });
    assert.ok(!data.some((a) => a.rule_id === rule.id));
    await assert.rejects(rt.rpc.request(monitorApiRequests.deleteRule, { tenant_id: 'someone-else', operator: false, id: rule.id }), /not found/);
  });

  test('a dead-lettered event is listed with its error and, replayed, handled again by its consumer', async () => {
    const i = integration(uniqueName('umbrella'));
    await registered(i);
    const lost = event('events.sync.completed', i.tenant_id, { sync: sync(i, 'COMPLETED', 1_234) });
    const letter: DeadLetter = {
      stream: streams.events.name,
      consumer: consumers.monitorSyncEvents.durable,
      subject: 'events.sync.completed',
      deliveries: 10,
      reason: 'exhausted',
      error: { code: 'UNAVAILABLE', message: 'the database was away' },
      payload: lost,
      failed_at: new Date().toISOString(),
    };
    await js.publish(`deadletter.${letter.stream}.${letter.consumer}`, JSON.stringify(letter));
    const listed = await eventually('the letter listed', async () => {
      const { data } = await rt.rpc.request(monitorApiRequests.deadLetters, { query: { consumer: letter.consumer, limit: 50 } });
      return data.find((l) => (l.payload as { id?: string })?.id === lost.id);
    });
    assert.equal(listed.service, 'monitor');
    assert.deepEqual(listed.error, letter.error);
    assert.equal(listed.replayed_at, null);
    assert.equal((await metrics1h(i)).syncs.completed, 0);

    const replayed = await rt.rpc.request(monitorApiRequests.replay, { id: listed.id });
    assert.equal(replayed.replays, 1);
    assert.ok(replayed.replayed_at);
    assert.equal((await metrics1h(i)).syncs.completed, 1);
    const waiting = await rt.rpc.request(monitorApiRequests.deadLetters, { query: { replayed: 'false', limit: 200 } });
    assert.ok(!waiting.data.some((l) => l.id === listed.id));
    await assert.rejects(rt.rpc.request(monitorApiRequests.replay, { id: randomUUID() }), /not found/);
  });

  test('a page of dead letters stops where one reply is full, and its cursor goes on from there', async () => {
    const consumer = `bulky_${randomUUID().slice(0, 8)}`;
    const big = 'x'.repeat(120_000);
    for (let k = 0; k < 12; k++) {
      const letter: DeadLetter = {
        stream: 'JOBS_SYNC',
        consumer,
        subject: 'jobs.sync.x',
        deliveries: 1,
        reason: 'permanent',
        error: { code: 'VALIDATION_FAILED', message: 'poison' },
        payload: { k, big },
        failed_at: new Date(Date.now() + k).toISOString(),
      };
      await js.publish(`deadletter.JOBS_SYNC.${consumer}`, JSON.stringify(letter));
    }
    const list = (cursor?: string) => rt.rpc.request(monitorApiRequests.deadLetters, { query: { consumer, limit: 50, cursor } });
    await eventually('all twelve recorded', async () => (await rt.pool.query('SELECT 1 FROM dead_letters WHERE consumer = $1', [consumer])).rowCount === 12);
    const first = await list();
    assert.ok(first.data.length > 0 && first.data.length < 12, `${first.data.length} on the first page`);
    assert.ok(first.next_cursor);
    const rest = await list(first.next_cursor);
    const seen = [...first.data, ...rest.data].map((l) => (l.payload as { k: number }).k);
    assert.equal(new Set(seen).size, seen.length);
    assert.equal(first.data[0]?.service, 'unknown', 'a consumer the contracts do not declare has no service to replay it');
    await assert.rejects(rt.rpc.request(monitorApiRequests.replay, { id: first.data[0]!.id }), /nothing can replay it/);
  });
});
