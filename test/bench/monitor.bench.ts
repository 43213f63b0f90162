/**
 * The metrics query of one integration with 100,000 recorded syncs spread
 * over 30 days (`BENCH_SYNCS` changes the count). The syncs are recorded
 * through the monitor's own rollup path (the upserts its event consumer
 * makes), 16 at a time. Beside it, in the same run and on the same database,
 * the baseline a design without rollups would pay: percentiles of the same
 * syncs kept as raw rows (indexed), computed by PostgreSQL's
 * percentile_cont over the window. Target: the 30-day query under 50 ms.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { Integration } from '@switchyard/contracts';
import { createPool, KIT_MIGRATIONS, migrate, withTransaction } from '@switchyard/kit';
import { DEFAULTS } from '@switchyard/kit/local';
import { testLogger, uniqueName } from '@switchyard/kit/testing';
import { metrics } from '../../services/monitor/src/handlers/monitor.metrics.get.ts';
import { firstTime } from '../../services/monitor/src/repo/processed.ts';
import { upsertIntegration } from '../../services/monitor/src/repo/registry.ts';
import { addToRollups, pruneRollups } from '../../services/monitor/src/repo/rollups.ts';

const SYNCS = Number(process.env.BENCH_SYNCS ?? 100_000);
const RUNS = 200;
const TARGET_MS = 50;
const DAY = 86_400_000;

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;
const figures = (name: string, xs: number[]) => ({ name, runs: xs.length, p50_ms: +pct(xs, 50).toFixed(2), p99_ms: +pct(xs, 99).toFixed(2), max_ms: +Math.max(...xs).toFixed(2) });

async function timed(fn: () => Promise<unknown>, runs = RUNS): Promise<number[]> {
  for (let i = 0; i < 5; i++) await fn(); // warm the plan cache and the buffer cache
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

export async function run() {
  const url = process.env.DATABASE_URL || DEFAULTS.DATABASE_URL;
  const schema = uniqueName('bench_monitor');
  const log = testLogger('bench');
  await migrate({ url, schema, dir: [KIT_MIGRATIONS, fileURLToPath(new URL('../../services/monitor/migrations', import.meta.url))], log });
  const pool = createPool({ url, schema, max: 20, applicationName: 'bench-monitor' });
  try {
    const tenant = 'bench';
    const now = new Date();
    const integration: Integration = {
      id: randomUUID(),
      tenant_id: tenant,
      integration_type: 'POSTGRESQL',
      name: 'bench',
      status: 'CONNECTED',
      config: {},
      target: { host: 'h', port: 5432, database_name: 'd', username: 'u' },
      created_at: now.toISOString(),
      updated_at: now.toISOString(),
    };
    await upsertIntegration(pool, integration, now, 300_000);

    // Durations log-normal around 2 s; one sync in 20 fails; spread evenly over 29 days (the 30-day window counts whole UTC days, today included).
    const syncs = Array.from({ length: SYNCS }, (_, i) => ({
      at: new Date(now.getTime() - ((i + 0.5) / SYNCS) * 29 * DAY),
      failed: i % 20 === 0,
      durationMs: Math.round(2_000 * Math.exp(0.6 * Math.sqrt(-2 * Math.log(Math.random() || 1e-9)) * Math.cos(2 * Math.PI * Math.random()))),
    }));
    const ingestStart = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let i = next++; i < syncs.length; i = next++) {
          const s = syncs[i]!;
          await withTransaction(pool, async (tx) => {
            await firstTime(tx, randomUUID());
            await addToRollups(tx, {
              integrationId: integration.id,
              tenantId: tenant,
              at: s.at,
              ...(s.failed ? { failed: 1, errorCode: 'TIMEOUT' } : { completed: 1, durationMs: s.durationMs, relations: 120 }),
            });
          });
        }
      }),
    );
    const ingestS = (performance.now() - ingestStart) / 1_000;
    // The steady state: retention keeps minute rows two days and hour rows ten.
    await pruneRollups(pool, 30);
    const { rows: size } = await pool.query<{ rows: number; day: number; hour: number; minute: number }>(
      `SELECT count(*)::int AS rows, count(*) FILTER (WHERE resolution = 'day')::int AS day, count(*) FILTER (WHERE resolution = 'hour')::int AS hour,
              count(*) FILTER (WHERE resolution = 'minute')::int AS minute FROM rollups WHERE integration_id = $1`,
      [integration.id],
    );

    // The baseline: the same syncs as raw rows, indexed for the query.
    await pool.query('CREATE TABLE bench_raw_syncs (integration_id uuid, finished_at timestamptz, ok boolean, duration_ms double precision)');
    const raw = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
    await raw.connect();
    for (let i = 0; i < syncs.length; i += 5_000) {
      const chunk = syncs.slice(i, i + 5_000);
      await raw.query(
        `INSERT INTO bench_raw_syncs SELECT $1, unnest($2::timestamptz[]), unnest($3::boolean[]), unnest($4::float8[])`,
        [integration.id, chunk.map((s) => s.at), chunk.map((s) => !s.failed), chunk.map((s) => s.durationMs)],
      );
    }
    await raw.query('CREATE INDEX ON bench_raw_syncs (integration_id, finished_at)');
    await raw.query('ANALYZE bench_raw_syncs');
    await raw.end();
    const rawQuery = () =>
      pool.query(
        `SELECT count(*) FILTER (WHERE ok) AS completed, count(*) FILTER (WHERE NOT ok) AS failed, avg(duration_ms) FILTER (WHERE ok),
                percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY duration_ms) FILTER (WHERE ok)
           FROM bench_raw_syncs WHERE integration_id = $1 AND finished_at >= now() - interval '30 days'`,
        [integration.id],
      );

    const handler = metrics({ pool });
    const ctx = { log, subject: 'monitor.metrics.get', deadline: Date.now() + 3_600_000 };
    const ask = (window?: '1h' | '24h' | '7d' | '30d') => handler({ tenant_id: tenant, integration_id: integration.id, window }, ctx);
    const check = await ask('30d');
    const w = check.windows[0]!;
    if (w.syncs.completed + w.syncs.failed !== SYNCS) throw new Error(`expected ${SYNCS} syncs in 30d, the rollups count ${w.syncs.completed + w.syncs.failed}`);

    const thirty = figures('metrics 30d (rollups, p50/p95/p99 from histograms)', await timed(() => ask('30d')));
    const all = figures('metrics, all four windows', await timed(() => ask()));
    const baseline = figures('baseline: percentile_cont over raw rows, 30d', await timed(rawQuery, 50));
    console.table([thirty, all, baseline]);
    console.log(
      `bench | ${SYNCS} syncs recorded through the rollups in ${ingestS.toFixed(1)} s (${Math.round(SYNCS / ingestS)}/s, 16 at a time); ` +
        `${size[0]!.rows} rollup rows after retention (${size[0]!.day} daily, ${size[0]!.hour} hourly, ${size[0]!.minute} by the minute)`,
    );
    const done = syncs.filter((s) => !s.failed).map((s) => s.durationMs);
    console.log(
      `bench | 30d p50 ${w.duration_ms.p50} ms, p95 ${w.duration_ms.p95} ms, p99 ${w.duration_ms.p99} ms from the histograms; ` +
        `exact: ${pct(done, 50)}, ${pct(done, 95)}, ${pct(done, 99)} ms`,
    );
    console.log(`bench | target: the 30-day query under ${TARGET_MS} ms at p99: ${thirty.p99_ms < TARGET_MS ? 'met' : 'MISSED'} (${thirty.p99_ms} ms; baseline p50 ${baseline.p50_ms} ms)`);
  } finally {
    await pool.query(`DROP SCHEMA "${schema}" CASCADE`).catch(() => {});
    await pool.end();
  }
}
