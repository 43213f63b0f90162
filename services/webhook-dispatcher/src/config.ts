import { baseConfig } from '@switchyard/kit';
import type { z } from 'zod';

export const Config = baseConfig({ healthPort: 9204 });
export type Config = z.infer<typeof Config>;
