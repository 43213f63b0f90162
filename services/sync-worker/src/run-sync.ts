/**
 * The sync job: claim the sync, fetch the credential (the only path to
 * plaintext), discover the catalog, store it, compare it with the previous
 * one and announce the result. Safe to run again for the same sync.
 */
import { ConnectionFailure, diffCatalogs, discover, targetPolicyFrom } from '@switchyard/connectors';
import {
  credentialRequests,
  integrationRequests,
  PostgresCredential,
  type Catalog,
  type SyncJob,
} from '@switchyard/contracts';
import { AppError, isAppError, withTransaction, writeEvent, type JobContext, type JobFailure, type Runtime } from '@switchyard/kit';
import type { Config } from './config.ts';
import { latestSnapshotId, loadSnapshot, saveChanges, saveSnapshot } from './repo/catalogs.ts';
import { markProcessing, recordProgress } from './repo/syncs.ts';
import { endSync, endSyncIn, SOURCE } from './syncs.ts';

// schema.changed carries at most this many changes; the rest are in GET …/schema/changes.
const EVENT_CHANGES = 1_000;
const PROGRESS_EVERY_MS = 1_000;

class Cancelled extends Error {}

export const runSync = (rt: Runtime, config: Config) => {
  const policy = targetPolicyFrom(config);
  return async (job: SyncJob, ctx: JobContext): Promise<void> => {
    const claimed = await markProcessing(rt.pool, job.sync_id);
    if (!claimed) return ctx.log.info({ sync_id: job.sync_id }, 'sync already ended; job dropped');
    const log = ctx.log.child({ sync_id: job.sync_id, integration_id: job.integration_id, tenant_id: job.tenant_id });

    let integration;
    try {
      integration = await rt.rpc.request(integrationRequests.get, { tenant_id: job.tenant_id, id: job.integration_id });
    } catch (err) {
      if (isAppError(err) && err.code === 'NOT_FOUND') {
        await endSync(rt.pool, job.sync_id, 'CANCELLED', { error: { code: 'INTEGRATION_DELETED', message: 'the integration was deleted' } });
        return;
      }
      throw err;
    }
    if (integration.status !== 'CONNECTED') {
      await endSync(rt.pool, job.sync_id, 'CANCELLED', {
        error: { code: 'INTEGRATION_DISCONNECTED', message: 'the integration was disconnected' },
      });
      return;
    }

    let secret;
    try {
      ({ secret } = await rt.rpc.request(credentialRequests.reveal, { tenant_id: job.tenant_id, integration_id: job.integration_id }));
    } catch (err) {
      // Deleted meanwhile: its credential goes first, then the integration.
      if (isAppError(err) && err.code === 'NOT_FOUND') {
        await endSync(rt.pool, job.sync_id, 'CANCELLED', { error: { code: 'INTEGRATION_DELETED', message: 'the integration was deleted' } });
        return;
      }
      throw err;
    }
    const credential = PostgresCredential.parse(secret);

    const abort = new AbortController();
    let progressChain = Promise.resolve();
    let lastEvent = 0;
    const onProgress = (done: number, total: number) => {
      ctx.working();
      progressChain = progressChain.then(async () => {
        const now = Date.now();
        const announce = now - lastEvent >= PROGRESS_EVERY_MS || done === total;
        const sync = await withTransaction(rt.pool, async (tx) => {
          const s = await recordProgress(tx, job.sync_id, done, total);
          if (s && announce) await writeEvent(tx, SOURCE, 'events.sync.progress', { sync: s }, { tenantId: job.tenant_id, about: job.sync_id });
          return s;
        });
        if (announce) lastEvent = now;
        if (!sync) abort.abort(new Cancelled('sync cancelled'));
      }).catch((err) => log.warn({ err }, 'progress not recorded'));
    };
    // A discovery query can run for a while without progress: keep the heartbeat fresh for the sweeper.
    const heartbeat = setInterval(() => void recordProgressHeartbeat(rt, job.sync_id), Math.max(1_000, config.SYNC_ACK_WAIT_MS / 3));

    let catalog: Catalog;
    try {
      catalog = await discover(credential, {
        schemas: integration.config.schemas,
        timeoutMs: config.SYNC_CONNECT_TIMEOUT_MS,
        queryTimeoutMs: config.SYNC_QUERY_TIMEOUT_MS,
        batchSize: config.SYNC_DISCOVERY_BATCH_SIZE,
        policy,
        onProgress,
        // Cancelled by a user (abort) or by this worker shutting down (ctx.signal: the job is handed back).
        signal: AbortSignal.any([abort.signal, ctx.signal]),
      });
      await progressChain;
    } catch (err) {
      await progressChain;
      if (abort.signal.aborted) return log.info('sync cancelled while discovering');
      if (ctx.signal.aborted) throw err;
      if (err instanceof ConnectionFailure)
        throw new AppError('CONNECTION_FAILED', err.message, { details: { reason: err.reason }, retryable: err.retryable, cause: err });
      throw err;
    } finally {
      clearInterval(heartbeat);
    }
    if (abort.signal.aborted) return log.info('sync cancelled');

    const previousId = await latestSnapshotId(rt.pool, job.tenant_id, job.integration_id);
    const previous = previousId && previousId !== job.sync_id ? await loadSnapshot(rt.pool, previousId) : undefined;
    const changes = previous ? diffCatalogs(previous, catalog) : [];
    const summary = {
      schemas: catalog.schemas.length,
      relations: catalog.relations.length,
      columns: catalog.relations.reduce((n, r) => n + r.columns.length, 0),
      changes: changes.length,
    };

    // Snapshot, drift, events and COMPLETED commit together, with the row locked:
    // a cancel either wins before this (and nothing is stored) or sees COMPLETED.
    const done = await withTransaction(rt.pool, async (tx) => {
      const { rows } = await tx.query<{ status: string }>('SELECT status FROM syncs WHERE id = $1 FOR UPDATE', [job.sync_id]);
      if (rows[0]?.status !== 'PROCESSING') return false;
      await saveSnapshot(tx, { syncId: job.sync_id, tenantId: job.tenant_id, integrationId: job.integration_id }, catalog);
      if (previousId && changes.length) {
        await saveChanges(tx, { syncId: job.sync_id, previousSyncId: previousId, tenantId: job.tenant_id, integrationId: job.integration_id, changes });
        await writeEvent(
          tx,
          SOURCE,
          'events.schema.changed',
          {
            integration_id: job.integration_id,
            tenant_id: job.tenant_id,
            sync_id: job.sync_id,
            previous_sync_id: previousId,
            changes: changes.slice(0, EVENT_CHANGES),
            total: changes.length,
            truncated: changes.length > EVENT_CHANGES,
          },
          { tenantId: job.tenant_id, about: job.integration_id },
        );
      }
      await endSyncIn(tx, job.sync_id, 'COMPLETED', { summary });
      return true;
    });
    log.info({ ...summary, attempt: ctx.attempt }, done ? 'sync completed' : 'sync ended elsewhere; result dropped');
  };
};

async function recordProgressHeartbeat(rt: Runtime, syncId: string) {
  await rt.pool.query(`UPDATE syncs SET heartbeat_at = clock_timestamp() WHERE id = $1 AND status = 'PROCESSING'`, [syncId]).catch(() => {});
}

/** A job given up (permanent error, or out of deliveries): the sync fails with its reason. */
export const failSync = (rt: Runtime) => async (payload: unknown, failure: JobFailure) => {
  const job = payload as Partial<SyncJob> | null;
  if (!job?.sync_id) return;
  const reason = typeof failure.error.details?.reason === 'string' ? failure.error.details.reason : failure.error.code;
  await endSync(rt.pool, job.sync_id, 'FAILED', { error: { code: reason, message: failure.error.message } });
};
