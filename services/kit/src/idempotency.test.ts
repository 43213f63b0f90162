import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { createPool, KIT_MIGRATIONS, migrate, withTransaction, type Pool } from './db.ts';
import { AppError, isAppError } from './errors.ts';
import { idempotent, type IdempotencyScope } from './idempotency.ts';
import { dropSchema, testConfig, testLogger, uniqueName } from './testing/index.ts';

const config = testConfig();
const schema = uniqueName('kit_idem');
let pool: Pool;

const fp = (c: string) => c.repeat(64);
const scope = (key = randomUUID(), fingerprint = fp('a')): IdempotencyScope => ({
  tenantId: 't1',
  scope: 'things.create',
  ref: { key, fingerprint },
  deadline: Date.now() + 60_000,
});
const rejectsWith = (code: string) => (err: unknown) => isAppError(err) && err.code === code;

beforeAll(async () => {
  await migrate({ url: config.DATABASE_URL, schema, dir: KIT_MIGRATIONS, log: testLogger() });
  pool = createPool({ url: config.DATABASE_URL, schema, max: 4, applicationName: 'kit-idem-test' });
  await pool.query('CREATE TABLE things (id uuid PRIMARY KEY, name text NOT NULL)');
});
afterAll(async () => {
  await pool?.end();
  await dropSchema(config.DATABASE_URL, schema);
});

/** The work of a create: inserts a thing and stores the answer in the same transaction. */
const createThing = (name: string) => async (run: { complete(tx: import('pg').PoolClient, r: { id: string; name: string }): Promise<void> }) =>
  withTransaction(pool, async (tx) => {
    const thing = { id: randomUUID(), name };
    await tx.query('INSERT INTO things (id, name) VALUES ($1, $2)', [thing.id, name]);
    await run.complete(tx, thing);
    return thing;
  });
const count = async (name: string) => Number((await pool.query('SELECT count(*) FROM things WHERE name = $1', [name])).rows[0].count);

describe('idempotent: one piece of work per Idempotency-Key', () => {
  test('a retry with the same key and request gets the first answer, and the work runs once', async () => {
    const s = scope();
    const first = await idempotent(pool, s, createThing('once'));
    const again = await idempotent(pool, s, createThing('once'));
    assert.equal(first.replayed, false);
    assert.equal(again.replayed, true);
    assert.deepEqual(again.result, first.result);
    assert.equal(await count('once'), 1);
  });

  test('the same key with another request is refused (422) and runs nothing', async () => {
    const key = randomUUID();
    await idempotent(pool, scope(key, fp('a')), createThing('mismatch'));
    await assert.rejects(idempotent(pool, scope(key, fp('b')), createThing('mismatch')), rejectsWith('UNPROCESSABLE'));
    assert.equal(await count('mismatch'), 1);
  });

  test('a retry while the first still runs is a conflict that says when to come back', async () => {
    const s = scope();
    let release!: () => void;
    const started = new Promise<void>((r) => {
      void idempotent(pool, s, async (run) => {
        r();
        await new Promise<void>((done) => (release = done));
        return createThing('slow')(run);
      });
    });
    await started;
    await assert.rejects(idempotent(pool, s, createThing('slow')), (err: unknown) => {
      assert.ok(isAppError(err) && err.code === 'CONFLICT', String(err));
      assert.ok(Number(err.details?.retry_after_seconds) >= 1);
      return true;
    });
    release();
  });

  test('a holder that died leaves a lapsed lease: the retry takes the work over', async () => {
    const s = scope();
    // What a process killed mid-work leaves: "running", its lease in the past, nothing committed.
    await pool.query(
      `INSERT INTO idempotency_keys (tenant_id, scope, key, fingerprint, state, holder, lease_until)
       VALUES ($1, $2, $3, $4, 'running', $5, clock_timestamp() - interval '1 second')`,
      [s.tenantId, s.scope, s.ref.key, s.ref.fingerprint, randomUUID()],
    );
    const taken = await idempotent(pool, s, createThing('orphaned'));
    assert.equal(taken.replayed, false);
    assert.equal(await count('orphaned'), 1);
    assert.equal((await idempotent(pool, s, createThing('orphaned'))).replayed, true);
  });

  test('an attempt whose lease was taken over cannot commit its work', async () => {
    const s = scope();
    await assert.rejects(
      idempotent(pool, s, async (run) => {
        // Another attempt took the key over while this one was slow.
        await pool.query('UPDATE idempotency_keys SET holder = $1 WHERE key = $2', [randomUUID(), s.ref.key]);
        return createThing('lost-lease')(run);
      }),
      rejectsWith('CONFLICT'),
    );
    assert.equal(await count('lost-lease'), 0, 'the work rolled back with the answer');
  });

  test('a refusal (4xx) is kept and replayed; a failure that may pass (5xx, outage) frees the key', async () => {
    const refused = scope();
    let runs = 0;
    const refuse = async () => {
      runs++;
      throw new AppError('CONNECTION_FAILED', 'password authentication failed');
    };
    await assert.rejects(idempotent(pool, refused, refuse), rejectsWith('CONNECTION_FAILED'));
    await assert.rejects(idempotent(pool, refused, refuse), rejectsWith('CONNECTION_FAILED'));
    assert.equal(runs, 1, 'the second answer is the stored one');

    const flaky = scope();
    await assert.rejects(
      idempotent(pool, flaky, async () => {
        throw new AppError('UNAVAILABLE', 'credentials is not available');
      }),
      rejectsWith('UNAVAILABLE'),
    );
    const retried = await idempotent(pool, flaky, createThing('after-outage'));
    assert.equal(retried.replayed, false);
    assert.equal(await count('after-outage'), 1);
  });

  test('work is not started past the caller’s deadline, and leaves no key behind', async () => {
    const s = { ...scope(), deadline: Date.now() - 1 };
    await assert.rejects(idempotent(pool, s, createThing('too-late')), rejectsWith('TIMEOUT'));
    assert.equal(await count('too-late'), 0);
    const { rowCount } = await pool.query('SELECT 1 FROM idempotency_keys WHERE key = $1', [s.ref.key]);
    assert.equal(rowCount, 0);
  });
});
