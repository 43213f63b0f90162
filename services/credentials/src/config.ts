import { HEALTH_PORTS } from '@switchyard/contracts';
import { baseConfig } from '@switchyard/kit';
import { z } from 'zod';

const KEY_BYTES = 32;

/**
 * A 32-byte key given as base64. Buffer.from(…, 'base64') silently skips
 * characters it does not know, so the alphabet is checked first: a typo must
 * stop the process, not yield a different key.
 */
const base64Key = z
  .string()
  .trim()
  .transform((v, ctx) => {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(v) || v.length % 4 !== 0) {
      ctx.addIssue({ code: 'custom', message: `must be base64 (for example from \`openssl rand -base64 ${KEY_BYTES}\`)` });
      return z.NEVER;
    }
    const key = Buffer.from(v, 'base64');
    if (key.length !== KEY_BYTES) {
      ctx.addIssue({ code: 'custom', message: `must decode to exactly ${KEY_BYTES} bytes, not ${key.length}` });
      return z.NEVER;
    }
    return key;
  });

export const Config = baseConfig({ healthPort: HEALTH_PORTS['credentials'] })
  .extend({
    // Wraps every master key. Optional only outside production (see rootKeys below).
    CREDENTIALS_ROOT_KEY: base64Key.optional(),
    // The root key being replaced: master keys it still wraps are re-wrapped with CREDENTIALS_ROOT_KEY at start.
    CREDENTIALS_ROOT_KEY_PREVIOUS: base64Key.optional(),
    // 100 rows keeps each re-wrap transaction (and the row locks it holds) short.
    REWRAP_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(100),
  })
  .superRefine((c, ctx) => {
    if (c.NODE_ENV === 'production' && !c.CREDENTIALS_ROOT_KEY)
      ctx.addIssue({ code: 'custom', path: ['CREDENTIALS_ROOT_KEY'], message: 'is required when NODE_ENV=production' });
  });
export type Config = z.infer<typeof Config>;

/**
 * The development root key, used only when CREDENTIALS_ROOT_KEY is unset
 * outside production, so `npm start` and the tests work on a fresh checkout.
 * It is public (it is right here), so anything it wraps is not protected:
 * the service logs a warning at start whenever it is used.
 */
const INSECURE_DEV_ROOT_KEY = 'switchyard-dev-only-root-key-32b';

export interface RootKeys {
  current: Buffer;
  previous?: Buffer;
  /** True when the public development key is in use. */
  insecureDefault: boolean;
}

export function rootKeys(config: Config): RootKeys {
  if (config.CREDENTIALS_ROOT_KEY)
    return { current: config.CREDENTIALS_ROOT_KEY, previous: config.CREDENTIALS_ROOT_KEY_PREVIOUS, insecureDefault: false };
  if (config.NODE_ENV === 'production') throw new Error('CREDENTIALS_ROOT_KEY is required when NODE_ENV=production');
  return { current: Buffer.from(INSECURE_DEV_ROOT_KEY, 'utf8'), previous: config.CREDENTIALS_ROOT_KEY_PREVIOUS, insecureDefault: true };
}
