import { z } from 'zod';
import { text } from '../text.ts';

/** Headers of the POST routes that honour `Idempotency-Key` (other headers pass through). */
export const IdempotencyHeaders = z.looseObject({
  'idempotency-key': text().min(1).max(255).optional().describe('Makes a retry of this request safe (kept 24 h)'),
});
export type IdempotencyHeaders = z.infer<typeof IdempotencyHeaders>;
