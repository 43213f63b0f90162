/**
 * The sync job, in named steps: claim the sync, reveal the credential (the
 * only path to plaintext), discover the catalog, then commit the snapshot,
 * its drift and the result together. Safe to run again for the same sync.
 * Every step after the claim holds it (repo/claims.ts): a delivery that lost
 * it stops, and leaves the message alone when a newer delivery holds it.
 */
import { ConnectionFailure, diffCatalogs, discover, type TargetPolicy } from '@switchyard/connectors';
import { credentialRequests, PostgresCredential, type Catalog, type SyncJob } from '@switchyard/contracts';
import { AppError, isAppError, JobSuperseded, withTransaction, writeEvent, type JobContext, type JobFailure, type Logger, type Pool, type RpcClient } from '@switchyard/kit';
import type { Config } from '../config.ts';
import { latestSnapshotId, loadSnapshot, saveSnapshot } from '../repo/catalogs.ts';
import { saveChanges } from '../repo/changes.ts';
import { claimSync, lockClaim, type Claim, type ClaimVerdict } from '../repo/claims.ts';
import { endSync, endSyncIn, SOURCE } from '../syncs.ts';
import { ProgressTracker } from './progress.ts';
import { schemaChanged } from './schema-changed.ts';

export interface SyncDeps {
  pool: Pool;
  rpc: RpcClient;
  config: Pick<Config, 'SYNC_CONNECT_TIMEOUT_MS' | 'SYNC_QUERY_TIMEOUT_MS' | 'SYNC_DISCOVERY_BATCH_SIZE'>;
  policy: TargetPolicy;
}

const deleted = { code: 'INTEGRATION_DELETED', message: 'the integration was deleted' };

/**
 * A claim that no longer holds ends this delivery: quietly (the job is acked)
 * when the sync ended or a newer job runs it, by leaving the message to the
 * newer delivery that holds it.
 */
function lost(verdict: Exclude<ClaimVerdict, 'held'>, log: Logger, what: string): void {
  if (verdict === 'superseded') throw new JobSuperseded(`a newer delivery holds the sync (${what})`);
  log.info({ verdict }, `${what}: the sync ${verdict === 'ended' ? 'ended' : 'runs under a newer job'}; job dropped`);
}

export const runSync = (d: SyncDeps) => async (job: SyncJob, ctx: JobContext): Promise<void> => {
  const claim: Claim = { syncId: job.sync_id, generation: job.generation, delivery: ctx.attempt };
  const log = ctx.log.child({ sync_id: job.sync_id, integration_id: job.integration_id, tenant_id: job.tenant_id, generation: job.generation });
  const claimed = await claimSync(d.pool, claim);
  if (claimed.verdict !== 'held') return lost(claimed.verdict, log, 'claim');

  const credential = await reveal(d, job);
  if (!credential) return void (await endSync(d.pool, job.sync_id, 'CANCELLED', { error: deleted }));

  const found = await discoverCatalog(d, job, claim, credential, ctx, log);
  if (!found.catalog) return lost(found.lost, log, 'discovery');

  const { verdict, summary } = await commit(d, job, claim, found.catalog);
  if (verdict !== 'held') return lost(verdict, log, 'result');
  log.info({ ...summary, attempt: ctx.attempt }, 'sync completed');
};

/** The credential, or undefined when it is gone (the integration was deleted: its credential goes first). */
async function reveal(d: SyncDeps, job: SyncJob): Promise<PostgresCredential | undefined> {
  try {
    const { secret } = await d.rpc.request(credentialRequests.reveal, { tenant_id: job.tenant_id, integration_id: job.integration_id });
    return PostgresCredential.parse(secret);
  } catch (err) {
    if (isAppError(err) && err.code === 'NOT_FOUND') return undefined;
    throw err;
  }
}

/** The customer's catalog, or how the claim was lost meanwhile (the sync cancelled, say). */
async function discoverCatalog(
  d: SyncDeps,
  job: SyncJob,
  claim: Claim,
  credential: PostgresCredential,
  ctx: JobContext,
  log: Logger,
): Promise<{ catalog: Catalog; lost?: undefined } | { catalog?: undefined; lost: Exclude<ClaimVerdict, 'held'> }> {
  const progress = new ProgressTracker({
    pool: d.pool,
    log,
    claim,
    tenantId: job.tenant_id,
    heartbeatMs: Math.max(1_000, ctx.ackWaitMs / 3),
    working: ctx.working,
  });
  let catalog: Catalog;
  try {
    catalog = await discover(credential, {
      schemas: job.integration.schemas,
      timeoutMs: d.config.SYNC_CONNECT_TIMEOUT_MS,
      queryTimeoutMs: d.config.SYNC_QUERY_TIMEOUT_MS,
      batchSize: d.config.SYNC_DISCOVERY_BATCH_SIZE,
      policy: d.policy,
      onProgress: progress.report,
      // Cancelled by a user (progress sees the sync ended) or by this worker shutting down (ctx.signal: the job is handed back).
      signal: AbortSignal.any([progress.cancelled.signal, ctx.signal]),
    });
  } catch (err) {
    await progress.settle();
    if (progress.lost) return { lost: progress.lost };
    if (ctx.signal.aborted) throw err;
    if (err instanceof ConnectionFailure)
      throw new AppError('CONNECTION_FAILED', err.message, { details: { reason: err.reason }, retryable: err.retryable, cause: err });
    throw err;
  }
  await progress.settle();
  return progress.lost ? { lost: progress.lost } : { catalog };
}

/**
 * Snapshot, drift, events and COMPLETED commit together, with the sync's row
 * locked and the claim still held: a cancel (or a newer delivery) either wins
 * before this (and nothing is stored) or sees COMPLETED.
 */
async function commit(d: SyncDeps, job: SyncJob, claim: Claim, catalog: Catalog) {
  const previousId = await latestSnapshotId(d.pool, job.tenant_id, job.integration_id);
  const previous = previousId && previousId !== job.sync_id ? await loadSnapshot(d.pool, previousId) : undefined;
  const changes = previous ? diffCatalogs(previous, catalog) : [];
  const summary = {
    schemas: catalog.schemas.length,
    relations: catalog.relations.length,
    columns: catalog.relations.reduce((n, r) => n + r.columns.length, 0),
    changes: changes.length,
  };
  const owner = { syncId: job.sync_id, tenantId: job.tenant_id, integrationId: job.integration_id };
  const verdict = await withTransaction(d.pool, async (tx) => {
    const held = await lockClaim(tx, claim);
    if (held !== 'held') return held;
    await saveSnapshot(tx, owner, catalog);
    if (previousId && changes.length) {
      await saveChanges(tx, { ...owner, previousSyncId: previousId, changes });
      await writeEvent(tx, SOURCE, 'events.schema.changed', schemaChanged({ ...owner, previousSyncId: previousId }, changes), {
        tenantId: job.tenant_id,
        about: job.integration_id,
      });
    }
    await endSyncIn(tx, job.sync_id, 'COMPLETED', { summary });
    return held;
  });
  return { verdict, summary };
}

/** A job given up (permanent error, or out of deliveries): the sync fails with its reason, unless a newer job runs it. */
export const failSync = (pool: Pool) => async (payload: unknown, failure: JobFailure) => {
  const job = payload as Partial<SyncJob> | null;
  if (!job?.sync_id) return;
  const reason = typeof failure.error.details?.reason === 'string' ? failure.error.details.reason : failure.error.code;
  await endSync(pool, job.sync_id, 'FAILED', { error: { code: reason, message: failure.error.message }, generation: job.generation ?? 0 });
};
