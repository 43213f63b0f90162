/**
 * Durable idempotency for requests whose work a service does (IETF
 * httpapi-idempotency-key draft, enforced where the work happens): the first
 * request with a key runs and its answer is stored with the work, in the same
 * transaction; a retry with the same key and fingerprint gets that answer; the
 * same key with another fingerprint is refused; a retry while the first still
 * runs is a conflict that says when to come back. "Running" is a short lease
 * its holder refreshes: if the holder dies, the lease lapses and a retry takes
 * the work over (nothing of the first attempt committed, or the key would say
 * "done").
 */
import { randomUUID } from 'node:crypto';
import { AnyReply, type IdempotencyRef } from '@switchyard/contracts';
import { withTransaction, type Pool, type PoolClient } from './db.ts';
import { AppError, toAppError } from './errors.ts';
import { startsBefore } from './rpc.ts';

export interface IdempotencyScope {
  tenantId: string;
  /** The request route the key belongs to, e.g. `integrations.create`. */
  scope: string;
  ref: IdempotencyRef;
  /** The caller's deadline: work is not started (or taken over) past it. */
  deadline: number;
  /** How long "running" holds without a refresh (the holder refreshes it every third of it). */
  leaseMs?: number;
}

/** What the work gets: `complete` stores its answer inside the work's own transaction. */
export interface IdempotentRun<T> {
  complete(tx: PoolClient, result: T): Promise<void>;
}

interface Row {
  fingerprint: string;
  state: 'running' | 'done';
  holder: string | null;
  lease_left_ms: number | null;
  response: AnyReply | null;
}

const DEFAULT_LEASE_MS = 10_000;

/**
 * Runs `work` once per key. The work calls `run.complete(tx, result)` in the
 * transaction that commits its effects; if it does not (nothing to commit),
 * the answer is stored once the work returns.
 */
export async function idempotent<T>(
  pool: Pool,
  s: IdempotencyScope,
  work: (run: IdempotentRun<T>) => Promise<T>,
): Promise<{ result: T; replayed: boolean }> {
  const holder = randomUUID();
  const leaseMs = s.leaseMs ?? DEFAULT_LEASE_MS;
  const claimed = await claim(pool, s, holder, leaseMs);
  if (claimed.replay) {
    const reply = claimed.replay;
    if (!reply.ok) throw AppError.fromBody(reply.error);
    return { result: reply.data as T, replayed: true };
  }

  const key = [s.tenantId, s.scope, s.ref.key];
  const refresh = setInterval(
    () =>
      void pool
        .query(
          `UPDATE idempotency_keys SET lease_until = clock_timestamp() + make_interval(secs => $4 / 1000.0)
            WHERE tenant_id = $1 AND scope = $2 AND key = $3 AND holder = $5 AND state = 'running'`,
          [...key, leaseMs, holder],
        )
        .catch(() => {}),
    Math.max(500, Math.floor(leaseMs / 3)),
  );
  refresh.unref();
  let completed = false;
  const store = async (db: Pool | PoolClient, reply: AnyReply) => {
    const { rowCount } = await db.query(
      `UPDATE idempotency_keys SET state = 'done', response = $4, completed_at = clock_timestamp(), lease_until = NULL
        WHERE tenant_id = $1 AND scope = $2 AND key = $3 AND holder = $5 AND state = 'running'`,
      [...key, JSON.stringify(reply), holder],
    );
    // Our lease lapsed and another attempt took the work over: this attempt must not commit.
    if (!rowCount) throw new AppError('CONFLICT', 'another attempt with this Idempotency-Key took the work over', { retryable: false });
  };
  try {
    const result = await work({
      complete: async (tx, r) => {
        await store(tx, { ok: true, data: r });
        completed = true;
      },
    });
    if (!completed) await store(pool, { ok: true, data: result });
    return { result, replayed: false };
  } catch (err) {
    const e = toAppError(err);
    // An answer that may differ next time (a 5xx, an outage) is not kept: the key is free again.
    // A refusal (4xx) is kept, so a retry gets the same answer, as the first request did.
    if (e.retryable || e.code === 'INTERNAL')
      await pool.query('DELETE FROM idempotency_keys WHERE tenant_id = $1 AND scope = $2 AND key = $3 AND holder = $4', [...key, holder]).catch(() => {});
    else if (!completed) await store(pool, { ok: false, error: e.toBody() }).catch(() => {});
    throw err;
  } finally {
    clearInterval(refresh);
  }
}

/** Takes the key (new, or a lapsed lease) or says what the first request got. */
async function claim(pool: Pool, s: IdempotencyScope, holder: string, leaseMs: number): Promise<{ replay?: AnyReply }> {
  return withTransaction(pool, async (tx) => {
    const key = [s.tenantId, s.scope, s.ref.key];
    const inserted = await tx.query(
      `INSERT INTO idempotency_keys (tenant_id, scope, key, fingerprint, state, holder, lease_until)
       VALUES ($1, $2, $3, $4, 'running', $5, clock_timestamp() + make_interval(secs => $6 / 1000.0))
       ON CONFLICT DO NOTHING`,
      [...key, s.ref.fingerprint, holder, leaseMs],
    );
    if (inserted.rowCount) {
      startsBefore(s.deadline, 'the work of this Idempotency-Key');
      return {};
    }
    const { rows } = await tx.query<Row>(
      `SELECT fingerprint, state, holder, response,
              GREATEST(0, EXTRACT(EPOCH FROM (lease_until - clock_timestamp())) * 1000)::float8 AS lease_left_ms
         FROM idempotency_keys WHERE tenant_id = $1 AND scope = $2 AND key = $3 FOR UPDATE`,
      key,
    );
    const row = rows[0]!;
    if (row.fingerprint !== s.ref.fingerprint)
      throw new AppError('UNPROCESSABLE', 'this Idempotency-Key was used with a different request', {
        errors: [{ field: 'header.idempotency-key', message: 'already used for a different request' }],
      });
    if (row.state === 'done') return { replay: row.response! };
    if ((row.lease_left_ms ?? 0) > 0)
      throw new AppError('CONFLICT', 'a request with this Idempotency-Key is still being processed', {
        details: { retry_after_seconds: Math.max(1, Math.ceil((row.lease_left_ms ?? 0) / 1000)) },
        retryable: false,
      });
    // The first attempt's holder is gone (its lease lapsed) and nothing of it committed: take the work over.
    startsBefore(s.deadline, 'the work of this Idempotency-Key');
    await tx.query(
      `UPDATE idempotency_keys SET holder = $4, lease_until = clock_timestamp() + make_interval(secs => $5 / 1000.0)
        WHERE tenant_id = $1 AND scope = $2 AND key = $3`,
      [...key, holder, leaseMs],
    );
    return {};
  });
}

/** Drops keys older than `ttlSeconds` (a retry that late is a new request). */
export async function expireIdempotencyKeys(pool: Pool, ttlSeconds: number): Promise<number> {
  const { rowCount } = await pool.query(`DELETE FROM idempotency_keys WHERE created_at < clock_timestamp() - make_interval(secs => $1)`, [ttlSeconds]);
  return rowCount ?? 0;
}
