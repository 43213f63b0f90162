/**
 * Who may do what on NATS is enforced by the server, with the configuration
 * generated from contracts/src/permissions.ts: a real nats-server runs it
 * here. Who may ask for plaintext; and, of JetStream, only what each
 * service's own consumers and publishes need.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import {
  consumers,
  credentialRequests,
  eventOwners,
  integrationRequests,
  jobRequests,
  monitorSignals,
  inboxPrefix,
  PROVISIONER,
  SERVICE_NAMES,
  streams,
  type EventSubject,
  type ServiceName,
} from '@switchyard/contracts';
import { provisionAll, ProvisionSettings } from '@switchyard/kit';
import { NATS_AUTH_CONFIG_PATH, NATS_CONFIG_PATH, natsAuthConfig, natsServerConfig, passwordVar } from '@switchyard/kit/local';
import { startNatsServer, type NatsServer } from '@switchyard/kit/testing';

const users = [...SERVICE_NAMES, 'operator', PROVISIONER];
const passwords = Object.fromEntries(users.map((u) => [passwordVar(u), `pw-${u}`]));
let nats: NatsServer;
const open: NatsConnection[] = [];

const as = async (user: string) => {
  const nc = await connect({ servers: nats.url, user, pass: `pw-${user}`, inboxPrefix: inboxPrefix(user) });
  open.push(nc);
  return nc;
};

describe('NATS subject permissions per service', () => {
  beforeAll(async () => {
    // auth.conf: the users and permissions (nats-server.conf adds a 2.10 JetStream setting this 2.9 server refuses).
    nats = await startNatsServer({ configFile: NATS_AUTH_CONFIG_PATH, env: passwords });
    await provisionAll(await as(PROVISIONER), ProvisionSettings.parse({}));
    // A stand-in credentials service answering reveal requests.
    const credentials = await as('credentials');
    credentials.subscribe(credentialRequests.reveal.subject, {
      queue: 'credentials',
      callback: (_e, m) => {
        m.respond(JSON.stringify({ ok: true, data: { answered: true } }));
      },
    });
    await credentials.flush();
  });

  afterAll(async () => {
    await Promise.allSettled(open.map((nc) => nc.close()));
    await nats?.dispose();
  });

  test('the committed deploy/nats/ files are the ones generated from the contracts', () => {
    assert.equal(readFileSync(NATS_AUTH_CONFIG_PATH, 'utf8'), natsAuthConfig(), 'run `npm run nats-config` and commit the result');
    assert.equal(readFileSync(NATS_CONFIG_PATH, 'utf8'), natsServerConfig(), 'run `npm run nats-config` and commit the result');
    assert.match(natsServerConfig(), /^include "auth\.conf"$/m);
    assert.match(natsServerConfig(), /sync_interval: always/);
  });

  test('sync-worker and integrations may ask for plaintext', async () => {
    for (const user of ['sync-worker', 'integrations']) {
      const nc = await as(user);
      const reply = await nc.request(credentialRequests.reveal.subject, '{}', { timeout: 2_000 });
      assert.deepEqual(reply.json(), { ok: true, data: { answered: true } }, user);
    }
  });

  test('every other service is refused by the server', async () => {
    for (const user of ['gateway', 'monitor', 'orchestrator', 'webhook-dispatcher', 'credentials', 'operator']) {
      const nc = await as(user);
      await assert.rejects(
        nc.request(credentialRequests.reveal.subject, '{}', { timeout: 2_000 }),
        (err: Error) => /permission/i.test(`${err.message} ${String((err as { cause?: unknown }).cause ?? '')}`),
        `${user} must not reach credentials.reveal`,
      );
    }
  });

  test("a service cannot read another service's replies", async () => {
    const gateway = await as('gateway');
    const sub = gateway.subscribe(`${inboxPrefix('sync-worker')}.>`);
    // The server refuses the subscription; the client ends it with that error.
    await assert.rejects(
      (async () => {
        for await (const _m of sub) throw new Error('received a message meant for sync-worker');
      })(),
      /Permissions Violation for Subscription to "_INBOX_sync-worker\.>"/,
    );
  });

  test('a wrong password is refused', async () => {
    await assert.rejects(connect({ servers: nats.url, user: 'sync-worker', pass: 'nope', maxReconnectAttempts: 0 }));
  });

  describe('JetStream: each service only what its own consumers and publishes need', () => {
    const refused = (err: unknown) => /permission/i.test(`${(err as Error).message} ${String((err as { cause?: unknown }).cause ?? '')}`);
    /** A JetStream API call (or any request) the server must refuse to this user. */
    const mustRefuse = async (user: string, subject: string, body: unknown = {}) => {
      const nc = await as(user);
      await assert.rejects(nc.request(subject, JSON.stringify(body), { timeout: 2_000 }), refused, `${user} → ${subject}`);
    };
    const others = (s: ServiceName) => Object.values(consumers).filter((c) => c.service !== s);

    test.each(SERVICE_NAMES)('%s cannot create a stream that records requests, credentials or reply inboxes', async (user) => {
      for (const [name, subjects] of [
        ['SPY_REQUESTS', ['integrations.>']],
        ['SPY_CREDENTIALS', ['credentials.>']],
        ['SPY_INBOXES', [`${inboxPrefix('integrations')}.>`]],
      ] as const)
        await mustRefuse(user, `$JS.API.STREAM.CREATE.${name}`, { name, subjects, storage: 'memory' });
    });

    test.each(SERVICE_NAMES)("%s cannot create a consumer on a stream, nor use another service's consumer", async (user) => {
      for (const stream of Object.values(streams)) {
        await mustRefuse(user, `$JS.API.CONSUMER.CREATE.${stream.name}`, { stream_name: stream.name, config: { ack_policy: 'explicit' } });
        await mustRefuse(user, `$JS.API.CONSUMER.DURABLE.CREATE.${stream.name}.spy`, { stream_name: stream.name, config: { durable_name: 'spy', ack_policy: 'explicit' } });
      }
      for (const c of others(user)) await mustRefuse(user, `$JS.API.CONSUMER.MSG.NEXT.${c.stream}.${c.durable}`, { batch: 1 });
    });

    test.each(SERVICE_NAMES)("%s cannot read a stream's messages directly, purge it or delete it", async (user) => {
      for (const stream of Object.values(streams)) {
        await mustRefuse(user, `$JS.API.STREAM.MSG.GET.${stream.name}`, { seq: 1 });
        await mustRefuse(user, `$JS.API.DIRECT.GET.${stream.name}`, { seq: 1 });
        await mustRefuse(user, `$JS.API.STREAM.PURGE.${stream.name}`);
        await mustRefuse(user, `$JS.API.STREAM.DELETE.${stream.name}`);
        await mustRefuse(user, `$JS.API.STREAM.UPDATE.${stream.name}`, { name: stream.name, subjects: ['>'] });
      }
    });

    test.each(SERVICE_NAMES)("%s cannot publish another owner's event, nor listen in on requests", async (user) => {
      const nc = await as(user);
      const foreign = (Object.keys(eventOwners) as EventSubject[]).filter((e) => eventOwners[e] !== user);
      assert.ok(foreign.length > 0);
      for (const subject of foreign) {
        // A plain publish is refused asynchronously; a request-shaped publish (as JetStream publishes are) surfaces it.
        await assert.rejects(nc.request(subject, '{}', { timeout: 2_000 }), refused, `${user} published ${subject}`);
      }
      const theirs = user === 'credentials' ? 'integrations.create' : credentialRequests.store.subject;
      const sub = nc.subscribe(theirs);
      await assert.rejects(
        (async () => {
          for await (const _m of sub) throw new Error(`received a ${theirs} request`);
        })(),
        /Permissions Violation for Subscription/,
      );
    });

    test('each service may use its own consumers and publish its own events', async () => {
      for (const c of Object.values(consumers)) {
        const nc = await as(c.service);
        const info = await nc.request(`$JS.API.CONSUMER.INFO.${c.stream}.${c.durable}`, '', { timeout: 2_000 });
        assert.equal((info.json() as { name?: string }).name, c.durable, `${c.service} reads its consumer ${c.durable}`);
      }
      for (const [subject, owner] of Object.entries(eventOwners)) {
        const nc = await as(owner);
        // JetStream acknowledges the stored message: the publish was allowed.
        const ack = await nc.request(subject, '{}', { timeout: 2_000, headers: undefined });
        assert.equal((ack.json() as { stream?: string }).stream, streams.events.name, `${owner} publishes ${subject}`);
      }
    });

    test("the sync-worker may read its work queue's per-subject counts (its sweeper's question), not another stream's, nor the jobs themselves", async () => {
      const nc = await as('sync-worker');
      const subject = 'jobs.sync.00000000-0000-4000-8000-000000000000';
      const info = await nc.request(`$JS.API.STREAM.INFO.${streams.syncJobs.name}`, JSON.stringify({ subjects_filter: subject }), { timeout: 2_000 });
      assert.equal((info.json() as { config?: { name?: string } }).config?.name, streams.syncJobs.name);
      await mustRefuse('sync-worker', `$JS.API.STREAM.INFO.${streams.events.name}`);
      await mustRefuse('sync-worker', `$JS.API.STREAM.MSG.GET.${streams.syncJobs.name}`, { last_by_subj: subject });
    });

    test("the monitor may read every stream's and consumer's state (queue visibility), not their messages; it tests connections and hands dead letters back to their service, nothing more", async () => {
      const nc = await as('monitor');
      for (const s of Object.values(streams)) {
        const info = await nc.request(`$JS.API.STREAM.INFO.${s.name}`, '', { timeout: 2_000 });
        assert.equal((info.json() as { config?: { name?: string } }).config?.name, s.name);
      }
      for (const c of Object.values(consumers)) {
        const info = await nc.request(`$JS.API.CONSUMER.INFO.${c.stream}.${c.durable}`, '', { timeout: 2_000 });
        assert.equal((info.json() as { name?: string }).name, c.durable);
      }
      await mustRefuse('monitor', `$JS.API.STREAM.MSG.GET.${streams.deadLetter.name}`, { seq: 1 });
      await mustRefuse('monitor', 'jobs.sync.00000000-0000-4000-8000-000000000000');
      await mustRefuse('monitor', integrationRequests.delete.subject);
      for (const subject of [integrationRequests.test.subject, jobRequests['sync-worker'].requeue.subject]) {
        // No responder runs here: a permitted request fails with "no responders", a forbidden one with a permissions violation.
        await assert.rejects(nc.request(subject, '{}', { timeout: 2_000 }), (err: Error) => !refused(err), subject);
      }
    });

    test('the gateway reports refused keys to the monitor; no other service may', async () => {
      const gateway = await as('gateway');
      await assert.rejects(gateway.request(monitorSignals.authFailed, '{}', { timeout: 2_000 }), (err: Error) => !refused(err));
      await mustRefuse('integrations', monitorSignals.authFailed);
    });

    test('the provisioner may create and delete streams; the operator may not', async () => {
      const p = await as(PROVISIONER);
      const created = await p.request('$JS.API.STREAM.CREATE.PROVISIONER_CHECK', JSON.stringify({ name: 'PROVISIONER_CHECK', subjects: ['provisioner-check.>'], storage: 'memory' }), { timeout: 2_000 });
      assert.equal((created.json() as { config?: { name?: string } }).config?.name, 'PROVISIONER_CHECK');
      await p.request('$JS.API.STREAM.DELETE.PROVISIONER_CHECK', '', { timeout: 2_000 });
      await mustRefuse('operator', '$JS.API.STREAM.CREATE.OPERATOR_CHECK', { name: 'OPERATOR_CHECK', subjects: ['operator-check.>'] });
    });
  });
});
