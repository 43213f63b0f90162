import type { monitorApiRequests } from '@switchyard/contracts';
import type { Handler } from '@switchyard/kit';
import { listLetters } from '../repo/dead-letters.ts';
import type { Deps } from './deps.ts';

/** monitor.dead_letters.list (platform operator): dead letters newest first, with their error; by consumer, replayed or not. */
export const deadLetters =
  ({ pool }: Pick<Deps, 'pool'>): Handler<typeof monitorApiRequests.deadLetters> =>
  async ({ query }) =>
    listLetters(pool, query);
