import type { Runtime } from '@switchyard/kit';
import type { Config } from '../config.ts';
import type { ConnectLimits } from '../connection.ts';

export interface Deps {
  rt: Runtime;
  config: Config;
  limits: ConnectLimits;
}
export const SOURCE = 'switchyard/integrations';
