import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { credentialRequests } from '@switchyard/contracts';
import { AppError } from '@switchyard/kit';
import { capturingLogger, Harness, type Replica } from './testing.ts';

const PASSWORD = 'pw-7f3a9c-never-in-plaintext';
const secret = { host: 'db.internal', port: 5432, user: 'sync', password: PASSWORD };

let h: Harness;
let replica: Replica;
let schema: string;
let logs: string[];

const rpc = () => replica.rt.rpc;
const owner = (tenant = 'tenant-a') => ({ tenant_id: tenant, integration_id: randomUUID() });

async function rejectsWith(p: Promise<unknown>, code: string) {
  await assert.rejects(p, (err: unknown) => err instanceof AppError && err.code === code);
}

describe('credentials through NATS', () => {
  beforeAll(async () => {
    h = await Harness.start();
    schema = h.schema();
    const captured = capturingLogger();
    logs = captured.lines;
    replica = await h.replica(schema, {}, captured.log);
  });

  afterAll(async () => {
    await h?.stop();
  });

  test('a stored secret is revealed as it was stored, under the active master key', async () => {
    const ref = owner();
    const stored = await rpc().request(credentialRequests.store, { ...ref, secret });
    assert.equal(stored.integration_id, ref.integration_id);
    assert.equal(stored.version, 1);
    const ring = await rpc().request(credentialRequests.keyRing, {});
    assert.equal(stored.master_key_id, ring.active_key_id);

    const revealed = await rpc().request(credentialRequests.reveal, ref);
    assert.deepEqual(revealed, { integration_id: ref.integration_id, secret, version: 1 });
  });

  test('the row in PostgreSQL holds no plaintext in any column', async () => {
    const ref = owner();
    await rpc().request(credentialRequests.store, { ...ref, secret });
    const { rows } = await replica.rt.pool.query<Record<string, unknown>>(
      'SELECT c.*, c::text AS row_text FROM credentials c WHERE integration_id = $1',
      [ref.integration_id],
    );
    assert.equal(rows.length, 1);
    const needle = Buffer.from(PASSWORD, 'utf8');
    for (const [column, value] of Object.entries(rows[0]!)) {
      const bytes = Buffer.isBuffer(value) ? value : Buffer.from(value instanceof Date ? value.toISOString() : String(value), 'utf8');
      assert.equal(bytes.includes(needle), false, `${column} holds the password`);
      assert.equal(bytes.includes(Buffer.from(needle.toString('hex'))), false, `${column} holds the password in hex`);
      assert.equal(bytes.includes(Buffer.from('db.internal')), false, `${column} holds part of the secret`);
    }
  });

  test("another tenant's integration is not found, and deleting it as that tenant removes nothing", async () => {
    const ref = owner('tenant-a');
    await rpc().request(credentialRequests.store, { ...ref, secret });
    const intruder = { ...ref, tenant_id: 'tenant-b' };
    await rejectsWith(rpc().request(credentialRequests.reveal, intruder), 'NOT_FOUND');
    assert.deepEqual(await rpc().request(credentialRequests.delete, intruder), { deleted: false });
    assert.equal((await rpc().request(credentialRequests.reveal, ref)).secret.password, PASSWORD);
  });

  test('a deleted secret is not found; deleting again is harmless', async () => {
    const ref = owner();
    await rpc().request(credentialRequests.store, { ...ref, secret });
    assert.deepEqual(await rpc().request(credentialRequests.delete, ref), { deleted: true });
    await rejectsWith(rpc().request(credentialRequests.reveal, ref), 'NOT_FOUND');
    assert.deepEqual(await rpc().request(credentialRequests.delete, ref), { deleted: false });
  });

  test('storing again replaces the secret and bumps its version', async () => {
    const ref = owner();
    await rpc().request(credentialRequests.store, { ...ref, secret });
    const second = await rpc().request(credentialRequests.store, { ...ref, secret: { ...secret, password: 'rotated' } });
    assert.equal(second.version, 2);
    const revealed = await rpc().request(credentialRequests.reveal, ref);
    assert.equal(revealed.version, 2);
    assert.equal(revealed.secret.password, 'rotated');
    const { rows } = await replica.rt.pool.query('SELECT 1 FROM credentials WHERE integration_id = $1', [ref.integration_id]);
    assert.equal(rows.length, 1, 'one row per tenant and integration');
  });

  test('a request that breaks the contract is refused without echoing the secret', async () => {
    const reply = await replica.rt.nc.request(
      credentialRequests.store.subject,
      JSON.stringify({ tenant_id: 'tenant-a', integration_id: 'not-a-uuid', secret }),
      { timeout: 2_000 },
    );
    const text = reply.string();
    assert.match(text, /VALIDATION_FAILED/);
    assert.ok(!text.includes(PASSWORD));
  });

  test('the logs warn about the development root key and never carry a secret', async () => {
    assert.ok(
      logs.some((l) => l.includes('"level":"warn"') && l.includes('CREDENTIALS_ROOT_KEY is not set')),
      'a warning names the unset variable',
    );
    assert.ok(logs.length > 0);
    for (const line of logs) assert.ok(!line.includes(PASSWORD), `a log line holds the password: ${line.slice(0, 120)}`);
  });
});
