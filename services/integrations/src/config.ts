import { HEALTH_PORTS } from '@switchyard/contracts';
import { baseConfig, targetPolicyConfig } from '@switchyard/kit';
import { z } from 'zod';

export const Config = baseConfig({ healthPort: HEALTH_PORTS['integrations'] }).extend({
  // Private and reserved addresses: refused in production unless allowed (see README).
  ...targetPolicyConfig,
  // The contract: a connection attempt never takes longer than 5 s.
  CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
  // Connection tests (test, create, new credential) one tenant runs at once in
  // one process; more are refused with 429. Four covers a person and a script
  // without letting one tenant take the process's connection attempts.
  CONNECTION_TESTS_PER_TENANT: z.coerce.number().int().min(1).max(100).default(4),
});
export type Config = z.infer<typeof Config>;
