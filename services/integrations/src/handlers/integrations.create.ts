import { randomUUID } from 'node:crypto';
import { createdSyncId, credentialRequests, syncRequests, syncTargetOf, type integrationRequests } from '@switchyard/contracts';
import { withTransaction, writeEvent, type Handler } from '@switchyard/kit';
import { verifyCredential } from '../connection.ts';
import { insertIntegration, targetOf } from '../repo/integrations.ts';
import { SOURCE, type Deps } from './deps.ts';

/**
 * integrations.create: validates the credential with a real connection, stores
 * it encrypted (in the credentials service), records the integration and
 * announces it, then starts its first sync. The sync's id is deterministic, so
 * if the start request is lost the sync-worker still starts the same sync from
 * the created event.
 */
export const create =
  ({ pool, rpc, log, limits }: Deps): Handler<typeof integrationRequests.create> =>
  async ({ tenant_id, body }) => {
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
        return created;
      });
    } catch (err) {
      // Nothing refers to the stored credential: remove it rather than leave an orphan.
      await rpc.request(credentialRequests.delete, { tenant_id, integration_id: id }).catch(() => {});
      throw err;
    }
    try {
      const sync = await rpc.request(syncRequests.start, { tenant_id, integration_id: integration.id, integration: syncTargetOf(integration), trigger: 'created' });
      return { ...integration, sync: { id: sync.id, status: sync.status } };
    } catch (err) {
      log.warn({ err, integration_id: id }, 'first sync not started now; the created event will start it');
      return { ...integration, sync: { id: createdSyncId(id), status: 'STARTED' as const } };
    }
  };
