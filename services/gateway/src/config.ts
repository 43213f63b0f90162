import { HEALTH_PORTS } from '@switchyard/contracts';
import { baseConfig } from '@switchyard/kit';
import { z } from 'zod';

export const Config = baseConfig({ healthPort: HEALTH_PORTS['gateway'] }).extend({
  HOST: z.string().default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  /** Where clients reach the API (printed by `npm start`, used in the OpenAPI servers list). */
  PUBLIC_URL: z.url().optional(),
  // 1 MiB is ample for JSON bodies; larger ones are refused with 413 before parsing.
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1_024).max(10_485_760).default(1_048_576),
});
export type Config = z.infer<typeof Config>;
