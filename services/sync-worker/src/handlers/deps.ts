import type { Pool } from '@switchyard/kit';

/** The request handlers need only the sync-worker's pool. */
export interface Deps {
  pool: Pool;
}
