/**
 * The integration lifecycle consumers act only on what the event's tenant
 * owns: an event about another tenant's integration changes nothing here.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Integration, SyncTarget } from '@switchyard/contracts';
import { createPool, KIT_MIGRATIONS, migrate, type JobContext, type Pool } from '@switchyard/kit';
import { dropSchema, testConfig, testEvent, testLogger, uniqueName } from '@switchyard/kit/testing';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { findActive } from '../repo/syncs.ts';
import { startSync } from '../syncs.ts';
import { onCreated } from './integration.created.ts';
import { onDeleted } from './integration.deleted.ts';
import { onDisconnected } from './integration.disconnected.ts';

const config = testConfig();
const schema = uniqueName('sync_worker_events');
const target: SyncTarget = { type: 'POSTGRESQL' };
let pool: Pool;
const ctx = {} as JobContext;

const envelope = testEvent;

const integrationOf = (id: string, tenant: string): Integration => ({
  id,
  tenant_id: tenant,
  integration_type: 'POSTGRESQL',
  name: 'orders',
  status: 'CONNECTED',
  config: {},
  target: { host: 'db', port: 5432, database_name: 'orders', username: 'u' },
  created_at: new Date().toISOString(),
  updated_at: new Date().toISOString(),
});

beforeAll(async () => {
  await migrate({ url: config.DATABASE_URL, schema, dir: [KIT_MIGRATIONS, fileURLToPath(new URL('../../migrations', import.meta.url))], log: testLogger() });
  pool = createPool({ url: config.DATABASE_URL, schema, max: 4, applicationName: 'sync-worker-events-test' });
});
afterAll(async () => {
  await pool?.end();
  await dropSchema(config.DATABASE_URL, schema);
});

describe('integration events are checked against the tenant that owns the sync', () => {
  test("another tenant's deleted or disconnected event does not cancel a sync; the owner's does", async () => {
    const integrationId = randomUUID();
    const active = await startSync(pool, { tenant_id: 'owner', integration_id: integrationId, integration: target, trigger: 'manual' });
    await onDeleted({ pool })(envelope('events.integration.deleted', 'intruder', { integration_id: integrationId, tenant_id: 'intruder' }), ctx);
    await onDisconnected({ pool })(envelope('events.integration.disconnected', 'intruder', { integration: integrationOf(integrationId, 'intruder') }), ctx);
    assert.equal((await findActive(pool, integrationId))?.id, active.id, 'still active');
    await onDeleted({ pool })(envelope('events.integration.deleted', 'owner', { integration_id: integrationId, tenant_id: 'owner' }), ctx);
    assert.equal(await findActive(pool, integrationId), undefined, 'cancelled by its own tenant');
  });

  test('a created event whose envelope names another tenant than its record starts nothing', async () => {
    const integrationId = randomUUID();
    await onCreated({ pool })(envelope('events.integration.created', 'intruder', { integration: integrationOf(integrationId, 'owner') }), ctx);
    assert.equal(await findActive(pool, integrationId), undefined);
    await onCreated({ pool })(envelope('events.integration.created', 'owner', { integration: integrationOf(integrationId, 'owner') }), ctx);
    assert.ok(await findActive(pool, integrationId), 'the consistent event starts the first sync');
  });
});
