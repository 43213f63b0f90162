import { HEALTH_PORTS } from '@switchyard/contracts';
import { baseConfig } from '@switchyard/kit';
import { z } from 'zod';

export const Config = baseConfig({ healthPort: HEALTH_PORTS['monitor'] }).extend({
  // An instance is live while its last heartbeat is younger than this many intervals.
  INSTANCE_STALE_AFTER_BEATS: z.coerce.number().int().min(2).max(20).default(3),
});
export type Config = z.infer<typeof Config>;
