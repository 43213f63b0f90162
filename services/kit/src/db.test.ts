import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPool, migrate, withTransaction, type Pool } from './db.ts';
import { dropSchema, testConfig, testLogger, uniqueName } from './testing/index.ts';

const config = testConfig();
const log = testLogger('db-test');

const MIGRATIONS = {
  '1700000000001_widgets.sql': `-- Up Migration
CREATE TABLE widgets (id serial PRIMARY KEY, name text NOT NULL UNIQUE);

-- Down Migration
DROP TABLE widgets;
`,
  '1700000000002_widget_colour.sql': `-- Up Migration
ALTER TABLE widgets ADD COLUMN colour text NOT NULL DEFAULT 'grey';

-- Down Migration
ALTER TABLE widgets DROP COLUMN colour;
`,
};
const NAMES = Object.keys(MIGRATIONS).map((f) => f.replace(/\.sql$/, ''));

let dir: string;
const schemas: string[] = [];
const pools: Pool[] = [];

/** A schema that is dropped after the file's tests. */
const newSchema = () => {
  const s = uniqueName('kit_db');
  schemas.push(s);
  return s;
};
const newPool = (schema: string) => {
  const pool = createPool({ url: config.DATABASE_URL, schema, max: 4, applicationName: 'kit-db-test' });
  pools.push(pool);
  return pool;
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kit-migrations-'));
  for (const [name, sql] of Object.entries(MIGRATIONS)) await writeFile(join(dir, name), sql);
});

afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
  for (const s of schemas) await dropSchema(config.DATABASE_URL, s);
  await rm(dir, { recursive: true, force: true });
});

/** Migrations recorded in a schema's own pgmigrations table. */
async function recorded(pool: Pool, schema: string): Promise<string[]> {
  const { rows } = await pool.query<{ name: string }>(
    `SELECT name FROM "${schema}".pgmigrations ORDER BY id`,
  );
  return rows.map((r) => r.name);
}

describe('migrate', () => {
  test('applies SQL migrations in a fresh schema, and nothing the second time', async () => {
    const schema = newSchema();
    const applied = await migrate({ url: config.DATABASE_URL, schema, dir, log });
    assert.deepEqual(applied, NAMES);

    const pool = newPool(schema);
    const { rows } = await pool.query<{ table_schema: string; column_name: string }>(
      `SELECT table_schema, column_name FROM information_schema.columns
       WHERE table_name = 'widgets' AND table_schema = $1 ORDER BY ordinal_position`,
      [schema],
    );
    assert.deepEqual(
      rows.map((r) => r.column_name),
      ['id', 'name', 'colour'],
    );
    assert.deepEqual(await recorded(pool, schema), NAMES);

    assert.deepEqual(await migrate({ url: config.DATABASE_URL, schema, dir, log }), []);
    assert.deepEqual(await recorded(pool, schema), NAMES);
  });

  test('four replicas migrating the same schema at once all succeed and apply each migration once', async () => {
    const schema = newSchema();
    const results = await Promise.allSettled(
      Array.from({ length: 4 }, () => migrate({ url: config.DATABASE_URL, schema, dir, log })),
    );
    for (const r of results) assert.equal(r.status, 'fulfilled', r.status === 'rejected' ? String(r.reason) : '');
    const applied = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
    assert.deepEqual(applied.sort(), NAMES, 'every migration reported applied by exactly one caller');

    const pool = newPool(schema);
    assert.deepEqual(await recorded(pool, schema), NAMES);
  });

  test('takes several directories as one ordered list', async () => {
    const schema = newSchema();
    const kitDir = new URL('../migrations', import.meta.url).pathname;
    const kitNames = readdirSync(kitDir).filter((f) => f.endsWith('.sql')).map((f) => f.slice(0, -'.sql'.length)).sort();
    const applied = await migrate({ url: config.DATABASE_URL, schema, dir: [kitDir, dir], log });
    // The kit's migrations and the service's run as one list, by timestamp.
    assert.deepEqual(applied, [...kitNames, ...NAMES].sort());
    const pool = newPool(schema);
    const { rows } = await pool.query(`SELECT to_regclass($1) AS outbox`, [`"${schema}".outbox`]);
    assert.notEqual(rows[0].outbox, null);
  });
});

describe('createPool', () => {
  test("puts unqualified tables in the service's schema", async () => {
    const schema = newSchema();
    const other = newSchema();
    await migrate({ url: config.DATABASE_URL, schema, dir, log });
    await migrate({ url: config.DATABASE_URL, schema: other, dir, log });

    const pool = newPool(schema);
    await pool.query(`INSERT INTO widgets (name) VALUES ('sprocket')`);
    const mine = await pool.query(`SELECT name, colour FROM "${schema}".widgets`);
    assert.deepEqual(mine.rows, [{ name: 'sprocket', colour: 'grey' }]);
    const theirs = await pool.query(`SELECT name FROM "${other}".widgets`);
    assert.equal(theirs.rowCount, 0, 'the write must not land in another schema');

    const { rows } = await pool.query<{ s: string }>('SELECT current_schema() AS s');
    assert.equal(rows[0]!.s, schema);
  });
});

describe('withTransaction', () => {
  test('commits what the function did and returns its result', async () => {
    const schema = newSchema();
    await migrate({ url: config.DATABASE_URL, schema, dir, log });
    const pool = newPool(schema);
    const id = await withTransaction(pool, async (tx) => {
      const { rows } = await tx.query<{ id: number }>(`INSERT INTO widgets (name) VALUES ('cog') RETURNING id`);
      return rows[0]!.id;
    });
    const { rows } = await pool.query('SELECT id, name FROM widgets');
    assert.deepEqual(rows, [{ id, name: 'cog' }]);
  });

  test('rolls back everything when the function throws, and rethrows', async () => {
    const schema = newSchema();
    await migrate({ url: config.DATABASE_URL, schema, dir, log });
    const pool = newPool(schema);
    const boom = new Error('boom');
    await assert.rejects(
      withTransaction(pool, async (tx) => {
        await tx.query(`INSERT INTO widgets (name) VALUES ('gear')`);
        throw boom;
      }),
      (err) => err === boom,
    );
    const { rowCount } = await pool.query('SELECT 1 FROM widgets');
    assert.equal(rowCount, 0);
    // The connection went back to the pool clean, not stuck in an aborted transaction.
    const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM widgets');
    assert.equal(rows[0]!.n, '0');
    assert.equal(pool.totalCount - pool.idleCount, 0, 'client released');
  });
});
