import type { Heartbeat } from '@switchyard/contracts';
import type { Pool } from '@switchyard/kit';
import { recordHeartbeat } from '../repo/instances.ts';

/** monitor.heartbeat: an instance says it is alive (or, with `stopping`, that it is going away). */
export const onHeartbeat =
  ({ pool }: { pool: Pool }) =>
  (beat: Heartbeat): Promise<void> =>
    recordHeartbeat(pool, beat);
