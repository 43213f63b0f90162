/**
 * Who may ask for plaintext is enforced by NATS, with the server configuration
 * generated from contracts/src/permissions.ts: a real nats-server runs it here.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { credentialRequests, inboxPrefix, SERVICE_NAMES } from '@switchyard/contracts';
import { NATS_CONFIG_PATH, natsConfig, passwordVar } from '@switchyard/kit/local';
import { startNatsServer, type NatsServer } from '@switchyard/kit/testing';

const users = [...SERVICE_NAMES, 'operator'];
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
    nats = await startNatsServer({ configFile: NATS_CONFIG_PATH, env: passwords });
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

  test('the committed deploy/nats/nats-server.conf is the one generated from the contracts', () => {
    assert.equal(readFileSync(NATS_CONFIG_PATH, 'utf8'), natsConfig(), 'run `npm run nats-config` and commit the result');
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
});
