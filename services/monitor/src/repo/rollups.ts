import { WINDOW_SECONDS, type MetricsWindow } from '@switchyard/contracts';
import type { Pool, PoolClient } from '@switchyard/kit';
import { bucketOf, type SparseHistogram } from '../domain/histogram.ts';

type Db = Pool | PoolClient;

/** One observation's increments to the rollup rows of its minute and its hour. */
interface Increment {
  integrationId: string;
  tenantId: string;
  at: Date;
  started?: number;
  completed?: number;
  failed?: number;
  cancelled?: number;
  durationMs?: number | null;
  relations?: number | null;
  test?: { ok: boolean; latencyMs: number | null };
  errorCode?: string | null;
}

/**
 * Adds one observation to the minute, hour and day rollups of its time (never later
 * than now: a clock ahead of ours does not open future buckets). The row of a
 * bucket is locked for the moment of the upsert only.
 */
export async function addToRollups(tx: Db, i: Increment): Promise<void> {
  const duration = i.durationMs ?? null;
  const latency = i.test?.latencyMs ?? null;
  await tx.query(
    `INSERT INTO rollups AS r (integration_id, tenant_id, resolution, bucket, syncs_started, syncs_completed, syncs_failed, syncs_cancelled,
        duration_sum_ms, duration_max_ms, duration_hist, relations_sum, tests_total, tests_failed,
        test_latency_sum_ms, test_latency_max_ms, test_latency_hist, errors)
     SELECT $1, $2, res, date_trunc(res, LEAST($3::timestamptz, now()), 'UTC'), $4, $5, $6, $7,
        COALESCE($8::float8, 0), COALESCE($8::float8, 0), jsonb_inc('{}', $9, 1), COALESCE($10::bigint, 0), $11, $12,
        COALESCE($13::float8, 0), COALESCE($13::float8, 0), jsonb_inc('{}', $14, 1), jsonb_inc('{}', $15, 1)
       FROM unnest(ARRAY['minute', 'hour', 'day']) AS res
     ON CONFLICT (integration_id, resolution, bucket) DO UPDATE SET
        syncs_started = r.syncs_started + EXCLUDED.syncs_started,
        syncs_completed = r.syncs_completed + EXCLUDED.syncs_completed,
        syncs_failed = r.syncs_failed + EXCLUDED.syncs_failed,
        syncs_cancelled = r.syncs_cancelled + EXCLUDED.syncs_cancelled,
        duration_sum_ms = r.duration_sum_ms + EXCLUDED.duration_sum_ms,
        duration_max_ms = GREATEST(r.duration_max_ms, EXCLUDED.duration_max_ms),
        duration_hist = jsonb_inc(r.duration_hist, $9, 1),
        relations_sum = r.relations_sum + EXCLUDED.relations_sum,
        tests_total = r.tests_total + EXCLUDED.tests_total,
        tests_failed = r.tests_failed + EXCLUDED.tests_failed,
        test_latency_sum_ms = r.test_latency_sum_ms + EXCLUDED.test_latency_sum_ms,
        test_latency_max_ms = GREATEST(r.test_latency_max_ms, EXCLUDED.test_latency_max_ms),
        test_latency_hist = jsonb_inc(r.test_latency_hist, $14, 1),
        errors = jsonb_inc(r.errors, $15, 1)`,
    [
      i.integrationId,
      i.tenantId,
      i.at,
      i.started ?? 0,
      i.completed ?? 0,
      i.failed ?? 0,
      i.cancelled ?? 0,
      duration,
      duration === null ? null : String(bucketOf(duration)),
      i.relations ?? null,
      i.test ? 1 : 0,
      i.test && !i.test.ok ? 1 : 0,
      latency,
      latency === null ? null : String(bucketOf(latency)),
      i.errorCode ?? null,
    ],
  );
}

/** A span of time the rollups answer for: its resolution and bounds. */
export interface Span {
  resolution: Resolution;
  from: Date;
  to: Date;
}

type Resolution = 'minute' | 'hour' | 'day';
const STEP: Record<Resolution, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
/** The coarsest rows that still answer a span of this length well: a few hundred rows at most. */
const resolutionFor = (seconds: number): Resolution => (seconds <= 86_400 ? 'minute' : seconds <= 7 * 86_400 ? 'hour' : 'day');

/**
 * The span of the last `seconds` ending now, in whole UTC buckets including
 * the current one: minutes up to a day (the 1h and 24h windows are exact to
 * the minute), hours up to a week, days beyond (the 30d window counts whole
 * days, today included).
 */
export function spanSeconds(seconds: number, now = new Date()): Span {
  const resolution = resolutionFor(seconds);
  const step = STEP[resolution];
  const end = Math.floor(now.getTime() / step) * step + step;
  return { resolution, from: new Date(end - seconds * 1_000), to: new Date(end) };
}

/** The span of an API window. */
export const spanOf = (window: MetricsWindow, now = new Date()): Span => spanSeconds(WINDOW_SECONDS[window], now);

/** The baseline of a window: the three windows before it, from rows one step coarser (minutes for the 1h window). */
export function baselineOf(window: MetricsWindow, now = new Date()): Span {
  const current = spanOf(window, now);
  const seconds = WINDOW_SECONDS[window];
  const resolution: Resolution = window === '1h' ? 'minute' : window === '24h' ? 'hour' : 'day';
  const step = STEP[resolution];
  const to = Math.floor(current.from.getTime() / step) * step;
  return { resolution, from: new Date(to - 3 * seconds * 1_000), to: new Date(to) };
}

export interface RollupTotals {
  started: number;
  completed: number;
  failed: number;
  cancelled: number;
  duration_sum_ms: number;
  duration_max_ms: number;
  relations_sum: number;
  tests_total: number;
  tests_failed: number;
  test_latency_sum_ms: number;
  test_latency_max_ms: number;
  duration_hist: SparseHistogram;
  test_latency_hist: SparseHistogram;
  errors: Record<string, number>;
}

const TOTALS = `
  COALESCE(sum(syncs_started), 0)::int AS started, COALESCE(sum(syncs_completed), 0)::int AS completed,
  COALESCE(sum(syncs_failed), 0)::int AS failed, COALESCE(sum(syncs_cancelled), 0)::int AS cancelled,
  COALESCE(sum(duration_sum_ms), 0)::float8 AS duration_sum_ms, COALESCE(max(duration_max_ms), 0)::float8 AS duration_max_ms,
  COALESCE(sum(relations_sum), 0)::float8 AS relations_sum, COALESCE(sum(tests_total), 0)::int AS tests_total,
  COALESCE(sum(tests_failed), 0)::int AS tests_failed, COALESCE(sum(test_latency_sum_ms), 0)::float8 AS test_latency_sum_ms,
  COALESCE(max(test_latency_max_ms), 0)::float8 AS test_latency_max_ms`;

const HISTS = (alias: string) => `
  (SELECT COALESCE(jsonb_object_agg(k, n), '{}') FROM (SELECT key AS k, sum(value::bigint) AS n FROM ${alias}, jsonb_each_text(${alias}.duration_hist) GROUP BY key) h) AS duration_hist,
  (SELECT COALESCE(jsonb_object_agg(k, n), '{}') FROM (SELECT key AS k, sum(value::bigint) AS n FROM ${alias}, jsonb_each_text(${alias}.test_latency_hist) GROUP BY key) h) AS test_latency_hist,
  (SELECT COALESCE(jsonb_object_agg(k, n), '{}') FROM (SELECT key AS k, sum(value::bigint) AS n FROM ${alias}, jsonb_each_text(${alias}.errors) GROUP BY key) h) AS errors`;

/**
 * The totals and merged histograms of integrations over a span: one index
 * range scan of at most a few hundred rollup rows per integration, however
 * many syncs they count.
 */
export async function totals(db: Db, integrationIds: string[], span: Span): Promise<RollupTotals> {
  const { rows } = await db.query<RollupTotals>(
    `WITH r AS (SELECT * FROM rollups WHERE integration_id = ANY($1::uuid[]) AND resolution = $2 AND bucket >= $3 AND bucket < $4)
     SELECT t.*, ${HISTS('r')} FROM (SELECT ${TOTALS} FROM r) t`,
    [integrationIds, span.resolution, span.from, span.to],
  );
  return rows[0]!;
}

/**
 * Totals per integration over a span, for a tenant's integrations or the
 * ones named, with their sync-duration and connection-test histograms.
 */
export async function totalsByIntegration(
  db: Db,
  filter: { tenantId: string } | { ids: string[] },
  span: Span,
): Promise<Map<string, RollupTotals & { name: string | null }>> {
  const hist = (column: string) => `COALESCE((SELECT jsonb_object_agg(k, n) FROM (SELECT key AS k, sum(value::bigint) AS n FROM rollups x, jsonb_each_text(x.${column})
            WHERE x.integration_id = r.integration_id AND x.resolution = $2 AND x.bucket >= $3 AND x.bucket < $4 GROUP BY key) h), '{}')`;
  const { rows } = await db.query<RollupTotals & { integration_id: string; name: string | null }>(
    `SELECT g.*, i.name FROM (
       SELECT integration_id, ${TOTALS}, ${hist('duration_hist')} AS duration_hist, ${hist('test_latency_hist')} AS test_latency_hist, ${hist('errors')} AS errors
         FROM rollups r WHERE (tenant_id = $1 OR integration_id = ANY($5::uuid[])) AND resolution = $2 AND bucket >= $3 AND bucket < $4
        GROUP BY integration_id) g
     LEFT JOIN integrations i ON i.id = g.integration_id`,
    ['tenantId' in filter ? filter.tenantId : null, span.resolution, span.from, span.to, 'ids' in filter ? filter.ids : []],
  );
  return new Map(rows.map((r) => [r.integration_id, r]));
}

/** Failed and finished syncs per tenant over a span (operator). */
export async function failedByTenant(db: Db, span: Span): Promise<{ tenant_id: string; failed: number; finished: number }[]> {
  const { rows } = await db.query<{ tenant_id: string; failed: number; finished: number }>(
    `SELECT tenant_id, sum(syncs_failed)::int AS failed, sum(syncs_failed + syncs_completed)::int AS finished
       FROM rollups WHERE resolution = $1 AND bucket >= $2 AND bucket < $3
      GROUP BY tenant_id ORDER BY failed DESC, tenant_id LIMIT 1000`,
    [span.resolution, span.from, span.to],
  );
  return rows;
}

/** Drops minute rows older than two days, hour rows older than ten, day rows older than the retention. */
export async function pruneRollups(db: Db, retentionDays: number): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM rollups WHERE (resolution = 'minute' AND bucket < now() - interval '2 days')
        OR (resolution = 'hour' AND bucket < now() - interval '10 days')
        OR (resolution = 'day' AND bucket < now() - make_interval(days => $1 + 1))`,
    [retentionDays],
  );
  return rowCount ?? 0;
}
