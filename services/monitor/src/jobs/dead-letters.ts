import type { DeadLetter } from '@switchyard/contracts';
import type { Pool } from '@switchyard/kit';
import { recordLetter } from '../repo/dead-letters.ts';

/** Each dead letter, as it is parked on the DEADLETTER stream: recorded once (a redelivery has the same id). */
export const onDeadLetter =
  ({ pool }: { pool: Pool }) =>
  (letter: DeadLetter): Promise<void> =>
    recordLetter(pool, letter);
