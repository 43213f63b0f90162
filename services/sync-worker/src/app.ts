import { fileURLToPath } from 'node:url';
import { targetPolicyFrom } from '@switchyard/connectors';
import { consumers, SyncJob, syncRequests } from '@switchyard/contracts';
import { exponentialBackoff, type Handlers, type Runtime } from '@switchyard/kit';
import { Config } from './config.ts';
import { onCreated } from './events/integration.created.ts';
import { onDeleted } from './events/integration.deleted.ts';
import { onDisconnected } from './events/integration.disconnected.ts';
import type { Deps } from './handlers/deps.ts';
import { changeSet } from './handlers/sync-worker.schema.changes.get.ts';
import { changes } from './handlers/sync-worker.schema.changes.ts';
import { schema } from './handlers/sync-worker.schema.get.ts';
import { cancel } from './handlers/sync-worker.syncs.cancel.ts';
import { cancelActive } from './handlers/sync-worker.syncs.cancel_active.ts';
import { get } from './handlers/sync-worker.syncs.get.ts';
import { latest } from './handlers/sync-worker.syncs.latest.ts';
import { list } from './handlers/sync-worker.syncs.list.ts';
import { start } from './handlers/sync-worker.syncs.start.ts';
import { replaySync } from './jobs/replay.ts';
import { failSync, runSync } from './jobs/sync.ts';
import { jetStreamJobQueue, sweepSyncs } from './sweeper.ts';
import { waitForRetry } from './syncs.ts';

export const definition = {
  service: 'sync-worker',
  configSchema: Config,
  migrationsDir: fileURLToPath(new URL('../migrations', import.meta.url)),
} as const;

/** The request handlers, keyed as the contract's catalog: a missing or mistyped one does not compile. */
export const handlers = (d: Deps): Handlers<typeof syncRequests> => ({
  start: start(d),
  get: get(d),
  list: list(d),
  latest: latest(d),
  cancel: cancel(d),
  cancelActive: cancelActive(d),
  schema: schema(d),
  changes: changes(d),
  changeSet: changeSet(d),
});

export async function buildApp(rt: Runtime, config: Config): Promise<void> {
  const { pool } = rt;
  rt.startOutbox();
  rt.serve(syncRequests, handlers({ pool }));
  const syncJobs = rt.runJobs({
    consumer: consumers.syncWorker,
    schema: SyncJob,
    concurrency: config.SYNC_CONCURRENCY,
    handler: runSync({ pool, rpc: rt.rpc, config, policy: targetPolicyFrom(config) }),
    backoffMs: exponentialBackoff(2_000, 60_000),
    onRetry: (job, _error, _delay, attempt) => waitForRetry(pool, { syncId: job.sync_id, generation: job.generation, delivery: attempt }),
    onGiveUp: failSync(pool),
    requeue: replaySync(pool),
  });
  rt.consume(consumers.syncWorkerIntegrationEvents, {
    'events.integration.created': onCreated({ pool }),
    'events.integration.deleted': onDeleted({ pool }),
    'events.integration.disconnected': onDisconnected({ pool }),
  });

  // No active sync without a job that will run it (see sweeper.ts). Quiet for three ack waits (the
  // consumer's, as provisioned): longer than any retry backoff (60 s at most) and than a redelivery after a worker died.
  let sweep: NodeJS.Timeout | undefined;
  const queue = jetStreamJobQueue(rt.nc, consumers.syncWorker.stream);
  void syncJobs.ready.then(({ ackWaitMs, maxDeliver }) => {
    const silentMs = ackWaitMs * 3;
    sweep = setInterval(
      () => void sweepSyncs(pool, { silentMs, maxDeliver, queue, log: rt.log }).catch((err) => rt.log.warn({ err }, 'sweep failed')),
      Math.min(silentMs, 30_000),
    );
    sweep.unref();
  });
  rt.shutdown.on('stop-intake', 'sync sweeper', () => clearInterval(sweep));
}
