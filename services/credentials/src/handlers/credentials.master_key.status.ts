import type { credentialRequests } from '@switchyard/contracts';
import { AppError, type Handler } from '@switchyard/kit';
import { activeMasterKeyId, keyUsage } from '../repo/master-keys.ts';
import type { Deps } from './deps.ts';

/** credentials.master_key.status: the ring as the table has it (not this replica's cache). */
export const keyRing =
  (d: Deps): Handler<typeof credentialRequests.keyRing> =>
  async () => {
    const [active, keys] = await Promise.all([activeMasterKeyId(d.pool), keyUsage(d.pool)]);
    if (!active) throw new AppError('UNAVAILABLE', 'the key ring is not set up yet');
    return {
      active_key_id: active,
      keys: keys.map((k) => ({ id: k.id, created_at: k.created_at.toISOString(), records: k.records, retired: k.retired })),
    };
  };
