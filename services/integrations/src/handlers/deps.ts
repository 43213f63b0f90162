import type { Runtime } from '@switchyard/kit';
import type { Config } from '../config.ts';

export interface Deps {
  rt: Runtime;
  config: Config;
}
export const SOURCE = 'switchyard/integrations';
