import type { Pool } from '@switchyard/kit';
import type { KeyRing } from '../keyring.ts';
import type { Rewrapper } from '../rewrap.ts';

/** What the handlers share: the pool, the key ring and the background re-wrapper. */
export interface Deps {
  pool: Pool;
  ring: KeyRing;
  rewrapper: Rewrapper;
}
