/** Starting and ending syncs: the state change and its event (and job) always commit together. */
import { randomUUID } from 'node:crypto';
import { createdSyncId, jobSubject, type Sync, type SyncJob, type SyncTarget, type SyncTrigger } from '@switchyard/contracts';
import { AppError, withTransaction, writeEvent, writeMessage, type Pool, type PoolClient } from '@switchyard/kit';
import { findActive, findSilent, finishSync, insertSync, markWaiting } from './repo/syncs.ts';

export const SOURCE = 'switchyard/sync-worker';

const isActiveConflict = (err: unknown) =>
  (err as { code?: string; constraint?: string })?.code === '23505' && (err as { constraint?: string }).constraint === 'syncs_one_active';

/**
 * Creates a sync (STARTED), its job and its started event. The first sync of
 * an integration has a deterministic id, so starting it twice starts it once.
 */
export async function startSync(
  pool: Pool,
  req: { tenant_id: string; integration_id: string; integration: SyncTarget; trigger: SyncTrigger; sync_id?: string },
): Promise<Sync> {
  const id = req.sync_id ?? (req.trigger === 'created' ? createdSyncId(req.integration_id) : randomUUID());
  try {
    return await withTransaction(pool, async (tx) => {
      const { sync, created } = await insertSync(tx, {
        id,
        tenantId: req.tenant_id,
        integrationId: req.integration_id,
        trigger: req.trigger,
      });
      if (created) {
        const job: SyncJob = { sync_id: id, integration_id: req.integration_id, tenant_id: req.tenant_id, integration: req.integration };
        await writeMessage(tx, jobSubject('sync', job), job, id);
        await writeEvent(tx, SOURCE, 'events.sync.started', { sync, trigger: req.trigger }, { tenantId: req.tenant_id, about: id });
      }
      return sync;
    });
  } catch (err) {
    if (!isActiveConflict(err)) throw err;
    const active = await findActive(pool, req.integration_id);
    throw new AppError('CONFLICT', `sync ${active?.id ?? '(unknown)'} is already ${active?.status.toLowerCase() ?? 'active'} for this integration`, {
      details: { active_sync_id: active?.id },
    });
  }
}

const ENDED = {
  COMPLETED: 'events.sync.completed',
  FAILED: 'events.sync.failed',
  CANCELLED: 'events.sync.cancelled',
} as const;

/** Ends an active sync and announces it, in the caller's transaction; undefined when it had already ended. */
export async function endSyncIn(
  tx: PoolClient,
  id: string,
  status: keyof typeof ENDED,
  extra: Parameters<typeof finishSync>[3] = {},
): Promise<Sync | undefined> {
  const sync = await finishSync(tx, id, status, extra);
  if (sync) await writeEvent(tx, SOURCE, ENDED[status], { sync }, { tenantId: sync.tenant_id, about: id });
  return sync;
}

export const endSync = (pool: Pool, ...args: Parameters<typeof endSyncIn> extends [unknown, ...infer R] ? R : never) =>
  withTransaction(pool, (tx) => endSyncIn(tx, ...args));

/** Fails the syncs whose worker has been silent for `silentMs` (it died and its job will not come back). */
export async function failSilentSyncs(pool: Pool, silentMs: number): Promise<Sync[]> {
  const silent = await findSilent(pool, silentMs);
  const failed = await Promise.all(
    silent.map((s) =>
      endSync(pool, s.id, 'FAILED', {
        error: { code: 'WORKER_LOST', message: 'the worker running this sync stopped and no other worker took it over' },
      }),
    ),
  );
  return failed.filter((s): s is Sync => s !== undefined);
}

/**
 * A sync whose attempt failed and will be tried again waits as STARTED: the
 * sweeper watches PROCESSING syncs only, so a long backoff is not taken for a
 * dead worker.
 */
export const waitForRetry = (pool: Pool, syncId: string): Promise<void> => markWaiting(pool, syncId);
