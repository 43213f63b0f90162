import { credentialRequests, PostgresCredential, type integrationRequests } from '@switchyard/contracts';
import type { Handler } from '@switchyard/kit';
import { tryConnection } from '../connection.ts';
import { getIntegration } from '../repo/integrations.ts';
import type { Deps } from './deps.ts';

/** integrations.test_connection: connects with the stored credential; a failure is an answer (ok: false, reason), not an error. */
export const testConnection =
  ({ pool, rpc, limits }: Pick<Deps, 'pool' | 'rpc' | 'limits'>): Handler<typeof integrationRequests.test> =>
  async ({ tenant_id, id }) => {
    await getIntegration(pool, tenant_id, id);
    const { secret } = await rpc.request(credentialRequests.reveal, { tenant_id, integration_id: id });
    return tryConnection(tenant_id, PostgresCredential.parse(secret), limits);
  };
