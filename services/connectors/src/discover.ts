import type { Catalog, CatalogEnum, CatalogRelation, PostgresCredential } from '@switchyard/contracts';
import { assemble, byName, byText, relationshipsOf, type BatchRows, type ConstraintRow, type IndexRow, type RelationRow } from './assemble.ts';
import * as sql from './catalog-sql.ts';
import { close, connect, sessionFailure, targetOf } from './connect.ts';
import type { TargetPolicy } from '@switchyard/kit';

export interface DiscoverOptions {
  /** Only these schemas (default: every schema but the system's). */
  schemas?: string[];
  /** Bounds connecting (default 30 s) and, unless queryTimeoutMs is given, each catalog query. */
  timeoutMs?: number;
  /** Bounds each catalog query (server-side statement_timeout, with a client-side backstop). */
  queryTimeoutMs?: number;
  /** Relations described so far out of all of them: once before the first batch, after each batch. */
  onProgress?: (done: number, total: number) => void;
  /** Checked between batches; when aborted, discovery stops with an Error named AbortError. */
  signal?: AbortSignal;
  /** Relations described per round of queries (default 500): bounds the memory one round needs. */
  batchSize?: number;
  /** Which addresses may be connected to (see target-policy.ts); unchecked when absent. */
  policy?: TargetPolicy;
}

function abortError(signal: AbortSignal): Error {
  const err = new Error('discovery was aborted', { cause: signal.reason });
  err.name = 'AbortError';
  return err;
}

/**
 * Describes the database's schemas, relations, enums and the relationships
 * between relations, as one consistent snapshot read through pg_catalog.
 * Failures are ConnectionFailures (an abort is an AbortError).
 */
export async function discover(cred: PostgresCredential, opts: DiscoverOptions = {}): Promise<Catalog> {
  const { schemas, onProgress, signal } = opts;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const queryTimeoutMs = opts.queryTimeoutMs ?? timeoutMs;
  const batchSize = Math.max(1, opts.batchSize ?? 500);
  if (signal?.aborted) throw abortError(signal);
  const target = targetOf(cred);

  // Aborted while connecting: the attempt stops and leaves nothing open (see bounded in connect.ts).
  const client = await connect(cred, { timeoutMs, queryTimeoutMs, pipeline: true, policy: opts.policy, signal }).catch((err: unknown) => {
    throw signal?.aborted ? abortError(signal) : err;
  });
  // Only what the server or the network did becomes a ConnectionFailure; a bug here stays itself.
  const query: Query = <R>(text: string, values?: unknown[]) =>
    client.query(text, values).then(
      (r) => r.rows as R[],
      (err: unknown) => {
        throw sessionFailure(client, err, target, queryTimeoutMs);
      },
    );
  try {
    return await readCatalog(query, { schemas, queryTimeoutMs, batchSize, onProgress, signal });
  } finally {
    close(client);
  }
}

/** A query whose failure is already a ConnectionFailure; R is the row shape the SQL promises. */
type Query = <R>(text: string, values?: unknown[]) => Promise<R[]>;

async function readCatalog(
  query: Query,
  opts: { schemas?: string[]; queryTimeoutMs: number; batchSize: number; onProgress?: DiscoverOptions['onProgress']; signal?: AbortSignal },
): Promise<Catalog> {
  // One snapshot for every query, so a relation and its constraints agree even
  // while DDL runs. The connection pipelines: statements issued together travel
  // together, which matters on a link with a long round trip.
  // jit is turned off because the per-batch queries cost enough to cross
  // jit_above_cost and compiling them takes longer than running them (the
  // setting exists from PostgreSQL 11; CASE keeps set_config from running before).
  const [, settings] = await Promise.all([
    query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY'),
    query<{ version_num: string; version: string; database: string }>(
      `SELECT set_config('statement_timeout', $1, true), set_config('search_path', '', true),
              CASE WHEN current_setting('server_version_num')::int >= 110000 THEN set_config('jit', 'off', true) END,
              current_setting('server_version_num') AS version_num, current_setting('server_version') AS version,
              current_database() AS database`,
      [String(opts.queryTimeoutMs)],
    ),
  ]);
  const versionNum = Number(settings[0]!.version_num);

  const schemaRows = await query<{ oid: string; name: string; comment: string | null }>(sql.SCHEMAS, [opts.schemas ?? null]);
  const schemaOids = schemaRows.map((s) => s.oid);
  const [oidRows, enumRows] = await Promise.all([
    query<{ oid: string }>(sql.RELATION_OIDS, [schemaOids]),
    query<{ schema: string; name: string; labels: string[] }>(sql.ENUMS, [schemaOids]),
  ]);

  const total = oidRows.length;
  const relations: CatalogRelation[] = [];
  const queries = { versionNum, relations: sql.relations(versionNum), constraints: sql.constraints(versionNum), indexes: sql.indexes(versionNum) };
  const batch = (start: number) => oidRows.slice(start, start + opts.batchSize).map((r) => r.oid);
  opts.onProgress?.(0, total);
  // The next batch's queries are on the wire while this one is assembled, so
  // the server and this process work at the same time. At most two batches of
  // rows are held at once.
  let next = total > 0 ? fetchBatch(query, batch(0), queries) : undefined;
  for (let start = 0; next; start += opts.batchSize) {
    const rows = await next;
    next = undefined;
    if (opts.signal?.aborted) throw abortError(opts.signal);
    if (start + opts.batchSize < total) {
      next = fetchBatch(query, batch(start + opts.batchSize), queries);
      // If assembling this batch throws, the one in flight fails with the closed connection: not an unhandled rejection.
      next.catch(() => {});
    }
    for (const r of assemble(rows, versionNum)) relations.push(r);
    opts.onProgress?.(Math.min(start + opts.batchSize, total), total);
  }
  await query('COMMIT');

  relations.sort((a, b) => byText(a.schema, b.schema) || byText(a.name, b.name));
  const enums: CatalogEnum[] = enumRows
    .map((e) => ({ schema: e.schema, name: e.name, values: e.labels }))
    .sort((a, b) => byText(a.schema, b.schema) || byText(a.name, b.name));
  return {
    server_version: settings[0]!.version,
    database: settings[0]!.database,
    discovered_at: new Date().toISOString(),
    schemas: schemaRows.map((s) => ({ name: s.name, comment: s.comment })).sort(byName),
    relations,
    enums,
    relationships: relationshipsOf(relations),
  };
}

async function fetchBatch(query: Query, oids: string[], queries: { relations: string; constraints: string; indexes: string }): Promise<BatchRows> {
  const [relations, constraints, indexes] = await Promise.all([
    query<RelationRow>(queries.relations, [oids]),
    query<ConstraintRow>(queries.constraints, [oids]),
    query<IndexRow>(queries.indexes, [oids]),
  ]);
  return { relations, constraints, indexes };
}
