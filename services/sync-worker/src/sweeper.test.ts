/**
 * The sweeper against real PostgreSQL and a private nats-server with the real
 * JOBS_SYNC work queue, its jobs published by the real outbox relay: no active
 * sync is left without a job that will run it, and a sync whose job is only
 * waiting (queued, backing off, not yet published) is left alone.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { AckPolicy, jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { streams, type Sync, type SyncJob, type SyncTarget } from '@switchyard/contracts';
import { connectNats, createPool, migrate, OutboxRelay, provision, type NatsConnection, type Pool } from '@switchyard/kit';
import { dropSchema, startNatsServer, testConfig, testLogger, uniqueName, type NatsServer } from '@switchyard/kit/testing';
import { claimSync } from './repo/claims.ts';
import { getSync } from './repo/syncs.ts';
import { jetStreamJobQueue, sweepSyncs, type SweepOptions } from './sweeper.ts';
import { startSync } from './syncs.ts';

const integration: SyncTarget = { type: 'POSTGRESQL', schemas: ['public'] };
const config = testConfig();
const schema = uniqueName('sync_worker_sweep_test');
const log = testLogger('sweeper');
const SILENT_MS = 60_000;
let pool: Pool;
let nats: NatsServer;
let nc: NatsConnection;
let jsm: JetStreamManager;
let relay: OutboxRelay;
let sweep: (o?: Partial<SweepOptions>) => ReturnType<typeof sweepSyncs>;

const start = () => startSync(pool, { tenant_id: 't', integration_id: randomUUID(), integration, trigger: 'manual' });
/** Nobody has heard from these syncs for 10 minutes (longer than the sweeper's SILENT_MS). */
const quiet = (...ids: string[]) => pool.query(`UPDATE syncs SET heartbeat_at = now() - interval '10 minutes' WHERE id = ANY($1::uuid[])`, [ids]);
const row = (id: string) => getSync(pool, 't', id);
const jobsInOutbox = async (id: string) =>
  (await pool.query<{ event: SyncJob; published: boolean }>(
    `SELECT event, published_at IS NOT NULL AS published FROM outbox WHERE subject LIKE 'jobs.sync.%' AND event->>'sync_id' = $1 ORDER BY created_at`,
    [id],
  )).rows;
/** A worker takes the sync's job from the queue and acks it: the job is gone (a worker that lost a race, say). */
async function loseJob(sync: Sync) {
  const durable = uniqueName('thief');
  await jsm.consumers.add(streams.syncJobs.name, { durable_name: durable, ack_policy: AckPolicy.Explicit, filter_subject: `jobs.sync.${sync.integration_id}` });
  const c = await jetstream(nc).consumers.get(streams.syncJobs.name, durable);
  const m = await c.next({ expires: 5_000 });
  assert.equal(m?.json<SyncJob>().sync_id, sync.id, 'the job was in the queue');
  await m!.ackAck();
  await jsm.consumers.delete(streams.syncJobs.name, durable);
}

describe('the sync sweeper', () => {
  beforeAll(async () => {
    await migrate({
      url: config.DATABASE_URL,
      schema,
      dir: [fileURLToPath(new URL('../../kit/migrations', import.meta.url)), fileURLToPath(new URL('../migrations', import.meta.url))],
      log,
    });
    pool = createPool({ url: config.DATABASE_URL, schema, max: 6, applicationName: 'sync-worker-sweep-test' });
    nats = await startNatsServer();
    nc = await connectNats({ servers: nats.url, name: 'sweeper-test', log });
    jsm = await jetstreamManager(nc);
    await provision(nc, { streams: [streams.events, streams.syncJobs] });
    relay = new OutboxRelay({ pool, databaseUrl: config.DATABASE_URL, schema, nc, log });
    const queue = jetStreamJobQueue(nc);
    sweep = (o = {}) => sweepSyncs(pool, { silentMs: SILENT_MS, maxDeliver: 5, queue, log, ...o });
  });

  afterAll(async () => {
    await nc?.close();
    await nats?.dispose();
    await pool?.end();
    await dropSchema(config.DATABASE_URL, schema);
  });

  test('a STARTED sync whose job was lost gets it again, as the next generation; the old job cannot claim it, the new one can', async () => {
    const sync = await start();
    await relay.flush();
    await loseJob(sync);
    await quiet(sync.id);

    const swept = await sweep();
    assert.deepEqual(swept.requeued, [sync.id]);
    const after = await pool.query('SELECT status, job_generation, recoveries FROM syncs WHERE id = $1', [sync.id]);
    assert.deepEqual(after.rows[0], { status: 'STARTED', job_generation: 1, recoveries: 1 });
    const jobs = await jobsInOutbox(sync.id);
    assert.deepEqual(jobs.map((j) => [j.event.generation ?? 0, j.published]), [[0, true], [1, false]]);
    assert.deepEqual(jobs[1]!.event.integration, integration, 'the new job carries what the first one did');

    await relay.flush();
    assert.ok(await jetStreamJobQueue(nc).holdsJobOf(sync.integration_id));
    assert.equal((await claimSync(pool, { syncId: sync.id, generation: 0, delivery: 1 })).verdict, 'stale');
    assert.equal((await claimSync(pool, { syncId: sync.id, generation: 1, delivery: 1 })).verdict, 'held');
  });

  test('a STARTED sync whose job waits (in the queue behind others, or not yet published) is left alone however long it waits', async () => {
    const queued = await start();
    await relay.flush();
    const unpublished = await start(); // its job is still in the outbox (say NATS was down)
    await quiet(queued.id, unpublished.id);

    const swept = await sweep();
    assert.deepEqual(swept.waiting.sort(), [queued.id, unpublished.id].sort());
    assert.deepEqual(swept.requeued, []);
    for (const id of [queued.id, unpublished.id]) {
      assert.equal((await row(id)).status, 'STARTED');
      assert.equal((await jobsInOutbox(id)).length, 1, 'no second job');
    }
    assert.deepEqual((await sweep()).waiting, [], 'looked at again only after another quiet period');
  });

  test('a PROCESSING sync whose worker went quiet waits for the redelivery of its job as STARTED; one on its final attempt fails with WORKER_LOST', async () => {
    const died = await start();
    const diedLast = await start();
    await relay.flush();
    await claimSync(pool, { syncId: died.id, generation: 0, delivery: 2 });
    await claimSync(pool, { syncId: diedLast.id, generation: 0, delivery: 5 });
    await quiet(died.id, diedLast.id);

    const swept = await sweep();
    assert.deepEqual(swept.waiting, [died.id]);
    assert.deepEqual(swept.failed.map((s) => [s.id, s.status, s.error?.code]), [[diedLast.id, 'FAILED', 'WORKER_LOST']]);
    assert.equal((await row(died.id)).status, 'STARTED');
    assert.equal((await claimSync(pool, { syncId: died.id, generation: 0, delivery: 3 })).verdict, 'held', "JetStream's redelivery takes it up");
    const events = await pool.query(`SELECT 1 FROM outbox WHERE subject = 'events.sync.failed' AND event->'data'->'sync'->>'id' = $1`, [diedLast.id]);
    assert.equal(events.rowCount, 1, 'the failure is announced');
  });

  test('a job lost again and again fails its sync with JOB_LOST after three recoveries, and the integration can start again', async () => {
    const sync = await start();
    for (let i = 0; i < 3; i++) {
      await relay.flush();
      await loseJob(sync);
      await quiet(sync.id);
      assert.deepEqual((await sweep()).requeued, [sync.id], `recovery ${i + 1}`);
    }
    await relay.flush();
    await loseJob(sync);
    await quiet(sync.id);
    const swept = await sweep();
    assert.deepEqual(swept.failed.map((s) => [s.status, s.error?.code]), [['FAILED', 'JOB_LOST']]);
    const again = await startSync(pool, { tenant_id: 't', integration_id: sync.integration_id, integration, trigger: 'manual' });
    assert.equal(again.status, 'STARTED', 'no permanent 409');
  });

  test('two sweepers at once send a lost job again once', async () => {
    const sync = await start();
    await relay.flush();
    await loseJob(sync);
    await quiet(sync.id);
    const [a, b] = await Promise.all([sweep(), sweep()]);
    assert.deepEqual([...a.requeued, ...b.requeued], [sync.id]);
    assert.equal((await jobsInOutbox(sync.id)).length, 2);
  });

  test('when NATS cannot be asked where a job is, the sweeper changes nothing', async () => {
    const sync = await start();
    await relay.flush();
    await loseJob(sync);
    await quiet(sync.id);
    const closed = await connectNats({ servers: nats.url, name: 'closed', log });
    await closed.close();
    await assert.rejects(sweep({ queue: jetStreamJobQueue(closed) }));
    const r = await pool.query('SELECT status, job_generation, heartbeat_at < now() - interval \'5 minutes\' AS still_quiet FROM syncs WHERE id = $1', [sync.id]);
    assert.deepEqual(r.rows[0], { status: 'STARTED', job_generation: 0, still_quiet: true });
  });
});
