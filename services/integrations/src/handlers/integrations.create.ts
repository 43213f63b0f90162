import { randomUUID } from 'node:crypto';
import {
  createdSyncId,
  credentialRequests,
  syncRequests,
  syncTargetOf,
  type CreatedIntegration,
  type CreateIntegrationBody,
  type integrationRequests,
} from '@switchyard/contracts';
import { idempotent, withTransaction, writeEvent, type Handler, type IdempotentRun } from '@switchyard/kit';
import { verifyCredential } from '../connection.ts';
import { insertIntegration, targetOf } from '../repo/integrations.ts';
import { SOURCE, type Deps } from './deps.ts';

/**
 * integrations.create: validates the credential with a real connection, stores
 * it encrypted (in the credentials service), records the integration and
 * announces it, then starts its first sync. The sync's id is deterministic, so
 * if the start request is lost the sync-worker still starts the same sync from
 * the created event. With an Idempotency-Key, the answer is stored with the
 * integration in one transaction: a retry (after a gateway crash or a caller's
 * timeout) gets the same integration, never a second one.
 */
export const create =
  (d: Deps): Handler<typeof integrationRequests.create> =>
  async ({ tenant_id, body, idempotency }, ctx) => {
    if (!idempotency) return createIntegration(d, tenant_id, body);
    const { result, replayed } = await idempotent<CreatedIntegration>(
      d.pool,
      { tenantId: tenant_id, scope: ctx.subject, ref: idempotency, deadline: ctx.deadline },
      (run) => createIntegration(d, tenant_id, body, run),
    );
    if (replayed) ctx.meta = { replayed };
    return result;
  };

async function createIntegration(
  { pool, rpc, log, limits }: Deps,
  tenant_id: string,
  body: CreateIntegrationBody,
  run?: IdempotentRun<CreatedIntegration>,
): Promise<CreatedIntegration> {
  const { credential } = body;
  await verifyCredential(tenant_id, credential, limits);
  const id = randomUUID();
  await rpc.request(credentialRequests.store, { tenant_id, integration_id: id, secret: credential });
  let integration;
  try {
    integration = await withTransaction(pool, async (tx) => {
      const created = await insertIntegration(tx, {
        id,
        tenantId: tenant_id,
        name: body.name ?? `${credential.database_name} on ${credential.host}`,
        config: body.config ?? {},
        target: targetOf(credential),
      });
      await writeEvent(tx, SOURCE, 'events.integration.created', { integration: created }, { tenantId: tenant_id, about: id });
      await run?.complete(tx, { ...created, sync: { id: createdSyncId(id), status: 'STARTED' } });
      return created;
    });
  } catch (err) {
    // Nothing refers to the stored credential: remove it rather than leave an orphan.
    await rpc.request(credentialRequests.delete, { tenant_id, integration_id: id }).catch((e: unknown) =>
      log.warn({ err: e, integration_id: id }, 'could not delete the credential of an integration that was not created'),
    );
    throw err;
  }
  try {
    const sync = await rpc.request(syncRequests.start, { tenant_id, integration_id: integration.id, integration: syncTargetOf(integration), trigger: 'created' });
    return { ...integration, sync: { id: sync.id, status: sync.status } };
  } catch (err) {
    log.warn({ err, integration_id: id }, 'first sync not started now; the created event will start it');
    return { ...integration, sync: { id: createdSyncId(id), status: 'STARTED' as const } };
  }
}
