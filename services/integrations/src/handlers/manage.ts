import {
  credentialRequests,
  PostgresCredential,
  syncRequests,
  type ConnectionTest,
  type Integration,
  type IntegrationConfig,
  type ListIntegrationsQuery,
  type Sync,
} from '@switchyard/contracts';
import { AppError, withTransaction, writeEvent } from '@switchyard/kit';
import { tryConnection, verifyCredential } from '../connection.ts';
import { deleteIntegration, getIntegration, listIntegrations, targetOf, updateIntegration } from '../repo/integrations.ts';
import { SOURCE, type Deps } from './deps.ts';

type One = { tenant_id: string; id: string };

export const listHandler =
  ({ rt }: Deps) =>
  ({ tenant_id, query }: { tenant_id: string; query: ListIntegrationsQuery }) =>
    listIntegrations(rt.pool, tenant_id, query);

export const getHandler =
  ({ rt }: Deps) =>
  ({ tenant_id, id }: One) =>
    getIntegration(rt.pool, tenant_id, id);

export const updateHandler =
  ({ rt }: Deps) =>
  ({ tenant_id, id, name, config }: One & { name?: string; config?: IntegrationConfig }): Promise<Integration> =>
    withTransaction(rt.pool, async (tx) => {
      const updated = await updateIntegration(tx, tenant_id, id, { name, config });
      await writeEvent(tx, SOURCE, 'events.integration.updated', { integration: updated }, { tenantId: tenant_id, about: id });
      return updated;
    });

/** Removes the credential first: if the credentials service is away, nothing is deleted and the caller may retry. */
export const deleteHandler =
  ({ rt }: Deps) =>
  async ({ tenant_id, id }: One): Promise<{ deleted: true }> => {
    await getIntegration(rt.pool, tenant_id, id);
    await rt.rpc.request(credentialRequests.delete, { tenant_id, integration_id: id });
    await withTransaction(rt.pool, async (tx) => {
      await deleteIntegration(tx, tenant_id, id);
      // The sync-worker cancels an active sync when it sees this.
      await writeEvent(tx, SOURCE, 'events.integration.deleted', { integration_id: id, tenant_id }, { tenantId: tenant_id, about: id });
    });
    return { deleted: true };
  };

const credentialOf = async (deps: Deps, tenant_id: string, id: string) => {
  const { secret } = await deps.rt.rpc.request(credentialRequests.reveal, { tenant_id, integration_id: id });
  return PostgresCredential.parse(secret);
};

export const testHandler =
  (deps: Deps) =>
  async ({ tenant_id, id }: One): Promise<ConnectionTest> => {
    await getIntegration(deps.rt.pool, tenant_id, id);
    return tryConnection(await credentialOf(deps, tenant_id, id), deps.limits);
  };

const setStatus = (deps: Deps, status: 'CONNECTED' | 'DISCONNECTED') =>
  async ({ tenant_id, id }: One): Promise<Integration> =>
    withTransaction(deps.rt.pool, async (tx) => {
      const current = await getIntegration(tx, tenant_id, id, true);
      if (current.status === status) return current;
      const updated = await updateIntegration(tx, tenant_id, id, { status });
      const subject = status === 'CONNECTED' ? 'events.integration.connected' : 'events.integration.disconnected';
      await writeEvent(tx, SOURCE, subject, { integration: updated }, { tenantId: tenant_id, about: id });
      return updated;
    });

export const connectHandler = (deps: Deps) => setStatus(deps, 'CONNECTED');
export const disconnectHandler = (deps: Deps) => setStatus(deps, 'DISCONNECTED');

/** Rotation: the new credential must connect before it replaces the old one. */
export const replaceCredentialHandler =
  ({ rt, limits }: Deps) =>
  async ({ tenant_id, id, credential }: One & { credential: PostgresCredential }): Promise<Integration> => {
    await getIntegration(rt.pool, tenant_id, id);
    await verifyCredential(credential, limits);
    const stored = await rt.rpc.request(credentialRequests.store, { tenant_id, integration_id: id, secret: credential });
    return withTransaction(rt.pool, async (tx) => {
      const updated = await updateIntegration(tx, tenant_id, id, { target: targetOf(credential) });
      await writeEvent(
        tx,
        SOURCE,
        'events.integration.credentials_rotated',
        { integration_id: id, tenant_id, version: stored.version },
        { tenantId: tenant_id, about: id },
      );
      return updated;
    });
  };

export const startSyncHandler =
  ({ rt }: Deps) =>
  async ({ tenant_id, id }: One): Promise<Sync> => {
    const integration = await getIntegration(rt.pool, tenant_id, id);
    if (integration.status !== 'CONNECTED')
      throw new AppError('CONFLICT', `integration ${id} is disconnected; connect it before syncing`);
    return rt.rpc.request(syncRequests.start, { tenant_id, integration_id: id, trigger: 'manual' });
  };
