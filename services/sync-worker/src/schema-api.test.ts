/**
 * The schema routes' handlers against stored snapshots and change sets: pages
 * by cursor and by bytes, read from PostgreSQL a page at a time; and the
 * schema.changed event, bounded in bytes with a reference to the whole set.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { changeSetPath, eventSchema, syncRequests, type Catalog, type CatalogRelation, type SchemaChange } from '@switchyard/contracts';
import { AppError, createPool, DEFAULT_MAX_MESSAGE_BYTES, jsonBytes, migrate, withTransaction, type Pool, type RequestContext } from '@switchyard/kit';
import { dropSchema, testConfig, testLogger, uniqueName } from '@switchyard/kit/testing';
import { catalogColumn, catalogOf, catalogRelation } from '@switchyard/connectors/testing';
import { changeSet } from './handlers/sync-worker.schema.changes.get.ts';
import { changes as changeList } from './handlers/sync-worker.schema.changes.ts';
import { schema as schemaGet } from './handlers/sync-worker.schema.get.ts';
import { schemaChanged } from './jobs/schema-changed.ts';
import { saveSnapshot } from './repo/catalogs.ts';
import { saveChanges } from './repo/changes.ts';

const config = testConfig();
const dbSchema = uniqueName('sync_worker_schema_api');
const log = testLogger();
const tenant_id = 'acme';
let pool: Pool;

const ctx = (maxReplyBytes = 1024 * 1024 - 1024): RequestContext => ({ log, subject: 'test', deadline: Date.now() + 60_000, maxReplyBytes });

/** A table of `columns` integer columns (c0 its key), with a foreign key to `parent` when given. */
const relation = (schema: string, name: string, columns = 5, parent?: string): CatalogRelation =>
  catalogRelation(schema, name, {
    columns: Array.from({ length: columns }, (_, i) => catalogColumn(`c${i}`, i + 1)),
    primary_key: { name: `${name}_pkey`, columns: ['c0'] },
    foreign_keys: parent
      ? [{ name: `${name}_fk`, columns: ['c1'], references: { schema, table: parent, columns: ['c0'] }, on_update: 'NO ACTION', on_delete: 'NO ACTION' }]
      : [],
  });

const catalog = (relations: CatalogRelation[]): Catalog =>
  catalogOf({
    discovered_at: new Date().toISOString(),
    schemas: [...new Set(relations.map((r) => r.schema))].map((name) => ({ name, comment: null })),
    relations,
    enums: [{ schema: 'public', name: 'mood', values: ['happy', 'sad'] }],
  });

/** Stores a completed sync of `integrationId` with its snapshot; returns the sync id. */
async function storeSnapshot(integrationId: string, relations: CatalogRelation[], tenantId = tenant_id): Promise<string> {
  const syncId = randomUUID();
  await withTransaction(pool, async (tx) => {
    await tx.query(`INSERT INTO syncs (id, tenant_id, integration_id, status, trigger) VALUES ($1, $2, $3, 'COMPLETED', 'manual')`, [syncId, tenantId, integrationId]);
    await saveSnapshot(tx, { syncId, tenantId, integrationId }, catalog(relations));
  });
  return syncId;
}

type Page = Awaited<ReturnType<ReturnType<typeof schemaGet>>>;

/** Follows next_cursor to the end; returns every page, each checked against the contract. */
async function allPages(query: { integration_id: string; limit: number; schema?: string; table?: string }, c = ctx()): Promise<Page[]> {
  const pages: Page[] = [];
  let cursor: string | undefined;
  do {
    const page = syncRequests.schema.response.parse(await schemaGet({ pool })({ tenant_id, ...query, cursor }, c));
    pages.push(page);
    cursor = page.next_cursor ?? undefined;
  } while (cursor && pages.length < 10_000);
  return pages;
}

const names = (pages: Page[]) => pages.flatMap((p) => p.relations.map((r) => `${r.schema}.${r.name}`));

async function appError(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof AppError, String(err));
    return err;
  }
  assert.fail('the call succeeded');
}

beforeAll(async () => {
  await migrate({
    url: config.DATABASE_URL,
    schema: dbSchema,
    dir: [fileURLToPath(new URL('../../kit/migrations', import.meta.url)), fileURLToPath(new URL('../migrations', import.meta.url))],
    log,
  });
  pool = createPool({ url: config.DATABASE_URL, schema: dbSchema, max: 4, applicationName: 'sync-worker-schema-api-test' });
});

afterAll(async () => {
  await pool?.end();
  await dropSchema(config.DATABASE_URL, dbSchema);
});

describe('GET …/schema pages through relations', () => {
  const integration_id = randomUUID();
  const rels = [
    ...Array.from({ length: 230 }, (_, i) => relation('public', `t${String(i).padStart(3, '0')}`, 5, i ? `t${String(i - 1).padStart(3, '0')}` : undefined)),
    ...Array.from({ length: 20 }, (_, i) => relation('Sales Dept', `Weird "${i}"`)),
  ];
  const expected = rels.map((r) => `${r.schema}.${r.name}`).sort();

  beforeAll(async () => {
    await storeSnapshot(integration_id, rels);
  });

  test('by cursor, every relation once, pages of `limit`, the head on each, and the foreign keys of each page', async () => {
    const pages = await allPages({ integration_id, limit: 100 });
    assert.deepEqual(pages.map((p) => p.relations.length), [100, 100, 50]);
    assert.equal(pages.at(-1)!.next_cursor, null);
    const got = names(pages);
    assert.equal(new Set(got).size, got.length, 'no duplicates');
    assert.deepEqual([...got].sort(), expected, 'none missing');
    for (const p of pages) {
      assert.deepEqual(p.enums, [{ schema: 'public', name: 'mood', values: ['happy', 'sad'] }]);
      assert.equal(p.relationships.length, p.relations.filter((r) => r.foreign_keys.length).length);
    }
  });

  test('schema and table filters page too', async () => {
    const pages = await allPages({ integration_id, limit: 7, schema: 'Sales Dept' });
    assert.deepEqual(pages.map((p) => p.relations.length), [7, 7, 6]);
    assert.deepEqual(pages[0]!.schemas, [{ name: 'Sales Dept', comment: null }]);
    assert.deepEqual(pages[0]!.enums, []);
    const one = await allPages({ integration_id, limit: 100, schema: 'Sales Dept', table: 'Weird "3"' });
    assert.deepEqual(names(one), ['Sales Dept.Weird "3"']);
  });

  test('a page holds fewer than `limit` when more would not fit in one reply; still every relation once', async () => {
    const budget = 8 * jsonBytes(rels[0]) + 2_000;
    const pages = await allPages({ integration_id, limit: 100 }, ctx(budget));
    assert.ok(pages.length > 25, `${pages.length} pages`);
    for (const p of pages) assert.ok(jsonBytes(p) <= budget, `a page of ${jsonBytes(p)} bytes`);
    assert.deepEqual([...names(pages)].sort(), expected);
  });

  test('a cursor keeps to the snapshot of the first page when a newer sync completes meanwhile', async () => {
    const id = randomUUID();
    const old = Array.from({ length: 30 }, (_, i) => relation('public', `old${String(i).padStart(2, '0')}`));
    await storeSnapshot(id, old);
    const page1 = await schemaGet({ pool })({ tenant_id, integration_id: id, limit: 10 }, ctx());
    await storeSnapshot(id, [relation('public', 'new')]);
    const page2 = await schemaGet({ pool })({ tenant_id, integration_id: id, limit: 100, cursor: page1.next_cursor! }, ctx());
    assert.equal(page2.sync_id, page1.sync_id);
    assert.deepEqual([...names([page1, page2])].sort(), old.map((r) => `public.${r.name}`));
    const fresh = await schemaGet({ pool })({ tenant_id, integration_id: id, limit: 100 }, ctx());
    assert.deepEqual(names([fresh]), ['public.new']);
  });

  test('one relation larger than a reply is RESPONSE_TOO_LARGE naming it, with a cursor past it', async () => {
    const id = randomUUID();
    await storeSnapshot(id, [relation('public', 'a'), relation('public', 'huge', 2_000), relation('public', 'z')]);
    const budget = 20_000;
    const first = await schemaGet({ pool })({ tenant_id, integration_id: id, limit: 100 }, ctx(budget));
    assert.deepEqual(names([first]), ['public.a']);
    const err = await appError(schemaGet({ pool })({ tenant_id, integration_id: id, limit: 100, cursor: first.next_cursor! }, ctx(budget)));
    assert.equal(err.code, 'RESPONSE_TOO_LARGE');
    assert.match(err.message, /relation "public"\."huge" is \d+ bytes as JSON, more than one response may carry/);
    const skip = /cursor=(\S+)$/.exec(err.message)?.[1];
    assert.ok(skip, err.message);
    const rest = await schemaGet({ pool })({ tenant_id, integration_id: id, limit: 100, cursor: skip }, ctx(budget));
    assert.deepEqual(names([rest]), ['public.z']);
  });

  test('a forged cursor is VALIDATION_FAILED; another tenant gets NOT_FOUND, even with a valid cursor', async () => {
    assert.equal((await appError(schemaGet({ pool })({ tenant_id, integration_id, limit: 10, cursor: 'bm9wZQ' }, ctx()))).code, 'VALIDATION_FAILED');
    const page = await schemaGet({ pool })({ tenant_id, integration_id, limit: 10 }, ctx());
    const other = await appError(schemaGet({ pool })({ tenant_id: 'globex', integration_id, limit: 10, cursor: page.next_cursor! }, ctx()));
    assert.equal(other.code, 'NOT_FOUND');
    assert.equal((await appError(schemaGet({ pool })({ tenant_id, integration_id: randomUUID(), limit: 10 }, ctx()))).code, 'NOT_FOUND');
  });
});

describe('change sets', () => {
  const integration_id = randomUUID();
  const drift: SchemaChange[] = Array.from({ length: 5_000 }, (_, i) => ({
    kind: 'added',
    object: 'column',
    schema: 'public',
    relation: `t${i}`,
    name: 'extra',
    after: { name: 'extra', position: 4, type: 'integer', nullable: true, default: null, identity: null, generated: null, comment: null },
  }));
  let syncId: string;

  beforeAll(async () => {
    const previous = await storeSnapshot(integration_id, [relation('public', 't0')]);
    syncId = await storeSnapshot(integration_id, [relation('public', 't0')]);
    await withTransaction(pool, (tx) => saveChanges(tx, { syncId, previousSyncId: previous, tenantId: tenant_id, integrationId: integration_id, changes: drift }));
  });

  test('events.schema.changed of 5,000 changes carries as many as fit in the bound, the total and the path of the whole set', () => {
    const data = schemaChanged({ integrationId: integration_id, tenantId: tenant_id, syncId, previousSyncId: randomUUID() }, drift);
    const event = eventSchema('events.schema.changed').parse({
      specversion: '1.0',
      id: randomUUID(),
      source: 'switchyard/sync-worker',
      type: 'switchyard.schema.changed',
      time: new Date().toISOString(),
      subject: integration_id,
      datacontenttype: 'application/json',
      tenantid: tenant_id,
      data,
    });
    assert.ok(jsonBytes(event) <= DEFAULT_MAX_MESSAGE_BYTES, `${jsonBytes(event)} bytes`);
    assert.ok(data.changes.length > 100 && data.changes.length < 5_000, String(data.changes.length));
    assert.deepEqual(data.changes, drift.slice(0, data.changes.length), 'the first ones, in order');
    assert.equal(data.total, 5_000);
    assert.equal(data.truncated, true);
    assert.equal(data.changes_url, changeSetPath(integration_id, syncId));

    const small = schemaChanged({ integrationId: integration_id, tenantId: tenant_id, syncId, previousSyncId: randomUUID() }, drift.slice(0, 3));
    assert.deepEqual([small.changes.length, small.total, small.truncated], [3, 3, false]);
  });

  test('the whole set pages by cursor, in order, none missing, and by bytes when a page would outgrow a reply', async () => {
    for (const [limit, budget] of [[1_000, undefined], [1_000, 20_000]] as const) {
      const got: SchemaChange[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = syncRequests.changeSet.response.parse(
          await changeSet({ pool })({ tenant_id, integration_id, sync_id: syncId, limit, cursor }, ctx(budget)),
        );
        assert.equal(page.total, 5_000);
        if (budget) assert.ok(jsonBytes(page) <= budget);
        got.push(...page.changes);
        cursor = page.next_cursor ?? undefined;
        pages++;
      } while (cursor);
      assert.deepEqual(got, drift, `limit ${limit}, budget ${budget}`);
      assert.ok(budget ? pages > 5 : pages === 5, `${pages} pages`);
    }
  });

  test("another integration's or tenant's set is NOT_FOUND", async () => {
    assert.equal((await appError(changeSet({ pool })({ tenant_id: 'globex', integration_id, sync_id: syncId, limit: 10 }, ctx()))).code, 'NOT_FOUND');
    assert.equal((await appError(changeSet({ pool })({ tenant_id, integration_id: randomUUID(), sync_id: syncId, limit: 10 }, ctx()))).code, 'NOT_FOUND');
  });

  test('the list shows each set with its first changes, its total and where the whole set is', async () => {
    const list = syncRequests.changes.response.parse(await changeList({ pool })({ tenant_id, integration_id, limit: 50 }, ctx()));
    assert.equal(list.data.length, 1);
    const [set] = list.data;
    assert.equal(set!.total, 5_000);
    assert.equal(set!.truncated, true);
    assert.deepEqual(set!.changes, drift.slice(0, 100));
    assert.equal(set!.changes_url, changeSetPath(integration_id, syncId));
    const tight = await changeList({ pool })({ tenant_id, integration_id, limit: 50 }, ctx(5_000));
    assert.ok(tight.data[0]!.changes.length < 100 && jsonBytes(tight) <= 5_000);
  });
});
