import type { Sync } from '@switchyard/contracts';
import { withTransaction, type EventHandler, type Pool } from '@switchyard/kit';
import { syncDuration, syncs } from '../metrics.ts';
import { observe } from '../repo/health.ts';
import { firstTime } from '../repo/processed.ts';
import { addToRollups } from '../repo/rollups.ts';

type Outcome = 'started' | 'completed' | 'failed' | 'cancelled';

const durationOf = (s: Sync): number | null =>
  s.started_at && s.finished_at ? Math.max(0, new Date(s.finished_at).getTime() - new Date(s.started_at).getTime()) : null;

/**
 * events.sync.started|completed|failed|cancelled: each counted once into the
 * rollups of its integration (duration and relations discovered of a
 * completed sync, the error code of a failed one); a completed or failed sync
 * also feeds the integration's health.
 */
export const onSync =
  <S extends `events.sync.${Outcome}`>({ pool }: { pool: Pool }, outcome: Outcome): EventHandler<S> =>
  async (event) => {
    const { sync } = event.data as { sync: Sync };
    if (sync.tenant_id !== event.tenantid) return;
    const finished = outcome === 'completed' || outcome === 'failed';
    const at = new Date((outcome === 'started' ? sync.created_at : sync.finished_at) ?? event.time);
    const duration = outcome === 'completed' ? durationOf(sync) : null;
    const counted = await withTransaction(pool, async (tx) => {
      if (!(await firstTime(tx, event.id))) return false;
      await addToRollups(tx, {
        integrationId: sync.integration_id,
        tenantId: sync.tenant_id,
        at,
        [outcome]: 1,
        durationMs: duration,
        relations: outcome === 'completed' ? (sync.summary?.relations ?? null) : null,
        errorCode: outcome === 'failed' ? (sync.error?.code ?? 'UNKNOWN') : null,
      });
      if (finished)
        await observe(tx, {
          integrationId: sync.integration_id,
          tenantId: sync.tenant_id,
          observation: { kind: 'sync', ok: outcome === 'completed', latencyMs: durationOf(sync), errorCode: sync.error?.code ?? null },
          message: sync.error?.message ?? null,
          trigger: sync.trigger,
          at,
        });
      return true;
    });
    if (!counted) return;
    syncs().add(1, { outcome });
    if (duration !== null) syncDuration().record(duration / 1_000);
  };
