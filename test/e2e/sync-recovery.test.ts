/**
 * A sync whose job is gone, in the whole system on NATS with per-service
 * permissions: the sync-worker's sweeper (as its own NATS user) finds nothing
 * of it in the work queue, sends its job again, and a worker runs it to the
 * end. Until then a start is a 409 naming it; after, starts work again.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, test } from 'vitest';
import pg from 'pg';
import { DEFAULTS } from '@switchyard/kit/local';
import { eventually } from '@switchyard/kit/testing';
import { startSystem, type IsolatedSystem } from '@switchyard/kit/testing/system';

const local = new URL(process.env.DATABASE_URL ?? DEFAULTS.DATABASE_URL);
const customerDb = `customer_recovery_${randomBytes(4).toString('hex')}`;
let sys: IsolatedSystem;

async function sql(url: string, text: string, values: unknown[] = []) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await c.query(text, values);
  } finally {
    await c.end();
  }
}
const adminUrl = () => Object.assign(new URL(local.toString()), { pathname: '/postgres' }).toString();

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(`${sys.api}${path}`, {
    method,
    headers: { authorization: `Bearer ${sys.adminKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('a sync whose job was lost', { timeout: 180_000 }, () => {
  beforeAll(async () => {
    // A short ack wait: the sweeper looks at syncs quiet for three of them (3 s).
    sys = await startSystem({ name: 'e2e_sync_recovery', natsPermissions: true, env: { SYNC_ACK_WAIT_MS: '1000' }, print: process.env.E2E_LOGS ? undefined : null });
    await sql(adminUrl(), `CREATE DATABASE ${customerDb}`);
    await sql(Object.assign(new URL(adminUrl()), { pathname: `/${customerDb}` }).toString(), 'CREATE TABLE t (id int PRIMARY KEY)');
  });

  afterAll(async () => {
    await sys?.stop();
    await sql(adminUrl(), `DROP DATABASE IF EXISTS ${customerDb} WITH (FORCE)`).catch(() => {});
  });

  test('is sent again by the sweeper and completes; meanwhile a start is a 409 naming it, afterwards starts work again', async () => {
    const credential = { host: '127.0.0.1', port: Number(local.port || 5432), username: local.username || 'postgres', password: 'x', database_name: customerDb, sslmode: 'disable' };
    const created = await api('POST', '/v1/integrations', { integration_type: 'POSTGRESQL', name: 'recovery', credential });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.id as string;
    const first = (created.body.sync as { id: string }).id;
    await eventually('the first sync to complete', async () => (await api('GET', `/v1/syncs/${first}`)).body.status === 'COMPLETED', { timeoutMs: 60_000 });

    // A sync row with no job anywhere (not in the outbox, not in JOBS_SYNC): what a lost job leaves behind.
    const lost = randomUUID();
    await sql(
      sys.databaseUrl,
      `INSERT INTO sync_worker.syncs (id, tenant_id, integration_id, status, trigger, target, heartbeat_at)
       SELECT $1, tenant_id, integration_id, 'STARTED', 'manual', '{"type":"POSTGRESQL"}', now() - interval '1 hour' FROM sync_worker.syncs WHERE id = $2`,
      [lost, first],
    );
    const blocked = await api('POST', `/v1/integrations/${id}/syncs`);
    assert.equal(blocked.status, 409);
    assert.match(String(blocked.body.detail), new RegExp(lost));

    const done = await eventually('the lost sync to be sent again and complete', async () => {
      const s = await api('GET', `/v1/syncs/${lost}`);
      return s.body.status === 'COMPLETED' ? s.body : undefined;
    }, { timeoutMs: 60_000 });
    assert.deepEqual(done.error, null);
    const row = await sql(sys.databaseUrl, 'SELECT job_generation, recoveries FROM sync_worker.syncs WHERE id = $1', [lost]);
    assert.deepEqual(row.rows[0], { job_generation: 1, recoveries: 1 });

    const again = await api('POST', `/v1/integrations/${id}/syncs`);
    assert.equal(again.status, 202, 'no permanent 409');
  });
});
