/**
 * The monitor end to end: the seven services as processes on NATS with
 * per-service permissions, a private customer PostgreSQL cluster that is
 * halted and resumed, and the events read back from the EVENTS stream as the
 * provisioner (the one user that may read a stream's messages).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { inboxPrefix, nameUuid, PROVISIONER } from '@switchyard/contracts';
import { eventually, startCustomerPostgres, type CustomerPostgres } from '@switchyard/kit/testing';
import { startSystem, type IsolatedSystem } from '@switchyard/kit/testing/system';

let sys: IsolatedSystem;
let customer: CustomerPostgres;
let acmeKey: string;
let globexKey: string;
const acme = `acme_${randomBytes(3).toString('hex')}`;

async function api(method: string, path: string, key: string, body?: unknown) {
  const res = await fetch(`${sys.api}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return { status: res.status, body: (text ? JSON.parse(text) : null) as any };
}

const credential = () => ({ host: customer.host, port: customer.port, username: customer.user, password: customer.password, database_name: 'postgres', sslmode: 'disable' });

async function createIntegration(key: string, name: string): Promise<string> {
  const created = await api('POST', '/v1/integrations', key, { integration_type: 'POSTGRESQL', name, credential: credential() });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  await eventually('the first sync completed', async () => (await api('GET', `/v1/syncs/${created.body.sync.id}`, key)).body.status === 'COMPLETED', { timeoutMs: 60_000 });
  return created.body.id;
}

const health = async (id: string, key = acmeKey) => (await api('GET', `/v1/integrations/${id}/health?limit=50`, key)).body;

/** Every event on the EVENTS stream of a subject, read as the provisioner. */
async function eventsOf(subject: string): Promise<{ tenantid: string; data: Record<string, unknown> }[]> {
  const nc = await connect({ servers: sys.nats.url, user: PROVISIONER, pass: sys.envFor(PROVISIONER).NATS_PASSWORD, inboxPrefix: inboxPrefix(PROVISIONER) });
  try {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info('EVENTS', { subjects_filter: subject });
    const out = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage('EVENTS', { seq }).catch(() => null);
      if (m?.subject === subject) out.push(m.json<{ tenantid: string; data: Record<string, unknown> }>());
    }
    return out;
  } finally {
    await nc.close();
  }
}

describe('the monitor end to end', { timeout: 300_000 }, () => {
  let integration: string;

  beforeAll(async () => {
    sys = await startSystem({
      name: 'e2e_monitor',
      natsPermissions: true,
      // Checks every half second and evaluations every 300 ms, so an outage shows in seconds; one
      // delivery per sync job, so a sync against a halted database is dead-lettered at once.
      env: { HEALTH_CHECK_INTERVAL_MS: '500', ALERT_EVALUATION_INTERVAL_MS: '300', SYNC_MAX_DELIVER: '1', SYNC_CONNECT_TIMEOUT_MS: '2000' },
      print: process.env.E2E_LOGS ? undefined : null,
    });
    customer = await startCustomerPostgres({ password: 'customer-pw' });
    acmeKey = sys.createKey({ tenant: acme, role: 'admin' });
    globexKey = sys.createKey({ tenant: `globex_${randomBytes(3).toString('hex')}`, role: 'admin' });
    integration = await createIntegration(acmeKey, 'orders');
  });

  afterAll(async () => {
    await sys?.stop();
    await customer?.stop();
  });

  test('health over a database that starts failing, then recovers: healthy → degraded → unhealthy → degraded → healthy, each change announced', async () => {
    await eventually('healthy', async () => (await health(integration)).state === 'healthy', { timeoutMs: 30_000 });
    await customer.halt();
    const sick = await eventually('unhealthy', async () => {
      const h = await health(integration);
      return h.state === 'unhealthy' ? h : undefined;
    });
    assert.match(sick.reason, /connection tests failed in a row/);
    const failed = sick.checks.find((c: { ok: boolean }) => !c.ok);
    assert.equal(failed.kind, 'connection_test');
    assert.equal(failed.trigger, 'health_check');
    assert.equal(failed.error.code, 'CONNECTION_REFUSED');

    await customer.resume();
    const well = await eventually('healthy again', async () => {
      const h = await health(integration);
      return h.state === 'healthy' ? h : undefined;
    });
    const path = well.history.map((t: { to: string }) => t.to).reverse();
    assert.deepEqual(path.slice(path.lastIndexOf('unhealthy') - 1), ['degraded', 'unhealthy', 'degraded', 'healthy']);
    assert.match(well.history[1].reason, /recovering/);

    const changes = await eventually('the changes on the EVENTS stream', async () => {
      const mine = (await eventsOf('events.integration.health_changed')).filter((e) => e.data.integration_id === integration);
      return mine.length >= path.length ? mine : undefined;
    });
    assert.deepEqual(changes.map((e) => e.data.to), path);
    assert.ok(changes.every((e) => e.tenantid === acme));

    const metrics = await api('GET', `/v1/integrations/${integration}/metrics?window=1h`, acmeKey);
    assert.equal(metrics.status, 200);
    assert.ok(metrics.body.windows[0].connection_tests.failed >= 2);
    assert.equal(metrics.body.windows[0].syncs.completed, 1);
    assert.equal((await api('GET', `/v1/integrations/${integration}/performance?window=1h`, acmeKey)).status, 200);
    const report = await api('GET', '/v1/reports/performance?window=24h', acmeKey);
    assert.equal(report.body.totals.integrations, 1);
    assert.equal(report.body.health.healthy, 1);
  });

  test('an alert fires exactly once and then resolves once, announced on the EVENTS stream to its tenant', async () => {
    // The webhook leg (delivery to the tenant's endpoints) follows with the webhook dispatcher.
    const rule = await api('POST', '/v1/alert-rules', acmeKey, {
      name: 'orders db down',
      metric: 'unhealthy',
      comparator: 'gte',
      threshold: 1,
      window: '5m',
      severity: 'critical',
      scope: { type: 'integration', integration_id: integration },
    });
    assert.equal(rule.status, 201, JSON.stringify(rule.body));
    assert.equal(rule.body.for, '0s');
    await customer.halt();
    const firing = await eventually('the alert firing', async () => (await api('GET', '/v1/alerts?state=firing', acmeKey)).body.data.find((a: { rule_id: string }) => a.rule_id === rule.body.id));
    assert.equal(firing.integration_id, integration);
    await customer.resume();
    await eventually('the alert resolved', async () => (await api('GET', '/v1/alerts?state=resolved', acmeKey)).body.data.some((a: { id: string }) => a.id === firing.id));

    const ofRule = (e: { data: Record<string, unknown> }) => (e.data.alert as { rule_id: string }).rule_id === rule.body.id;
    const announced = async (subject: string) => {
      const mine = (await eventsOf(subject)).filter(ofRule);
      return mine.length ? mine : undefined;
    };
    const fired = await eventually('fired on the stream', () => announced('events.alert.fired'));
    const resolved = await eventually('resolved on the stream', () => announced('events.alert.resolved'));
    // The alert was firing over many evaluations (every 300 ms) and resolved: one event of each.
    assert.equal(fired.length, 1);
    assert.equal(resolved.length, 1);
    for (const e of [...fired, ...resolved]) {
      assert.equal(e.tenantid, acme);
      assert.equal((e.data.alert as { id: string }).id, firing.id);
    }
    assert.equal((resolved[0]!.data.alert as { state: string }).state, 'resolved');
    assert.equal((await api('DELETE', `/v1/alert-rules/${rule.body.id}`, acmeKey)).status, 204);
  });

  test('the dead-letter list and replay: a sync that failed for good is listed with its error, and replayed as a new sync', async () => {
    const id = await createIntegration(sys.adminKey, 'replayed');
    await customer.halt();
    const started = await api('POST', `/v1/integrations/${id}/syncs`, sys.adminKey);
    assert.equal(started.status, 202);
    await eventually('the sync failed', async () => (await api('GET', `/v1/syncs/${started.body.id}`, sys.adminKey)).body.status === 'FAILED', { timeoutMs: 30_000 });
    const letter = await eventually('the dead letter listed', async () =>
      (await api('GET', '/v1/system/dead-letters?consumer=sync-worker', sys.adminKey)).body.data.find((l: { payload: { sync_id?: string } }) => l.payload?.sync_id === started.body.id),
    );
    assert.equal(letter.service, 'sync-worker');
    assert.equal(letter.stream, 'JOBS_SYNC');
    assert.equal(letter.error.code, 'CONNECTION_FAILED');
    assert.equal(letter.replayed_at, null);

    const queues = await api('GET', '/v1/system/queues', sys.adminKey);
    assert.equal(queues.status, 200);
    const jobs = queues.body.streams.find((s: { stream: string }) => s.stream === 'JOBS_SYNC');
    assert.equal(jobs.consumers[0].consumer, 'sync-worker');
    assert.equal(typeof jobs.consumers[0].pending, 'number');
    const failures = await api('GET', '/v1/system/failed-syncs?window=1h', sys.adminKey);
    assert.ok(failures.body.tenants.some((t: { failed: number }) => t.failed >= 1));

    await customer.resume();
    const replayed = await api('POST', `/v1/system/dead-letters/${letter.id}/replay`, sys.adminKey);
    assert.equal(replayed.status, 200, JSON.stringify(replayed.body));
    assert.equal(replayed.body.replays, 1);
    const again = nameUuid(`switchyard:sync:replay:${letter.id}`);
    await eventually('the replayed sync completed', async () => (await api('GET', `/v1/syncs/${again}`, sys.adminKey)).body.status === 'COMPLETED', { timeoutMs: 60_000 });
    const waiting = await api('GET', '/v1/system/dead-letters?replayed=false', sys.adminKey);
    assert.ok(!waiting.body.data.some((l: { id: string }) => l.id === letter.id));
  });

  test("tenant isolation on every monitor route: another tenant's integration or rule is a 404, operator routes are a 403", async () => {
    const rule = await api('POST', '/v1/alert-rules', acmeKey, { name: 'x', metric: 'failed_syncs', comparator: 'gt', threshold: 100, window: '1h', severity: 'info', scope: { type: 'tenant' } });
    assert.equal(rule.status, 201);
    for (const path of ['health', 'metrics', 'performance']) assert.equal((await api('GET', `/v1/integrations/${integration}/${path}`, globexKey)).status, 404, path);
    assert.equal((await api('PATCH', `/v1/alert-rules/${rule.body.id}`, globexKey, { threshold: 1 })).status, 404);
    assert.equal((await api('DELETE', `/v1/alert-rules/${rule.body.id}`, globexKey)).status, 404);
    const intoAcme = await api('POST', '/v1/alert-rules', globexKey, { name: 'spy', metric: 'error_rate', comparator: 'gt', threshold: 0, window: '1h', severity: 'info', scope: { type: 'integration', integration_id: integration } });
    assert.equal(intoAcme.status, 404);
    const rules = await api('GET', '/v1/alert-rules', globexKey);
    assert.ok(!rules.body.data.some((r: { id: string }) => r.id === rule.body.id));
    assert.ok(!rules.body.data.some((r: { scope: { type: string } }) => r.scope.type === 'system'), 'system rules are the operator’s');
    assert.equal(rules.body.data.filter((r: { seeded: boolean }) => r.seeded).length, 3, 'the three default rules of seed 001');
    const alerts = await api('GET', '/v1/alerts', globexKey);
    assert.deepEqual(alerts.body.data, []);
    const report = await api('GET', '/v1/reports/performance', globexKey);
    assert.equal(report.body.totals.integrations, 0);
    for (const [method, path] of [['GET', '/v1/system/queues'], ['GET', '/v1/system/dead-letters'], ['POST', `/v1/system/dead-letters/${nameUuid('x')}/replay`], ['GET', '/v1/system/failed-syncs']] as const)
      assert.equal((await api(method, path, acmeKey)).status, 403, path);
    const system = await api('POST', '/v1/alert-rules', acmeKey, { name: 'dlq', metric: 'dead_letters', comparator: 'gt', threshold: 0, window: '1h', severity: 'warning', scope: { type: 'system' } });
    assert.equal(system.status, 403);
    // The operator sees the seeded operational rules.
    const operatorRules = await api('GET', '/v1/alert-rules', sys.adminKey);
    assert.ok(operatorRules.body.data.some((r: { metric: string; scope: { type: string } }) => r.metric === 'dead_letters' && r.scope.type === 'system'));
    // Bad input names its field.
    const bad = await api('POST', '/v1/alert-rules', acmeKey, { name: 'x', metric: 'dead_letters', comparator: 'gt', threshold: 0, window: '5 minutes', severity: 'warning', scope: { type: 'tenant' } });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.errors.map((e: { field: string }) => e.field).sort(), ['body.scope', 'body.window']);
  });

  test('promtool check metrics passes on every service’s /metrics, which carries the business metrics', async (ctx) => {
    if (spawnSync('promtool', ['--version']).status !== 0) return ctx.skip('promtool is not installed (Debian: apt-get install prometheus)');
    for (const s of sys.services) {
      const text = await (await fetch(`http://127.0.0.1:${s.healthPort}/metrics`)).text();
      const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      assert.equal(check.status, 0, `${s.name}: ${check.stdout}${check.stderr}`);
      if (s.name === 'monitor')
        for (const name of ['switchyard_syncs_total', 'switchyard_sync_duration_seconds_bucket', 'switchyard_connection_tests_total', 'switchyard_jetstream_consumer_pending_messages', 'switchyard_dead_letters', 'switchyard_alerts_firing', 'switchyard_outbox_lag_seconds'])
          assert.match(text, new RegExp(`^${name}\\{`, 'm'), name);
    }
  });
});
