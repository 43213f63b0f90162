import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { fileURLToPath } from 'node:url';
import { createdSyncId, type SyncTarget } from '@switchyard/contracts';
import { createPool, isAppError, migrate, type Pool } from '@switchyard/kit';
import { dropSchema, testConfig, testLogger, uniqueName } from '@switchyard/kit/testing';
import { markProcessing } from './repo/syncs.ts';
import { failSilentSyncs, startSync, waitForRetry } from './syncs.ts';

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

  test('a PROCESSING sync whose worker fell silent is failed with a reason; a live one, or one waiting to retry, is left alone', async () => {
    const silent = await startSync(pool, { tenant_id: 't', integration_id: randomUUID(), integration, trigger: 'manual' });
    const live = await startSync(pool, { tenant_id: 't', integration_id: randomUUID(), integration, trigger: 'manual' });
    await markProcessing(pool, silent.id);
    await markProcessing(pool, live.id);
    const retrying = await startSync(pool, { tenant_id: 't', integration_id: randomUUID(), integration, trigger: 'manual' });
    await markProcessing(pool, retrying.id);
    await waitForRetry(pool, retrying.id); // failed once, waiting out its backoff
    await pool.query(`UPDATE syncs SET heartbeat_at = now() - interval '10 minutes' WHERE id = ANY($1::uuid[])`, [[silent.id, retrying.id]]);

    const failed = await failSilentSyncs(pool, 60_000);
    assert.deepEqual(failed.map((s) => s.id), [silent.id]);
    assert.equal(failed[0]!.status, 'FAILED');
    assert.equal(failed[0]!.error?.code, 'WORKER_LOST');
    const { rows } = await pool.query<{ id: string; status: string }>('SELECT id, status FROM syncs WHERE id = ANY($1::uuid[])', [[live.id, retrying.id]]);
    assert.deepEqual(Object.fromEntries(rows.map((r) => [r.id, r.status])), { [live.id]: 'PROCESSING', [retrying.id]: 'STARTED' });
    const events = await pool.query(`SELECT 1 FROM outbox WHERE subject = 'events.sync.failed' AND event->'data'->'sync'->>'id' = $1`, [silent.id]);
    assert.equal(events.rowCount, 1, 'the failure is announced');
    assert.equal(await markProcessing(pool, silent.id), undefined, 'a late redelivery of its job is dropped');
  });
});
