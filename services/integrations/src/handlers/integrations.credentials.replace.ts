import { credentialRequests, type integrationRequests } from '@switchyard/contracts';
import { withTransaction, writeEvent, type Handler } from '@switchyard/kit';
import { verifyCredential } from '../connection.ts';
import { getIntegration, targetOf, updateIntegration } from '../repo/integrations.ts';
import { SOURCE, type Deps } from './deps.ts';

/** integrations.credentials.replace: the new credential must connect before it replaces the old one. */
export const replaceCredential =
  ({ pool, rpc, limits }: Pick<Deps, 'pool' | 'rpc' | 'limits'>): Handler<typeof integrationRequests.replaceCredential> =>
  async ({ tenant_id, id, credential }) => {
    await getIntegration(pool, tenant_id, id);
    await verifyCredential(tenant_id, credential, limits);
    const stored = await rpc.request(credentialRequests.store, { tenant_id, integration_id: id, secret: credential });
    return withTransaction(pool, async (tx) => {
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
