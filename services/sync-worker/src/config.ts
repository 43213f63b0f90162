import { baseConfig } from '@switchyard/kit';
import { z } from 'zod';

export const Config = baseConfig({ healthPort: 9203 }).extend({
  // Each sync holds one connection to a customer database; 10 keeps a worker
  // from opening more than a small pool's worth at once.
  SYNC_CONCURRENCY: z.coerce.number().int().min(1).max(200).default(10),
});
export type Config = z.infer<typeof Config>;
