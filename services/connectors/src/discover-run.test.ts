import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { discover } from './discover.ts';
import { ConnectionFailure } from './errors.ts';
import { ADMIN_URL, createDatabase, fakeServer, type TestDatabase } from './testing.ts';

const TABLES = 7;
const tables = (n: number) => `DO $$ BEGIN FOR i IN 1..${n} LOOP EXECUTE format('CREATE TABLE t%s (id int PRIMARY KEY)', i); END LOOP; END $$`;

describe('a discovery run', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createDatabase('connectors_run');
    await db.sql(tables(TABLES));
  });
  afterAll(async () => {
    await db.drop();
  });

  test('reports progress once up front, after every batch, and ends at the total', async () => {
    const calls: Array<[number, number]> = [];
    const catalog = await discover(db.cred, { batchSize: 3, onProgress: (done, total) => calls.push([done, total]) });
    assert.equal(catalog.relations.length, TABLES);
    assert.deepEqual(calls, [
      [0, TABLES],
      [3, TABLES],
      [6, TABLES],
      [7, TABLES],
    ]);
  });

  test('an empty selection reports 0 of 0 once', async () => {
    const calls: Array<[number, number]> = [];
    const catalog = await discover(db.cred, { schemas: ['nothing_here'], onProgress: (done, total) => calls.push([done, total]) });
    assert.deepEqual([catalog.schemas, catalog.relations, calls], [[], [], [[0, 0]]]);
  });

  test('stops between batches when aborted', async () => {
    const ac = new AbortController();
    const seen: number[] = [];
    const err = await discover(db.cred, {
      batchSize: 2,
      signal: ac.signal,
      onProgress: (done) => {
        seen.push(done);
        if (done >= 2) ac.abort();
      },
    }).catch((e: unknown) => e);
    assert.ok(err instanceof Error);
    assert.equal(err.name, 'AbortError');
    assert.deepEqual(seen, [0, 2]);
  });

  test('an already aborted signal stops before connecting', async () => {
    const err = await discover(db.cred, { signal: AbortSignal.abort() }).catch((e: unknown) => e);
    assert.equal((err as Error).name, 'AbortError');
  });

  test('an unknown database is DATABASE_NOT_FOUND', async () => {
    const err = await discover({ ...db.cred, database_name: 'no_such_db_here' }).catch((e: unknown) => e);
    assert.ok(err instanceof ConnectionFailure);
    assert.equal(err.reason, 'DATABASE_NOT_FOUND');
    assert.equal(err.retryable, false);
  });
});

describe('a discovery on a server that stops answering', () => {
  test('is TIMEOUT within the query bound', async () => {
    const server = await fakeServer({ plain: { ready: true, onQuery: 'silent' } });
    try {
      const cred = { host: '127.0.0.1', port: server.port, username: 'bob', password: 'S3cret-pa55word!', database_name: 'shop', sslmode: 'disable' as const };
      const began = performance.now();
      const err = await discover(cred, { timeoutMs: 500, queryTimeoutMs: 500 }).catch((e: unknown) => e);
      assert.ok(err instanceof ConnectionFailure, String(err));
      assert.equal(err.reason, 'TIMEOUT', err.message);
      assert.equal(err.retryable, true);
      assert.ok(performance.now() - began < 5 * 1_500);
    } finally {
      await server.close();
    }
  });
});

describe('a discovery while the database is dropped', () => {
  let doomed: TestDatabase;
  beforeAll(async () => {
    doomed = await createDatabase('connectors_doomed');
    await doomed.sql(tables(40));
  });
  afterAll(async () => {
    await doomed.drop();
  });

  test('fails with CONNECTION_LOST (or DATABASE_NOT_FOUND)', async () => {
    let dropped = false;
    const err = await discover(doomed.cred, {
      batchSize: 1,
      onProgress: (done) => {
        if (done === 0 || dropped) return;
        dropped = true;
        // Synchronously, so the drop lands between two batches: the connection is gone before discovery goes on.
        const r = spawnSync(
          process.execPath,
          [
            '-e',
            "const pg=require('pg');const c=new pg.Client(process.argv[1]);c.connect().then(()=>c.query(process.argv[2])).then(()=>c.end())",
            ADMIN_URL,
            `DROP DATABASE "${doomed.name}" WITH (FORCE)`,
          ],
          { cwd: import.meta.dirname, stdio: 'inherit' },
        );
        assert.equal(r.status, 0);
      },
    }).catch((e: unknown) => e);
    assert.ok(dropped);
    assert.ok(err instanceof ConnectionFailure, String(err));
    assert.ok(['CONNECTION_LOST', 'DATABASE_NOT_FOUND'].includes(err.reason), err.reason);
    assert.equal(err.retryable, err.reason === 'CONNECTION_LOST');
  });
});
