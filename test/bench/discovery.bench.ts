/**
 * Discovery figures: describing a database of N tables (each with a primary
 * key, a unique constraint, a foreign key and ten columns) beside
 * `pg_dump --schema-only` of the same database, measured in the same run.
 * Targets: at most half of pg_dump's time, under 300 MiB peak RSS. Then the
 * same at twice the size, to show it still completes.
 *
 * Each figure is the median of three runs (peak RSS: the highest of them).
 * BENCH_TABLES sets N (default 5,000; the second size is 2N).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { credentialFromUrl } from '@switchyard/connectors/testing';
import pg from 'pg';
import { DEFAULTS, ROOT } from '@switchyard/kit/local';

const TABLES = Number(process.env.BENCH_TABLES ?? 5_000);
const RUNS = 3;
const TARGET_RATIO = 0.5;
const TARGET_RSS_MIB = 300;

const adminUrl = () => process.env.DATABASE_URL || DEFAULTS.DATABASE_URL;

async function admin<T>(database: string | undefined, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const url = new URL(adminUrl());
  if (database) url.pathname = `/${database}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * t1..tN in schema bench: t_i references t_(i-1) (t1 itself). One DO block
 * that commits every 250 tables: creating thousands of tables in one
 * transaction would exhaust the lock table (max_locks_per_transaction).
 */
async function generate(database: string, tables: number): Promise<number> {
  const began = performance.now();
  await admin(undefined, (c) => c.query(`CREATE DATABASE "${database}"`));
  await admin(database, async (c) => {
    await c.query('CREATE SCHEMA bench');
    await c.query(`
      DO $$
      BEGIN
        FOR i IN 1..${tables} LOOP
          EXECUTE format(
            'CREATE TABLE bench.t%1$s (
               id bigint PRIMARY KEY,
               code text NOT NULL,
               parent_id bigint REFERENCES bench.t%2$s (id) ON DELETE SET NULL,
               name varchar(100) NOT NULL,
               amount numeric(12, 2),
               quantity integer DEFAULT 0,
               active boolean NOT NULL DEFAULT true,
               created_at timestamptz NOT NULL DEFAULT now(),
               payload jsonb,
               note text,
               CONSTRAINT t%1$s_code_key UNIQUE (code))',
            i, greatest(i - 1, 1));
          IF i % 250 = 0 THEN COMMIT; END IF;
        END LOOP;
      END $$`);
    await c.query('ANALYZE');
  });
  return (performance.now() - began) / 1000;
}

async function timePgDump(database: string): Promise<{ ms: number } | { error: string }> {
  const url = new URL(adminUrl());
  const env = { ...process.env, PGPASSWORD: decodeURIComponent(url.password) };
  const args = ['--schema-only', '-h', url.hostname, '-p', url.port || '5432', '-U', decodeURIComponent(url.username || 'postgres'), '-d', database, '-f', '/dev/null'];
  const began = performance.now();
  const child = spawn('pg_dump', args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await Promise.race([once(child, 'exit'), once(child, 'error').then(([e]) => [e])])) as [unknown];
  const ms = performance.now() - began;
  if (code !== 0) return { error: code instanceof Error ? code.message : stderr.trim().split('\n').pop() ?? `exit ${String(code)}` };
  return { ms };
}

async function timeDiscover(database: string): Promise<{ ms: number; maxRssMiB: number; relations: number }> {
  const cred = credentialFromUrl(adminUrl(), database);
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/bench/discover-once.ts', JSON.stringify(cred)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let last = '';
  createInterface({ input: child.stdout! }).on('line', (l) => (last = l));
  const [code] = await once(child, 'exit');
  if (code !== 0) throw new Error(`discover-once exited ${String(code)}`);
  return JSON.parse(last) as { ms: number; maxRssMiB: number; relations: number };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** RUNS of each, interleaved so a busy moment on the machine does not fall on one side only; medians. */
async function measure(tables: number) {
  const database = `bench_discovery_${tables}_${process.pid}`;
  try {
    const generateS = await generate(database, tables);
    const dumps: Array<Awaited<ReturnType<typeof timePgDump>>> = [];
    const ours: Array<Awaited<ReturnType<typeof timeDiscover>>> = [];
    for (let i = 0; i < RUNS; i++) {
      dumps.push(await timePgDump(database));
      ours.push(await timeDiscover(database));
    }
    const failed = dumps.find((d): d is { error: string } => 'error' in d);
    const dump = failed ?? { ms: median(dumps.map((d) => ('ms' in d ? d.ms : NaN))) };
    return {
      tables,
      database,
      generateS,
      dump,
      ours: { ms: median(ours.map((o) => o.ms)), maxRssMiB: Math.max(...ours.map((o) => o.maxRssMiB)), relations: ours[0]!.relations },
    };
  } finally {
    await admin(undefined, (c) => c.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`));
  }
}

const fmtS = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

export async function run() {
  const results = [];
  for (const tables of [TABLES, TABLES * 2]) {
    console.log(`generating ${tables} tables…`);
    const r = await measure(tables);
    console.log(`  generated in ${r.generateS.toFixed(1)} s`);
    results.push(r);
  }
  console.table(
    results.map((r) => ({
      tables: r.tables,
      relations: r.ours.relations,
      'pg_dump --schema-only (median)': 'ms' in r.dump ? fmtS(r.dump.ms) : `failed: ${r.dump.error}`,
      'discover() (median)': fmtS(r.ours.ms),
      'discover / pg_dump': 'ms' in r.dump ? `${((100 * r.ours.ms) / r.dump.ms).toFixed(0)}%` : 'n/a',
      'discover peak RSS (MiB)': r.ours.maxRssMiB,
    })),
  );
  const first = results[0]!;
  const ratio = 'ms' in first.dump ? first.ours.ms / first.dump.ms : NaN;
  console.log(
    `\n${first.tables} tables: time ${Number.isNaN(ratio) ? 'n/a (pg_dump failed)' : `${(ratio * 100).toFixed(0)}% of pg_dump`} ` +
      `(target ≤ ${TARGET_RATIO * 100}%: ${ratio <= TARGET_RATIO ? 'met' : 'NOT met'}); ` +
      `peak RSS ${first.ours.maxRssMiB} MiB (target < ${TARGET_RSS_MIB} MiB: ${first.ours.maxRssMiB < TARGET_RSS_MIB ? 'met' : 'NOT met'})`,
  );
  const second = results[1]!;
  console.log(`${second.tables} tables: completed, ${second.ours.relations} relations in ${fmtS(second.ours.ms)}, peak RSS ${second.ours.maxRssMiB} MiB`);
  return results;
}
