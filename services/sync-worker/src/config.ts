import { HEALTH_PORTS } from '@switchyard/contracts';
import { baseConfig, targetPolicyConfig } from '@switchyard/kit';
import { z } from 'zod';

export const Config = baseConfig({ healthPort: HEALTH_PORTS['sync-worker'] }).extend({
  // Private and reserved addresses: refused in production unless allowed (see README).
  ...targetPolicyConfig,
  // Each sync holds one connection to a customer database; 10 keeps a worker
  // from opening more than a small pool's worth at once.
  SYNC_CONCURRENCY: z.coerce.number().int().min(1).max(200).default(10),
  // Bounds every catalog query and the connection attempt.
  SYNC_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
  // Relations read per round of catalog queries: bounds memory and sets how often progress moves.
  SYNC_DISCOVERY_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
  SYNC_QUERY_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(300_000),
});
export type Config = z.infer<typeof Config>;
