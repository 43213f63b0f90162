import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { credentialRequests } from '@switchyard/contracts';
import { unwrapMasterKey } from './envelope.ts';
import { listMasterKeys, wrappedOf } from './repo/master-keys.ts';
import { Harness, rootKeyEnv } from './testing.ts';

let h: Harness;

describe('root key rotation', () => {
  beforeAll(async () => {
    h = await Harness.start();
  });

  afterAll(async () => {
    await h?.stop();
  });

  test('master keys move from the previous root key to the new one at start, and secrets stay readable', async () => {
    const schema = h.schema();
    const rootA = randomBytes(32);
    const rootB = randomBytes(32);
    const ref = { tenant_id: 'tenant-a', integration_id: randomUUID() };
    const secret = { password: 'root-rotation-secret' };

    const underA = await h.replica(schema, { CREDENTIALS_ROOT_KEY: rootKeyEnv(rootA) });
    await underA.rt.rpc.request(credentialRequests.store, { ...ref, secret });
    // Two master keys, so more than the active one is carried over.
    await underA.rt.rpc.request(credentialRequests.rotateMasterKey, {});
    await h.stopReplica(underA);

    // B alone cannot read a ring wrapped by A, and says which variable to set.
    await assert.rejects(h.replica(schema, { CREDENTIALS_ROOT_KEY: rootKeyEnv(rootB) }), /CREDENTIALS_ROOT_KEY_PREVIOUS/);
    const wrong = { CREDENTIALS_ROOT_KEY: rootKeyEnv(rootB), CREDENTIALS_ROOT_KEY_PREVIOUS: rootKeyEnv(randomBytes(32)) };
    await assert.rejects(h.replica(schema, wrong), /neither CREDENTIALS_ROOT_KEY nor CREDENTIALS_ROOT_KEY_PREVIOUS/);

    const rotating = await h.replica(schema, {
      CREDENTIALS_ROOT_KEY: rootKeyEnv(rootB),
      CREDENTIALS_ROOT_KEY_PREVIOUS: rootKeyEnv(rootA),
    });
    assert.deepEqual((await rotating.rt.rpc.request(credentialRequests.reveal, ref)).secret, secret);
    const keys = await listMasterKeys(rotating.rt.pool);
    assert.equal(keys.length, 2);
    for (const k of keys) {
      assert.equal(unwrapMasterKey(k.id, wrappedOf(k), rootB).length, 32, `${k.id} is wrapped by B`);
      assert.throws(() => unwrapMasterKey(k.id, wrappedOf(k), rootA), `${k.id} is no longer wrapped by A`);
    }
    await h.stopReplica(rotating);

    const onlyB = await h.replica(schema, { CREDENTIALS_ROOT_KEY: rootKeyEnv(rootB) });
    assert.deepEqual((await onlyB.rt.rpc.request(credentialRequests.reveal, ref)).secret, secret);
    await h.stopReplica(onlyB);
  });
});
