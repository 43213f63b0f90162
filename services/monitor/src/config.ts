import { HEALTH_PORTS } from '@switchyard/contracts';
import { baseConfig } from '@switchyard/kit';
import { z } from 'zod';

export const Config = baseConfig({ healthPort: HEALTH_PORTS['monitor'] }).extend({
  // An instance is live while its last heartbeat is younger than this many intervals.
  INSTANCE_STALE_AFTER_BEATS: z.coerce.number().int().min(2).max(20).default(3),
  // Hourly rollups (the 7d and 30d windows, trends), health history and dead-letter records are kept this long.
  // 30 days covers the longest window the API serves.
  METRICS_RETENTION_DAYS: z.coerce.number().int().min(1).max(400).default(30),
  // Seed 001's check cadence: a connection test every 5 minutes, unless the integration sets its own.
  HEALTH_CHECK_INTERVAL_MS: z.coerce.number().int().min(100).max(86_400_000).default(300_000),
  // Connection tests one monitor process runs at once: each holds a connection attempt in the
  // integrations service (bounded per tenant there too), so a few suffice.
  HEALTH_CHECK_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(4),
  // How often alert rules are evaluated. Rules' windows are minutes to days: 30 s is fine-grained enough.
  ALERT_EVALUATION_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  // The tenant whose webhook endpoints receive system alerts (the operator's; `npm start` makes "default").
  ALERTS_OPERATOR_TENANT: z.string().min(1).max(200).default('default'),
});
export type Config = z.infer<typeof Config>;
