import { createHash, randomBytes } from 'node:crypto';

/** `sy_` + 32 base64url characters (192 random bits). */
export function generateKey(): { key: string; prefix: string; hash: Buffer } {
  const key = `sy_${randomBytes(24).toString('base64url')}`;
  return { key, prefix: key.slice(0, 10), hash: hashKey(key) };
}

export const hashKey = (key: string): Buffer => createHash('sha256').update(key).digest();

/** Keys have a fixed shape; anything else is rejected before touching the database. */
export const looksLikeKey = (s: string): boolean => /^sy_[A-Za-z0-9_-]{32}$/.test(s);
