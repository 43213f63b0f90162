import { once } from 'node:events';
import { dirname, join } from 'node:path';
import type { Pool, PoolClient, PoolConfig } from 'pg';
import type PgModule from 'pg';
import { requireCjs } from './cjs.ts';
import type { Logger } from './logger.ts';

export type { Pool, PoolClient };

const pg = () => requireCjs('pg') as typeof PgModule;

/**
 * The kit's own migrations (the outbox), run before each service's. Found
 * through the package, not import.meta.url: the kit is bundled into each
 * service's compiled entry point, far from this folder.
 */
export const KIT_MIGRATIONS = join(dirname(requireCjs.resolve('@switchyard/kit/package.json')), 'migrations');

export const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** A pool whose connections work in the service's own schema (and can see nothing else unqualified). */
export function createPool(opts: { url: string; schema: string; max: number; applicationName: string }): Pool {
  const config: PoolConfig = {
    connectionString: opts.url,
    max: opts.max,
    application_name: opts.applicationName,
    // A database that does not answer is an outage: callers get 503 quickly rather than wait on it.
    connectionTimeoutMillis: 2_000,
    idleTimeoutMillis: 30_000,
    options: `-c search_path=${quoteIdent(opts.schema)},public`,
  };
  const pool = new (pg().Pool)(config);
  // A client losing its connection must not crash the process: the pool handles idle ones
  // (and replaces them), but a checked-out client has no listener of the pool's; a restart of
  // PostgreSQL between two statements of a transaction would emit an unhandled 'error'. Its
  // queries fail instead, and the caller sees that.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

export async function withTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

/**
 * Applies a service's SQL migrations to its schema. Replicas starting together
 * wait on one advisory lock per schema (node-pg-migrate's own lock is global and
 * fails instead of waiting, so it is turned off).
 */
export async function migrate(opts: { url: string; schema: string; dir: string | string[]; log: Logger }): Promise<string[]> {
  const client = new (pg().Client)({ connectionString: opts.url, application_name: `${opts.schema}-migrate` });
  client.on('error', () => {}); // failures surface as rejected queries
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [`switchyard:migrate:${opts.schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(opts.schema)}`);
    const { runner } = await import('node-pg-migrate');
    const applied = await runner({
      dbClient: client,
      // Globs let the kit's migrations and the service's run as one ordered list.
      dir: (Array.isArray(opts.dir) ? opts.dir : [opts.dir]).map((d) => `${d}/*.sql`),
      useGlob: true,
      schema: opts.schema,
      migrationsTable: 'pgmigrations',
      direction: 'up',
      count: Infinity,
      noLock: true,
      checkOrder: true,
      log: () => {},
      logger: { debug: () => {}, info: () => {}, warn: (m: string) => opts.log.warn(m), error: (m: string) => opts.log.error(m) },
    });
    const names = applied.map((m) => m.name);
    if (names.length) opts.log.info({ schema: opts.schema, applied: names }, 'migrations applied');
    return names;
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [`switchyard:migrate:${opts.schema}`]).catch(() => {});
    await client.end();
  }
}

/**
 * `migrate` in a worker thread, as a service runs it at start: node-pg-migrate
 * and what it loads (about 6 MiB of a small service's memory) go away with the
 * thread. An error keeps its message and code (so an unavailable database is
 * still told apart from a failed migration).
 */
export async function migrateInWorker(opts: { url: string; schema: string; dir: string | string[]; log: Logger; service: string; instanceId: string }): Promise<string[]> {
  const { Worker } = await import('node:worker_threads');
  const kitDir = dirname(requireCjs.resolve('@switchyard/kit/package.json'));
  // From TypeScript (tsx, vitest) the migrations run in this thread: a worker could not load TypeScript,
  // and memory is not the point there. Compiled services (npm start, the image, the e2e tests) use the worker.
  if (import.meta.url.endsWith('.ts')) return migrate(opts);
  const workerData = { url: opts.url, schema: opts.schema, dir: opts.dir, service: opts.service, instanceId: opts.instanceId, level: opts.log.level };
  const worker = new Worker(join(kitDir, 'dist', 'migrate-worker.js'), { workerData });
  try {
    type Reply = { ok: true; names: string[] } | { ok: false; error: { message: string; code?: string; name: string } };
    // An 'error' event rejects the wait; a thread that ends without a word is a failure too.
    const [reply] = (await Promise.race([
      once(worker, 'message'),
      once(worker, 'exit').then(([code]) => {
        throw new Error(`the migration worker exited (${String(code)}) without an answer`);
      }),
    ])) as [Reply];
    if (reply.ok) return reply.names;
    throw Object.assign(new Error(reply.error.message), { code: reply.error.code, name: reply.error.name });
  } finally {
    await worker.terminate();
  }
}
