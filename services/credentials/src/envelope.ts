/**
 * Envelope encryption with node:crypto alone. A secret is sealed with its own
 * data key (DEK, AES-256-GCM); the DEK is wrapped by a master key; master keys
 * are wrapped by the root key from the environment. Every layer binds what it
 * belongs to as associated data, so a ciphertext copied to another tenant,
 * integration or key id fails to open instead of decrypting under the wrong name.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Secret } from '@switchyard/contracts';

const ALGORITHM = 'aes-256-gcm';
export const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface Owner {
  tenant_id: string;
  integration_id: string;
}

/** An AES-GCM output: ciphertext, its nonce and its authentication tag. */
export interface Sealed {
  data: Buffer;
  iv: Buffer;
  tag: Buffer;
}

/** What the credentials table stores for one secret (besides its owner and version). */
export interface SealedSecret {
  ciphertext: Buffer;
  iv: Buffer;
  tag: Buffer;
  wrapped_dek: Buffer;
  dek_iv: Buffer;
  dek_tag: Buffer;
  master_key_id: string;
}

export type WrappedDek = Pick<SealedSecret, 'wrapped_dek' | 'dek_iv' | 'dek_tag' | 'master_key_id'>;

export interface MasterKey {
  id: string;
  key: Buffer;
}

// Tenant ids may hold ':' but integration ids are UUIDs, so these strings cannot collide.
export const secretAad = (o: Owner) => `switchyard:credential:v1:${o.tenant_id}:${o.integration_id}`;
const dekAad = (o: Owner, masterKeyId: string) => `switchyard:credential-dek:v1:${o.tenant_id}:${o.integration_id}:${masterKeyId}`;
const masterKeyAad = (id: string) => `switchyard:master-key:v1:${id}`;

export function seal(key: Buffer, plaintext: Buffer, aad: string): Sealed {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const data = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { data, iv, tag: cipher.getAuthTag() };
}

/** Throws when the key, the associated data or any byte of the sealed parts is wrong. */
export function open(key: Buffer, sealed: Sealed, aad: string): Buffer {
  if (sealed.iv.length !== IV_BYTES || sealed.tag.length !== TAG_BYTES) throw new Error('malformed sealed value');
  const decipher = createDecipheriv(ALGORITHM, key, sealed.iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(sealed.tag);
  const head = decipher.update(sealed.data);
  try {
    const tail = decipher.final();
    const out = Buffer.concat([head, tail]);
    tail.fill(0);
    return out;
  } finally {
    head.fill(0);
  }
}

/** Seals a secret under a fresh data key, wrapped by the given master key. */
export function sealSecret(secret: Secret, owner: Owner, master: MasterKey): SealedSecret {
  const dek = randomBytes(KEY_BYTES);
  const plaintext = Buffer.from(JSON.stringify(secret), 'utf8');
  try {
    const body = seal(dek, plaintext, secretAad(owner));
    const wrapped = seal(master.key, dek, dekAad(owner, master.id));
    return {
      ciphertext: body.data,
      iv: body.iv,
      tag: body.tag,
      wrapped_dek: wrapped.data,
      dek_iv: wrapped.iv,
      dek_tag: wrapped.tag,
      master_key_id: master.id,
    };
  } finally {
    // The JSON string itself cannot be wiped; the buffers we own can.
    dek.fill(0);
    plaintext.fill(0);
  }
}

/** Opens a sealed secret; `masterKey` must be the key named by `sealed.master_key_id`. */
export function openSecret(sealed: SealedSecret, owner: Owner, masterKey: Buffer): Secret {
  const dek = unwrapDek(sealed, owner, masterKey);
  try {
    const plaintext = open(dek, { data: sealed.ciphertext, iv: sealed.iv, tag: sealed.tag }, secretAad(owner));
    try {
      return JSON.parse(plaintext.toString('utf8')) as Secret;
    } finally {
      plaintext.fill(0);
    }
  } finally {
    dek.fill(0);
  }
}

function unwrapDek(w: WrappedDek, owner: Owner, masterKey: Buffer): Buffer {
  return open(masterKey, { data: w.wrapped_dek, iv: w.dek_iv, tag: w.dek_tag }, dekAad(owner, w.master_key_id));
}

/** Moves a DEK from one master key to another; the secret itself is never decrypted. */
export function rewrapDek(w: WrappedDek, owner: Owner, from: MasterKey, to: MasterKey): WrappedDek {
  if (w.master_key_id !== from.id) throw new Error('the DEK is not wrapped by that master key');
  const dek = unwrapDek(w, owner, from.key);
  try {
    const wrapped = seal(to.key, dek, dekAad(owner, to.id));
    return { wrapped_dek: wrapped.data, dek_iv: wrapped.iv, dek_tag: wrapped.tag, master_key_id: to.id };
  } finally {
    dek.fill(0);
  }
}

export const newMasterKey = (): MasterKey => ({ id: `mk_${randomBytes(8).toString('hex')}`, key: randomBytes(KEY_BYTES) });

export const wrapMasterKey = (key: MasterKey, root: Buffer): Sealed => seal(root, key.key, masterKeyAad(key.id));

export const unwrapMasterKey = (id: string, wrapped: Sealed, root: Buffer): Buffer => open(root, wrapped, masterKeyAad(id));
