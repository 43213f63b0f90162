import type { Logger, Pool, RpcClient } from '@switchyard/kit';
import type { ConnectLimits } from '../connection.ts';

/** What the integration handlers use: their pool, the NATS client for other services, the connection limits. */
export interface Deps {
  pool: Pool;
  rpc: RpcClient;
  log: Logger;
  limits: ConnectLimits;
}

/** The CloudEvents `source` of every integration event. */
export const SOURCE = 'switchyard/integrations';
