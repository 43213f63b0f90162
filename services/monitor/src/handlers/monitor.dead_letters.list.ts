import type { monitorApiRequests } from '@switchyard/contracts';
import { replyBudget, type Handler } from '@switchyard/kit';
import { listLetters } from '../repo/dead-letters.ts';
import type { Deps } from './deps.ts';

/** monitor.dead_letters.list (platform operator): dead letters newest first, with their error and payload, as many as fit in one reply. */
export const deadLetters =
  ({ pool }: Pick<Deps, 'pool'>): Handler<typeof monitorApiRequests.deadLetters> =>
  async ({ query }, ctx) =>
    listLetters(pool, query, replyBudget(ctx));
