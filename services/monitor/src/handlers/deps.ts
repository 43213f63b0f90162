import type { QueueList } from '@switchyard/contracts';
import type { Logger, Pool, RpcClient } from '@switchyard/kit';

/** What the monitor's handlers use. */
export interface Deps {
  pool: Pool;
  rpc: RpcClient;
  log: Logger;
  readQueues: () => Promise<QueueList>;
  defaultIntervalS: number;
}
