import { HEALTH_PORTS } from '@switchyard/contracts';
import { baseConfig } from '@switchyard/kit';
import type { z } from 'zod';

export const Config = baseConfig({ healthPort: HEALTH_PORTS['webhook-dispatcher'] });
export type Config = z.infer<typeof Config>;
