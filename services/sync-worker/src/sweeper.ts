/**
 * No sync stays active without a job that will run it. An active sync blocks
 * every other start of its integration (409), so one whose job is gone (acked
 * by a worker that lost a race, dead-lettered while PostgreSQL was down,
 * purged) would block it forever.
 *
 * The sweeper looks at each active sync nobody has heard from for `silentMs`
 * (3 × SYNC_ACK_WAIT_MS: longer than any retry backoff), one at a time, its row
 * locked, and asks where its job is:
 *
 * - still in the outbox, or in the JOBS_SYNC stream (queued behind others,
 *   waiting out a backoff, or its worker died and JetStream will deliver it
 *   again): the sync waits for it as STARTED and is looked at again later;
 * - gone: its job is written again through the outbox as the next generation
 *   (at most `maxRecoveries` times, then it fails with JOB_LOST). A delivery of
 *   the old generation that turns up later cannot claim it (repo/claims.ts),
 *   so a wrong "gone" costs a dropped duplicate, never a second run;
 * - a PROCESSING sync whose final attempt's worker went quiet has spent its
 *   attempts: it fails with WORKER_LOST.
 */
import { randomUUID } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { jobSubject, streams, type Sync, type SyncJob } from '@switchyard/contracts';
import { withTransaction, writeMessage, type Logger, type NatsConnection, type Pool, type PoolClient } from '@switchyard/kit';
import { expectNextJob, jobInOutbox, markJobQueued, nextQuietSync, syncJobSubject, type QuietSync } from './repo/sweep.ts';
import { endSyncIn } from './syncs.ts';

/** Where sync jobs wait: whether it holds a job of an integration. Throws when it cannot tell (NATS down). */
export interface JobQueue {
  holdsJobOf(integrationId: string): Promise<boolean>;
}

/**
 * The JetStream work queue: a job stays in it from publication until a
 * delivery is acked or terminated (waiting, delivered, or backing off after a
 * nak). Asked through the stream's per-subject counts, the state the
 * sync-worker's NATS user may read (never the messages themselves). A job
 * found there may be an older one (another generation, an ended sync): it is
 * delivered, dropped and acked soon, and the next sweep sees the truth.
 */
export function jetStreamJobQueue(nc: NatsConnection, stream: string = streams.syncJobs.name): JobQueue {
  return {
    async holdsJobOf(integrationId) {
      const jsm = await jetstreamManager(nc);
      const subject = syncJobSubject(integrationId);
      const info = await jsm.streams.info(stream, { subjects_filter: subject });
      return (info.state.subjects?.[subject] ?? 0) > 0;
    },
  };
}

export interface SweepOptions {
  silentMs: number;
  /** Deliveries a job gets (SYNC_MAX_DELIVER). */
  maxDeliver: number;
  queue: JobQueue;
  log: Logger;
  /** Times a lost job is written again before its sync fails instead. */
  maxRecoveries?: number;
  /** Syncs looked at per sweep. */
  limit?: number;
}

export interface SweepResult {
  waiting: string[];
  requeued: string[];
  failed: Sync[];
}

type Outcome = { kind: 'waiting' } | { kind: 'requeued' } | { kind: 'failed'; sync?: Sync };

export async function sweepSyncs(pool: Pool, o: SweepOptions): Promise<SweepResult> {
  const result: SweepResult = { waiting: [], requeued: [], failed: [] };
  for (let n = 0; n < (o.limit ?? 100); n++) {
    const more = await withTransaction(pool, async (tx) => {
      const s = await nextQuietSync(tx, o.silentMs);
      if (!s) return false;
      const outcome = await settle(tx, s, o);
      if (outcome.kind === 'failed') {
        if (outcome.sync) result.failed.push(outcome.sync);
      } else result[outcome.kind].push(s.id);
      return true;
    });
    if (!more) break;
  }
  return result;
}

async function settle(tx: PoolClient, s: QuietSync, o: SweepOptions): Promise<Outcome> {
  const fail = async (code: string, message: string): Promise<Outcome> => {
    o.log.warn({ sync_id: s.id, integration_id: s.integration_id, code }, `sync failed by the sweeper: ${message}`);
    return { kind: 'failed', sync: await endSyncIn(tx, s.id, 'FAILED', { error: { code, message } }) };
  };
  if (s.status === 'PROCESSING' && s.claimed_delivery >= o.maxDeliver)
    return fail('WORKER_LOST', 'the worker running its final attempt stopped and no other worker took it over');

  if ((await jobInOutbox(tx, s)) || (await o.queue.holdsJobOf(s.integration_id))) {
    await markJobQueued(tx, s.id);
    return { kind: 'waiting' };
  }
  if (!s.target) return fail('JOB_LOST', 'its job was lost (the sync started before lost jobs could be sent again)');
  if (s.recoveries >= (o.maxRecoveries ?? 3)) return fail('JOB_LOST', `its job was lost ${s.recoveries + 1} times`);

  const generation = await expectNextJob(tx, s.id);
  const next: SyncJob = { sync_id: s.id, integration_id: s.integration_id, tenant_id: s.tenant_id, integration: s.target, generation };
  await writeMessage(tx, jobSubject('sync', next), next, randomUUID());
  o.log.warn({ sync_id: s.id, integration_id: s.integration_id, generation }, 'sync job lost: sent again');
  return { kind: 'requeued' };
}
