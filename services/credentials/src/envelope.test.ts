import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'vitest';
import { newMasterKey, openSecret, rewrapDek, sealSecret, unwrapMasterKey, wrapMasterKey, type SealedSecret } from './envelope.ts';

const owner = { tenant_id: 'tenant-a', integration_id: randomUUID() };
const secret = { host: 'db.example.com', user: 'sync', password: 'hunter2-correct-horse' };

/** A copy of the sealed secret with one byte of one part flipped. */
function flipped(s: SealedSecret, part: keyof Omit<SealedSecret, 'master_key_id'>): SealedSecret {
  const copy = Buffer.from(s[part]);
  copy[0] = copy[0]! ^ 0x01;
  return { ...s, [part]: copy };
}

describe('envelope encryption', () => {
  test('a sealed secret opens to the same value', () => {
    const mk = newMasterKey();
    const sealed = sealSecret(secret, owner, mk);
    assert.equal(sealed.master_key_id, mk.id);
    assert.deepEqual(openSecret(sealed, owner, mk.key), secret);
    assert.ok(!sealed.ciphertext.toString('latin1').includes('hunter2'));
  });

  test('flipping a byte of the ciphertext, tag, iv or any part of the wrapped data key fails to open', () => {
    const mk = newMasterKey();
    const sealed = sealSecret(secret, owner, mk);
    for (const part of ['ciphertext', 'tag', 'iv', 'wrapped_dek', 'dek_iv', 'dek_tag'] as const)
      assert.throws(() => openSecret(flipped(sealed, part), owner, mk.key), `tampered ${part} must not open`);
  });

  test('a sealed secret moved to another tenant, integration or key id fails to open', () => {
    const mk = newMasterKey();
    const sealed = sealSecret(secret, owner, mk);
    assert.throws(() => openSecret(sealed, { ...owner, tenant_id: 'tenant-b' }, mk.key));
    assert.throws(() => openSecret(sealed, { ...owner, integration_id: randomUUID() }, mk.key));
    assert.throws(() => openSecret({ ...sealed, master_key_id: 'mk_other' }, owner, mk.key));
    assert.throws(() => openSecret(sealed, owner, newMasterKey().key), 'another master key');
  });

  test('two seals of the same secret share neither ciphertext nor data key', () => {
    const mk = newMasterKey();
    const a = sealSecret(secret, owner, mk);
    const b = sealSecret(secret, owner, mk);
    assert.notDeepEqual(a.ciphertext, b.ciphertext);
    assert.notDeepEqual(a.iv, b.iv);
    assert.notDeepEqual(a.wrapped_dek, b.wrapped_dek);
    // Each data key opens only its own ciphertext.
    assert.throws(() => openSecret({ ...a, wrapped_dek: b.wrapped_dek, dek_iv: b.dek_iv, dek_tag: b.dek_tag }, owner, mk.key));
  });

  test('re-wrapping moves the data key to a new master key without touching the ciphertext', () => {
    const from = newMasterKey();
    const to = newMasterKey();
    const sealed = sealSecret(secret, owner, from);
    const moved = { ...sealed, ...rewrapDek(sealed, owner, from, to) };
    assert.equal(moved.master_key_id, to.id);
    assert.equal(moved.ciphertext, sealed.ciphertext);
    assert.deepEqual(openSecret(moved, owner, to.key), secret);
    assert.throws(() => openSecret(moved, owner, from.key), 'the old key no longer opens it');
    assert.throws(() => rewrapDek(sealed, owner, to, from), 'only the key named in the record unwraps it');
  });

  test('a master key is bound to its root key and its id', () => {
    const root = newMasterKey().key;
    const mk = newMasterKey();
    const wrapped = wrapMasterKey(mk, root);
    assert.deepEqual(unwrapMasterKey(mk.id, wrapped, root), mk.key);
    assert.throws(() => unwrapMasterKey(mk.id, wrapped, newMasterKey().key), 'another root key');
    assert.throws(() => unwrapMasterKey('mk_other', wrapped, root), 'another id');
  });
});
