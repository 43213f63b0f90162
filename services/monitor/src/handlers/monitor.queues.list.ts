import type { monitorApiRequests } from '@switchyard/contracts';
import type { Handler } from '@switchyard/kit';
import type { Deps } from './deps.ts';

/** monitor.queues.list (platform operator): every stream and durable consumer, as JetStream reports them now. */
export const queues =
  ({ readQueues }: Pick<Deps, 'readQueues'>): Handler<typeof monitorApiRequests.queues> =>
  async () =>
    readQueues();
