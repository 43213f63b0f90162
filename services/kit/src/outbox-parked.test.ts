/**
 * Rows that cannot be published are parked, and the rows after them flow:
 * a service runtime on a private nats-server with a small max_payload and a
 * NATS user that may not publish integration events.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { errors as natsErrors, headers as natsHeaders, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { outboxRequests, streams } from '@switchyard/contracts';
import { withTransaction } from './db.ts';
import { createLogger } from './logger.ts';
import { writeEvent, writeMessage } from './outbox.ts';
import { provision } from './provision.ts';
import { encodeForPublish, PublishRefused, refusalReason } from './outbox-parked.ts';
import { Runtime } from './runtime.ts';
import { startTelemetry } from './telemetry.ts';
import { dropSchema, eventually, startNatsServer, testConfig, uniqueName, type NatsServer } from './testing/index.ts';

const SMALL = 16 * 1024;
const dir = mkdtempSync(join(tmpdir(), 'switchyard-parked-'));
const confFile = join(dir, 'nats.conf');
/** A server with `maxPayload`, an admin user and a service user that may not publish integration events. */
const writeConf = (maxPayload: number) =>
  writeFileSync(
    confFile,
    `max_payload: ${maxPayload}
jetstream: enabled
authorization {
  users = [
    { user: admin, password: admin }
    { user: svc, password: svc, permissions: { publish: { allow: [">"], deny: ["events.integration.>"] }, subscribe: { allow: [">"] } } }
  ]
}
`,
  );

const schema = uniqueName('kit_parked');
const service = 'orchestrator' as const;
const routes = outboxRequests[service];
const source = `kit-test/${schema}`;
const tenantId = `kit-test-${schema}`;
const logs: string[] = [];
let nats: NatsServer;
let rt: Runtime;
let admin: NatsConnection;
let jsm: JetStreamManager;

beforeAll(async () => {
  writeConf(SMALL);
  nats = await startNatsServer({ configFile: confFile });
  const config = testConfig({
    NATS_URL: nats.url,
    NATS_USER: 'svc',
    NATS_PASSWORD: 'svc',
    OUTBOX_PARK_AFTER_ATTEMPTS: '2',
  });
  const log = createLogger({
    service,
    instanceId: 'parked-test',
    level: 'info',
    destination: new Writable({ write: (chunk, _e, cb) => (logs.push(String(chunk)), cb()) }),
  });
  const telemetry = startTelemetry({ service, version: 'test', instanceId: 'parked-test', env: { OTEL_TRACES_EXPORTER: 'none' } });
  // Streams are the provisioning identity's to create, not the service's.
  admin = await connect({ servers: nats.url, user: 'admin', pass: 'admin' });
  await provision(admin, { streams: [streams.events] });
  jsm = await jetstreamManager(admin);
  rt = await Runtime.create({ service, version: 'test', instanceId: uniqueName('parked'), config, log, schema, telemetry });
  rt.startOutbox({ pollMs: 50 });
});

afterAll(async () => {
  await rt?.stop('test done');
  await admin?.close();
  await nats?.dispose();
  await dropSchema(testConfig().DATABASE_URL, schema);
  rmSync(dir, { recursive: true, force: true });
});

const keyCreated = () => ({ key_id: randomUUID(), tenant_id: tenantId, role: 'viewer' as const, name: 'k' });
const commitNormal = () => withTransaction(rt.pool, (tx) => writeEvent(tx, source, 'events.api_key.created', keyCreated(), { tenantId }));
/** An event over the server's max_payload (but under the write-time bound, as on a server configured lower than it). */
async function commitBig(): Promise<string> {
  const id = randomUUID();
  const event = { specversion: '1.0', id, source, type: 'switchyard.api_key.created', tenantid: tenantId, data: { padding: 'p'.repeat(SMALL + 1_000) } };
  await withTransaction(rt.pool, (tx) => writeMessage(tx, 'events.api_key.created', event, id));
  return id;
}

/** Ids of this file's events in EVENTS, in stream order. */
async function published(): Promise<string[]> {
  const info = await jsm.streams.info(streams.events.name);
  const ids: string[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(streams.events.name, { seq }).catch(() => null);
    const e = m?.json<{ id: string; source?: string }>();
    if (e?.source === source) ids.push(e.id);
  }
  return ids;
}

const parkedRow = async (id: string) =>
  (await rt.pool.query<{ reason: string; attempts: number; bytes: number }>('SELECT reason, attempts, bytes FROM outbox_parked WHERE id = $1', [id])).rows[0];

async function metric(): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${rt.healthPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('switchyard_outbox_parked_rows{') && l.includes(`schema="${schema}"`));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

describe('parking outbox rows that cannot be published', () => {
  let big: string;

  test('a message over max_payload is parked after N attempts, the rows after it are published in order, and it is logged and counted', async () => {
    const before = await commitNormal();
    big = await commitBig();
    const after = [await commitNormal(), await commitNormal()];

    const ids = await eventually('the rows after the big one to be published', async () => {
      const p = await published();
      return after.every((e) => p.includes(e.id)) ? p : undefined;
    });
    assert.deepEqual(ids, [before.id, ...after.map((e) => e.id)], 'in commit order, without the big one');

    const row = await parkedRow(big);
    assert.equal(row?.reason, 'too_large');
    assert.equal(row?.attempts, 2, 'OUTBOX_PARK_AFTER_ATTEMPTS');
    assert.ok(row!.bytes > SMALL, String(row?.bytes));
    assert.equal((await rt.pool.query('SELECT 1 FROM outbox WHERE id = $1', [big])).rowCount, 0, 'no longer in the outbox');

    const line = logs.map((l) => JSON.parse(l)).find((l) => l.event_id === big && l.msg.startsWith('outbox row parked'));
    assert.equal(line?.level, 'error');
    assert.equal(line?.subject, 'events.api_key.created');
    assert.equal(line?.reason, 'too_large');
    assert.ok(!logs.some((l) => l.includes('pppppppp')), 'the payload is never logged');

    assert.equal(await eventually('the gauge', async () => ((await metric()) === 1 ? 1 : undefined)), 1);
  });

  test('an operator lists it over NATS (without its payload) and retries it; still too large, it is parked again', async () => {
    const list = await rt.rpc.request(routes.parked, {});
    const item = list.data.find((m) => m.id === big);
    assert.ok(item, JSON.stringify(list));
    assert.equal(item.subject, 'events.api_key.created');
    assert.equal(item.reason, 'too_large');
    assert.match(item.error, /max_payload/);
    assert.ok(!JSON.stringify(list).includes('pppp'));

    const moved = await rt.rpc.request(routes.retry, { id: big });
    assert.equal(moved.id, big);
    const again = await eventually('parked again', async () => {
      const row = await parkedRow(big);
      return row && row.attempts === 4 ? row : undefined;
    });
    assert.equal(again.reason, 'too_large');

    await assert.rejects(rt.rpc.request(routes.retry, { id: randomUUID() }), /no parked outbox row/);
  });

  test('a publish the server refuses (permissions) is parked as forbidden; the rows after it flow', async () => {
    const denied = await withTransaction(rt.pool, (tx) =>
      writeEvent(tx, source, 'events.integration.deleted', { integration_id: randomUUID(), tenant_id: tenantId }, { tenantId }),
    );
    const next = await commitNormal();
    await eventually('the next row published', async () => (await published()).includes(next.id));
    assert.equal((await parkedRow(denied.id))?.reason, 'forbidden');
  });

  test('while NATS is away rows wait in order however many attempts fail, and are never parked; a retry after raising max_payload publishes', async () => {
    await nats.stop();
    const waiting = [await commitNormal(), await commitNormal()];
    await eventually(
      'more failed attempts than OUTBOX_PARK_AFTER_ATTEMPTS',
      async () => ((await rt.pool.query<{ attempts: number }>('SELECT attempts FROM outbox WHERE id = $1', [waiting[0]!.id])).rows[0]?.attempts ?? 0) > 2,
      { timeoutMs: 30_000 },
    );
    const { rowCount } = await rt.pool.query('SELECT 1 FROM outbox_parked WHERE id = ANY($1::uuid[])', [waiting.map((e) => e.id)]);
    assert.equal(rowCount, 0);

    writeConf(1024 * 1024);
    await nats.restart();
    const ids = await eventually(
      'the waiting rows published',
      async () => {
        const p = await published();
        return waiting.every((e) => p.includes(e.id)) ? p : undefined;
      },
      { timeoutMs: 30_000 },
    );
    assert.deepEqual(ids.slice(-2), waiting.map((e) => e.id));

    await rt.rpc.request(routes.retry, { id: big });
    await eventually('the retried row published', async () => (await published()).includes(big));
    assert.equal(await parkedRow(big), undefined);
    assert.equal(await eventually('the gauge to follow', async () => ((await metric()) === 1 ? 1 : undefined)), 1, 'the forbidden one is left');
  });
});

describe('refusalReason', () => {
  const never = () => false;

  test('too large, forbidden and invalid cannot pass', () => {
    const payload = natsErrors.InvalidArgumentError.format('payload', 'max_payload size exceeded');
    assert.equal(refusalReason(payload, never), 'too_large');
    const denied = new natsErrors.RequestError('Permissions Violation for Publish to "x"', {
      cause: new natsErrors.PermissionViolationError('Permissions Violation for Publish to "x"', 'publish', 'x'),
    });
    assert.equal(refusalReason(denied, never), 'forbidden');
    assert.equal(refusalReason(new natsErrors.InvalidSubjectError('a b'), never), 'invalid');
    assert.equal(refusalReason(new PublishRefused('invalid', 'does not serialise'), never), 'invalid');
  });

  test('a timeout is forbidden only when the connection reported a violation for the subject meanwhile', () => {
    const timeout = new natsErrors.TimeoutError();
    assert.equal(refusalReason(timeout, never), undefined);
    assert.equal(refusalReason(timeout, () => true), 'forbidden');
  });

  test('the relay refuses, before sending, a payload that does not serialise or that outgrows max_payload with its headers', () => {
    const h = natsHeaders();
    h.set('Nats-Msg-Id', randomUUID());
    const refusal = (payload: unknown, max: number) => {
      try {
        encodeForPublish(payload, h, max);
        return undefined;
      } catch (err) {
        return refusalReason(err, never);
      }
    };
    assert.equal(refusal({ n: 1n }, 1_000), 'invalid');
    const body = { padding: 'x'.repeat(950) }; // 964 bytes: under 1,000 alone, over it with the Nats-Msg-Id header
    assert.equal(refusal(body, 1_000), 'too_large', 'the headers count');
    assert.equal(encodeForPublish(body, h, 2_000), JSON.stringify(body));
  });

  test('NATS away, closed or slow may pass', () => {
    assert.equal(refusalReason(new natsErrors.ClosedConnectionError(), never), undefined);
    assert.equal(refusalReason(new natsErrors.RequestError('no responders', { cause: new natsErrors.NoRespondersError('x') }), never), undefined);
    assert.equal(refusalReason(new Error('connection reset'), never), undefined);
  });
});
