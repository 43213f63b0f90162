import { fileURLToPath } from 'node:url';
import { consumers, SyncJob, syncRequests } from '@switchyard/contracts';
import { exponentialBackoff, provision, type Runtime } from '@switchyard/kit';
import { Config } from './config.ts';
import { IntegrationCloudEvent, onIntegrationEvent } from './handlers/integration-events.ts';
import { requestHandlers } from './handlers/requests.ts';
import { failSync, runSync } from './run-sync.ts';
import { failSilentSyncs, waitForRetry } from './syncs.ts';

export const definition = {
  service: 'sync-worker',
  configSchema: Config,
  migrationsDir: fileURLToPath(new URL('../migrations', import.meta.url)),
} as const;

export async function buildApp(rt: Runtime, config: Config): Promise<void> {
  const syncConsumer = { ...consumers.syncWorker, ackWaitMs: config.SYNC_ACK_WAIT_MS, maxDeliver: config.SYNC_MAX_DELIVER };
  await provision(rt.nc, { consumers: [syncConsumer, consumers.syncWorkerIntegrationEvents], replicas: config.NATS_STREAM_REPLICAS });

  rt.startOutbox();
  rt.serve(syncRequests, requestHandlers(rt));
  rt.runJobs({
    consumer: syncConsumer,
    schema: SyncJob,
    concurrency: config.SYNC_CONCURRENCY,
    handler: runSync(rt, config),
    backoffMs: exponentialBackoff(2_000, 60_000),
    onRetry: (job) => waitForRetry(rt.pool, job.sync_id),
    onGiveUp: failSync(rt),
  });
  rt.runJobs({
    consumer: consumers.syncWorkerIntegrationEvents,
    schema: IntegrationCloudEvent,
    concurrency: 4,
    handler: onIntegrationEvent(rt),
  });

  // A worker killed mid-sync is redelivered after the ack wait; one that never
  // comes back (deliveries used up) would leave the sync PROCESSING: fail it.
  const silentMs = config.SYNC_ACK_WAIT_MS * 3;
  const sweep = setInterval(
    () => void failSilentSyncs(rt.pool, silentMs).catch((err) => rt.log.warn({ err }, 'sweep failed')),
    Math.min(silentMs, 30_000),
  );
  sweep.unref();
  rt.shutdown.on('stop-intake', 'sync sweeper', () => clearInterval(sweep));
}
