import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { fileURLToPath } from 'node:url';
import { createdSyncId, type SyncTarget } from '@switchyard/contracts';
import { AppError, createPool, isAppError, JobSuperseded, migrate, withTransaction, type Pool } from '@switchyard/kit';
import { dropSchema, testConfig, testLogger, uniqueName } from '@switchyard/kit/testing';
import { failSync } from './jobs/sync.ts';
import { claimSync, lockClaim, recordProgress, touchSync, type Claim } from './repo/claims.ts';
import { getSync } from './repo/syncs.ts';
import { endSync, startSync, waitForRetry } from './syncs.ts';

const integration: SyncTarget = { type: 'POSTGRESQL' };

const config = testConfig();
const schema = uniqueName('sync_worker_test');
let pool: Pool;

describe('sync lifecycle in the sync-worker database', () => {
  beforeAll(async () => {
    await migrate({
      url: config.DATABASE_URL,
      schema,
      dir: [fileURLToPath(new URL('../../kit/migrations', import.meta.url)), fileURLToPath(new URL('../migrations', import.meta.url))],
      log: testLogger(),
    });
    pool = createPool({ url: config.DATABASE_URL, schema, max: 4, applicationName: 'sync-worker-test' });
  });

  afterAll(async () => {
    await pool?.end();
    await dropSchema(config.DATABASE_URL, schema);
  });

  test('starting writes the sync, its job and its event together; the first sync of an integration starts once', async () => {
    const integration_id = randomUUID();
    const a = await startSync(pool, { tenant_id: 't', integration_id, integration, trigger: 'created' });
    const b = await startSync(pool, { tenant_id: 't', integration_id, integration, trigger: 'created' });
    assert.equal(a.id, createdSyncId(integration_id));
    assert.equal(b.id, a.id, 'the created event and the create request start the same sync');
    const { rows } = await pool.query<{ subject: string }>('SELECT subject FROM outbox ORDER BY created_at');
    assert.deepEqual(rows.map((r) => r.subject), [`jobs.sync.${integration_id}`, 'events.sync.started']);
  });

  test('a second active sync is a conflict naming the first', async () => {
    const integration_id = randomUUID();
    const first = await startSync(pool, { tenant_id: 't', integration_id, integration, trigger: 'manual' });
    await assert.rejects(startSync(pool, { tenant_id: 't', integration_id, integration, trigger: 'manual' }), (err) => {
      assert.ok(isAppError(err));
      assert.equal(err.code, 'CONFLICT');
      assert.ok(err.message.includes(first.id));
      return true;
    });
  });

  test('a delivery claims the sync; a newer delivery of its job takes it over, and the older one can change nothing after', async () => {
    const sync = await startSync(pool, { tenant_id: 't', integration_id: randomUUID(), integration, trigger: 'manual' });
    const d1: Claim = { syncId: sync.id, generation: 0, delivery: 1 };
    const d2: Claim = { ...d1, delivery: 2 };
    assert.equal((await claimSync(pool, d1)).verdict, 'held');
    assert.equal((await recordProgress(pool, d1, 1, 10)).verdict, 'held');
    // d1's ack wait ran out (its worker stalled) and JetStream handed the job to d2.
    const taken = await claimSync(pool, d2);
    assert.equal(taken.verdict, 'held');
    assert.equal(taken.verdict === 'held' && taken.sync.attempts, 2);

    assert.equal((await recordProgress(pool, d1, 5, 10)).verdict, 'superseded');
    assert.equal(await touchSync(pool, d1), 'superseded');
    assert.equal(await withTransaction(pool, (tx) => lockClaim(tx, d1)), 'superseded', 'its result would not be committed');
    assert.equal((await claimSync(pool, d1)).verdict, 'superseded', 'an older delivery never claims back');
    assert.equal((await recordProgress(pool, d2, 2, 10)).verdict, 'held');
    const row = await getSync(pool, 't', sync.id);
    assert.deepEqual([row.status, row.progress], ['PROCESSING', { done: 2, total: 10 }]);
  });

  test("the race of the issue: an older delivery's retry hook does not put the newer delivery's running sync back to STARTED", async () => {
    const sync = await startSync(pool, { tenant_id: 't', integration_id: randomUUID(), integration, trigger: 'manual' });
    const d1: Claim = { syncId: sync.id, generation: 0, delivery: 1 };
    const d2: Claim = { ...d1, delivery: 2 };
    await claimSync(pool, d1);
    await claimSync(pool, d2);
    // d1 fails and its hook runs: it must neither touch the row nor hand the message back (JobSuperseded).
    await assert.rejects(waitForRetry(pool, d1), JobSuperseded);
    assert.equal((await getSync(pool, 't', sync.id)).status, 'PROCESSING');
    assert.equal((await recordProgress(pool, d2, 3, 3)).verdict, 'held', "the newer delivery's progress still lands");
    // The holder's own hook does put it back to wait for its next delivery, which then claims it.
    await waitForRetry(pool, d2);
    assert.equal((await getSync(pool, 't', sync.id)).status, 'STARTED');
    assert.equal((await claimSync(pool, { ...d1, delivery: 3 })).verdict, 'held');
  });

  test('a job of an older generation never claims a sync that expects a newer one; an ended sync drops every job', async () => {
    const integration_id = randomUUID();
    const sync = await startSync(pool, { tenant_id: 't', integration_id, integration, trigger: 'manual' });
    await pool.query('UPDATE syncs SET job_generation = 1 WHERE id = $1', [sync.id]); // the sweeper sent its job again
    assert.equal((await claimSync(pool, { syncId: sync.id, generation: 0, delivery: 4 })).verdict, 'stale');
    // Giving up an old job does not fail the sync the new one runs.
    await failSync(pool)({ sync_id: sync.id, generation: 0 }, { reason: 'exhausted', error: new AppError('UNAVAILABLE', 'x'), deliveries: 5 });
    assert.equal((await getSync(pool, 't', sync.id)).status, 'STARTED');
    assert.equal((await claimSync(pool, { syncId: sync.id, generation: 1, delivery: 1 })).verdict, 'held');

    await endSync(pool, sync.id, 'CANCELLED');
    assert.equal((await claimSync(pool, { syncId: sync.id, generation: 1, delivery: 2 })).verdict, 'ended');
    assert.equal((await startSync(pool, { tenant_id: 't', integration_id, integration, trigger: 'manual' })).status, 'STARTED', 'no 409 once it ended');
  });
});
