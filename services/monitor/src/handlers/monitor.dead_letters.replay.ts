import { jobRequests, ServiceName, type monitorApiRequests } from '@switchyard/contracts';
import { AppError, type Handler } from '@switchyard/kit';
import { getLetter, markReplayed } from '../repo/dead-letters.ts';
import type { Deps } from './deps.ts';

/**
 * monitor.dead_letters.replay (platform operator): hands the letter back to
 * the service whose consumer gave it up (`<service>.jobs.requeue`), which
 * queues the job again through its own outbox or runs it anew: the monitor
 * needs no right to publish another service's jobs.
 */
export const replay =
  ({ pool, rpc, log }: Pick<Deps, 'pool' | 'rpc' | 'log'>): Handler<typeof monitorApiRequests.replay> =>
  async ({ id }) => {
    const letter = await getLetter(pool, id);
    const service = ServiceName.safeParse(letter.service);
    if (!service.success) throw new AppError('UNPROCESSABLE', `no service runs consumer ${letter.consumer} on ${letter.stream}: nothing can replay it`);
    const done = await rpc.request(jobRequests[service.data].requeue, {
      dead_letter_id: letter.id,
      stream: letter.stream,
      consumer: letter.consumer,
      subject: letter.subject,
      payload: letter.payload,
    });
    log.info({ dead_letter_id: id, service: service.data, how: done.how, detail: done.detail }, 'dead letter replayed');
    return markReplayed(pool, id);
  };
