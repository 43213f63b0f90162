import { credentialRequests, PostgresCredential, type ConnectionTest, type integrationRequests, type TestTrigger } from '@switchyard/contracts';
import { withTransaction, writeEvent, type Handler, type Pool } from '@switchyard/kit';
import { tryConnection } from '../connection.ts';
import { getIntegration } from '../repo/integrations.ts';
import { SOURCE, type Deps } from './deps.ts';

/**
 * integrations.test_connection: connects with the stored credential; a failure
 * is an answer (ok: false, reason), not an error. Every test is announced
 * (events.integration.connection_tested), whoever asked: the monitor records
 * health and latency from these events, its periodic checks included.
 */
export const testConnection =
  ({ pool, rpc, limits }: Pick<Deps, 'pool' | 'rpc' | 'limits'>): Handler<typeof integrationRequests.test> =>
  async ({ tenant_id, id, trigger }) => {
    await getIntegration(pool, tenant_id, id);
    const { secret } = await rpc.request(credentialRequests.reveal, { tenant_id, integration_id: id });
    const result = await tryConnection(tenant_id, PostgresCredential.parse(secret), limits);
    await announce(pool, tenant_id, id, trigger, result);
    return result;
  };

async function announce(pool: Pool, tenantId: string, id: string, trigger: TestTrigger, result: ConnectionTest) {
  await withTransaction(pool, (tx) =>
    writeEvent(
      tx,
      SOURCE,
      'events.integration.connection_tested',
      {
        integration_id: id,
        tenant_id: tenantId,
        ok: result.ok,
        latency_ms: result.ok ? result.latency_ms : null,
        reason: result.ok ? null : result.reason,
        message: result.ok ? null : result.message,
        trigger,
        tested_at: new Date().toISOString(),
      },
      { tenantId, about: id },
    ),
  );
}
