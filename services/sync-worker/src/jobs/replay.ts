import { nameUuid, SyncJob, type Requeued, type RequeueRequest } from '@switchyard/contracts';
import { AppError, type Pool } from '@switchyard/kit';
import { startSync } from '../syncs.ts';

/**
 * The sync-worker's way to replay a dead-lettered sync job. Its sync ended
 * FAILED when the job was given up, and a job is fenced on its sync (a
 * requeued copy would claim nothing), so a replay starts a new sync of the
 * same integration. Its id comes from the dead letter: replaying the same
 * letter twice answers the same sync.
 */
export const replaySync =
  (pool: Pool) =>
  async (payload: unknown, req: RequeueRequest): Promise<Requeued> => {
    const job = SyncJob.safeParse(payload);
    if (!job.success) throw new AppError('UNPROCESSABLE', 'the dead letter does not hold a sync job: there is nothing to replay');
    const { tenant_id, integration_id, integration } = job.data;
    const sync = await startSync(pool, {
      tenant_id,
      integration_id,
      integration,
      trigger: 'manual',
      sync_id: nameUuid(`switchyard:sync:replay:${req.dead_letter_id}`),
    });
    return { how: 'restarted', detail: `sync ${sync.id} of integration ${integration_id} (replacing ${job.data.sync_id})` };
  };
