import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, test } from 'vitest';
import { credentialRequests, type KeyRingStatus } from '@switchyard/contracts';
import { eventually, testLogger } from '@switchyard/kit/testing';
import { Harness, type Replica } from './testing.ts';

// Handlers called directly, as NATS would call them: a caller that waits as long as the test needs.
const ctx = { log: testLogger('credentials'), subject: 'test', deadline: Number.MAX_SAFE_INTEGER };

let h: Harness;

interface Stored {
  ref: { tenant_id: string; integration_id: string };
  secret: { password: string; n: number };
}

/** Stores `n` secrets through NATS, 25 at a time. */
async function storeMany(r: Replica, n: number): Promise<Stored[]> {
  const all: Stored[] = Array.from({ length: n }, (_, i) => ({
    ref: { tenant_id: `tenant-${i % 3}`, integration_id: randomUUID() },
    secret: { password: `pw-${i}-${randomUUID()}`, n: i },
  }));
  for (let i = 0; i < all.length; i += 25)
    await Promise.all(all.slice(i, i + 25).map((s) => r.rt.rpc.request(credentialRequests.store, { ...s.ref, secret: s.secret })));
  return all;
}

const status = (r: Replica) => r.rt.rpc.request(credentialRequests.keyRing, {});
const key = (s: KeyRingStatus, id: string) => s.keys.find((k) => k.id === id);

/** Waits until no record is left on any key but the active one and every older key is retired. */
const rewrapped = (r: Replica, timeoutMs = 30_000) =>
  eventually(
    'every record re-wrapped and the old keys retired',
    async () => {
      const s = await status(r);
      return s.keys.every((k) => k.id === s.active_key_id || (k.records === 0 && k.retired)) && s;
    },
    { timeoutMs, every: 100 },
  );

describe('master key rotation', () => {
  beforeAll(async () => {
    h = await Harness.start();
  });

  afterEach(async () => {
    await h.stopReplicas();
  });

  afterAll(async () => {
    await h?.stop();
  });

  test('the new key is used at once by every replica, old records move onto it and the old key retires', async () => {
    const schema = h.schema();
    const a = await h.replica(schema);
    // A replica started before the rotation: it must follow it without a restart.
    const b = await h.replica(schema);

    const records = await storeMany(a, 250);
    const before = await status(a);
    const oldKey = before.active_key_id;
    assert.equal(key(before, oldKey)?.records, 250);

    const rotation = await a.rt.rpc.request(credentialRequests.rotateMasterKey, {});
    assert.notEqual(rotation.active_key_id, oldKey);
    assert.deepEqual(rotation.previous_key_ids, [oldKey]);
    assert.ok(rotation.pending_rewrap > 0 && rotation.pending_rewrap <= 250, `pending ${rotation.pending_rewrap}`);

    // Right after the answer, whichever replica takes the request stores under the new key...
    const late = { tenant_id: 'tenant-late', integration_id: randomUUID() };
    const stored = await a.rt.rpc.request(credentialRequests.store, { ...late, secret: { password: 'late' } });
    assert.equal(stored.master_key_id, rotation.active_key_id);
    // ...and so does replica B, asked directly, without a restart.
    const onB = await b.app.handlers.store({ tenant_id: 'tenant-b', integration_id: randomUUID(), secret: { password: 'b' } }, ctx);
    assert.equal(onB.master_key_id, rotation.active_key_id);

    const done = await rewrapped(a);
    assert.equal(done.active_key_id, rotation.active_key_id);
    assert.equal(key(done, oldKey)?.retired, true);
    assert.equal(key(done, oldKey)?.records, 0);
    assert.equal(key(done, rotation.active_key_id)?.records, 252);
    assert.equal(key(done, rotation.active_key_id)?.retired, false);

    // Every secret still opens, on both replicas, unchanged (and at its original version: only its DEK moved).
    for (const r of records) {
      const viaNats = await a.rt.rpc.request(credentialRequests.reveal, r.ref);
      assert.deepEqual(viaNats.secret, r.secret);
      assert.equal(viaNats.version, 1);
    }
    for (const r of records.filter((_, i) => i % 5 === 0))
      assert.deepEqual((await b.app.handlers.reveal(r.ref, ctx)).secret, r.secret);
    // The retired key's row and material stay.
    const { rows } = await a.rt.pool.query('SELECT retired_at FROM master_keys WHERE id = $1', [oldKey]);
    assert.ok(rows[0]?.retired_at instanceof Date);
  });

  test('a replica that missed the change notice still writes under the new key', async () => {
    const schema = h.schema();
    const a = await h.replica(schema);
    const b = await h.replica(schema);
    await b.app.ring.stopWatching();
    const stale = b.app.ring.active().id;
    const rotation = await a.app.handlers.rotateMasterKey({}, ctx);
    assert.equal(b.app.ring.active().id, stale, 'B has not heard of the rotation');
    const stored = await b.app.handlers.store({ tenant_id: 'tenant-b', integration_id: randomUUID(), secret: { password: 'b' } }, ctx);
    assert.equal(stored.master_key_id, rotation.active_key_id);
    assert.equal(b.app.ring.active().id, rotation.active_key_id);
  });

  test('two rotations in a row leave every record on the newest key and both older keys retired', async () => {
    const schema = h.schema();
    const a = await h.replica(schema);
    const records = await storeMany(a, 40);
    const first = await a.rt.rpc.request(credentialRequests.rotateMasterKey, {});
    const second = await a.rt.rpc.request(credentialRequests.rotateMasterKey, {});
    assert.equal(second.previous_key_ids[0], first.active_key_id);
    const done = await rewrapped(a);
    assert.equal(done.active_key_id, second.active_key_id);
    assert.equal(done.keys.length, 3);
    assert.equal(done.keys.filter((k) => k.retired).length, 2);
    for (const r of records) assert.deepEqual((await a.rt.rpc.request(credentialRequests.reveal, r.ref)).secret, r.secret);
  });

  test('a replica starting after a re-wrap was cut short finishes it', async () => {
    const schema = h.schema();
    const first = await h.replica(schema);
    const records = await storeMany(first, 30);
    // Stop the background work before rotating: the process "dies" with every record on the old key.
    await first.app.rewrapper.stop();
    const rotation = await first.app.handlers.rotateMasterKey({}, ctx);
    assert.equal(rotation.pending_rewrap, 30);
    await h.stopReplica(first);

    const next = await h.replica(schema);
    const done = await rewrapped(next);
    assert.equal(done.active_key_id, rotation.active_key_id);
    assert.equal(key(done, rotation.active_key_id)?.records, 30);
    for (const r of records) assert.deepEqual((await next.app.handlers.reveal(r.ref, ctx)).secret, r.secret);
  });
});
