import type { AuthFailure } from '@switchyard/contracts';
import type { Pool } from '@switchyard/kit';
import { countAuthFailure } from '../repo/auth-failures.ts';

/** monitor.auth_failed: a request the gateway refused for its key, counted per address and key prefix. */
export const onAuthFailed =
  ({ pool }: { pool: Pool }) =>
  (f: AuthFailure): Promise<void> =>
    countAuthFailure(pool, f);
