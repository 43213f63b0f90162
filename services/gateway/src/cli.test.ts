/** The operator's `npm run admin -- outbox-parked` and `outbox-retry`, over NATS, against a service's runtime. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { Runtime } from '@switchyard/kit';
import { dropSchema, startNatsServer, testConfig, testLogger, uniqueName, type NatsServer } from '@switchyard/kit/testing';

const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));
const run = promisify(execFile);
const schema = uniqueName('gateway_cli');
let nats: NatsServer;
let rt: Runtime;

function admin(...args: string[]) {
  return run(process.execPath, ['--import', 'tsx', CLI, ...args], {
    env: { ...process.env, NATS_URL: nats.url, NATS_USER: '', NATS_PASSWORD: '' },
    timeout: 30_000,
  });
}

/** A row as the relay parks it (the test writes it directly: parking itself is the kit's test). */
async function park(subject: string): Promise<string> {
  const id = randomUUID();
  await rt.pool.query(
    `INSERT INTO outbox_parked (id, subject, event, created_at, attempts, reason, error, bytes)
     VALUES ($1, $2, '{"secret":"payload-never-printed"}', now(), 3, 'too_large', 'the message is 2000000 bytes', 2000000)`,
    [id, subject],
  );
  return id;
}

describe('admin outbox-parked and outbox-retry', () => {
  beforeAll(async () => {
    // A private server: the runtime's queue group must not meet another gateway's.
    nats = await startNatsServer();
    rt = await Runtime.create({
      service: 'gateway',
      version: 'test',
      instanceId: uniqueName('gateway-cli'),
      config: testConfig({ NATS_URL: nats.url }),
      log: testLogger('gateway-cli'),
      schema,
    });
  });

  afterAll(async () => {
    await rt?.stop('test done');
    await nats?.dispose();
    await dropSchema(testConfig().DATABASE_URL, schema);
  });

  test("lists one service's parked rows (never their payload)", async () => {
    const id = await park('events.schema.changed');
    const { stdout } = await admin('outbox-parked', '--service', 'gateway');
    assert.match(stdout, /^gateway: 1 parked\n/);
    assert.match(stdout, new RegExp(`${id} {2}events\\.schema\\.changed {2}too_large {2}attempts=3 {2}bytes=2000000`));
    assert.match(stdout, /the message is 2000000 bytes/);
    assert.doesNotMatch(stdout, /payload-never-printed/);
    await rt.pool.query('DELETE FROM outbox_parked');
  });

  test('without --service it asks every service, says which did not answer, and exits 1', async () => {
    await assert.rejects(admin('outbox-parked'), (err: { code?: number; stdout?: string }) => {
      assert.equal(err.code, 1);
      assert.match(err.stdout ?? '', /^gateway: 0 parked$/m);
      assert.match(err.stdout ?? '', /^sync-worker: did not answer/m);
      return true;
    });
  });

  test('retry moves the row back to the outbox and says it may be parked again', async () => {
    const id = await park('events.sync.completed');
    const { stdout } = await admin('outbox-retry', '--service', 'gateway', '--id', id);
    assert.match(stdout, new RegExp(`moved ${id} \\(events\\.sync\\.completed\\) back to the end of gateway's outbox`));
    assert.match(stdout, /parked again/);
    const { rows } = await rt.pool.query<{ subject: string; published_at: Date | null }>('SELECT subject, published_at FROM outbox WHERE id = $1', [id]);
    assert.deepEqual(rows, [{ subject: 'events.sync.completed', published_at: null }]);
    assert.equal((await rt.pool.query('SELECT 1 FROM outbox_parked WHERE id = $1', [id])).rowCount, 0);
  });

  test('an unknown row, an unknown service or a missing id is a clear error', async () => {
    const missing = randomUUID();
    await assert.rejects(admin('outbox-retry', '--service', 'gateway', '--id', missing), (err: { code?: number; stderr?: string }) => {
      assert.equal(err.code, 1);
      assert.match(err.stderr ?? '', new RegExp(`no parked outbox row ${missing}`));
      return true;
    });
    await assert.rejects(admin('outbox-parked', '--service', 'nope'), (err: { code?: number; stderr?: string }) => {
      assert.equal(err.code, 2);
      assert.match(err.stderr ?? '', /--service: unknown service "nope"/);
      return true;
    });
    await assert.rejects(admin('outbox-retry', '--service', 'gateway'), (err: { code?: number; stderr?: string }) => {
      assert.equal(err.code, 2);
      assert.match(err.stderr ?? '', /--id/);
      return true;
    });
  });
});
