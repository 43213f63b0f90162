import { withTransaction, type EventHandler, type Pool } from '@switchyard/kit';
import { connectionTestDuration, connectionTests } from '../metrics.ts';
import { observe } from '../repo/health.ts';
import { firstTime } from '../repo/processed.ts';
import { addToRollups } from '../repo/rollups.ts';

/**
 * events.integration.connection_tested: every connection test, the monitor's
 * periodic ones and anyone's, counted once into the rollups and fed to the
 * integration's health, in one transaction.
 */
export const onConnectionTested =
  ({ pool }: { pool: Pool }): EventHandler<'events.integration.connection_tested'> =>
  async (event) => {
    const t = event.data;
    if (t.tenant_id !== event.tenantid) return;
    const at = new Date(t.tested_at);
    const counted = await withTransaction(pool, async (tx) => {
      if (!(await firstTime(tx, event.id))) return false;
      await addToRollups(tx, {
        integrationId: t.integration_id,
        tenantId: t.tenant_id,
        at,
        test: { ok: t.ok, latencyMs: t.latency_ms },
        errorCode: t.ok ? null : t.reason,
      });
      await observe(tx, {
        integrationId: t.integration_id,
        tenantId: t.tenant_id,
        observation: { kind: 'connection_test', ok: t.ok, latencyMs: t.latency_ms, errorCode: t.reason },
        message: t.message,
        trigger: t.trigger,
        at,
      });
      return true;
    });
    if (!counted) return;
    connectionTests().add(1, { result: t.ok ? 'ok' : 'failed', trigger: t.trigger });
    if (t.ok && t.latency_ms !== null) connectionTestDuration().record(t.latency_ms / 1_000);
  };
