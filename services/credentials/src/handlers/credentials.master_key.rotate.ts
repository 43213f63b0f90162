import type { credentialRequests } from '@switchyard/contracts';
import type { Handler, Logger } from '@switchyard/kit';
import { countNotOnKey } from '../repo/credentials.ts';
import { keyUsage } from '../repo/master-keys.ts';
import type { Deps } from './deps.ts';

/**
 * credentials.master_key.rotate: the new key is active as soon as its row
 * commits (every replica checks the active key inside each write). Records
 * are re-wrapped in the background; the answer says how many are waiting.
 */
export const rotateMasterKey =
  (d: Deps & { log: Logger }): Handler<typeof credentialRequests.rotateMasterKey> =>
  async () => {
    // The keys in use before the rotation, read before it: the re-wrapper may retire an unused one at once.
    const previous = (await keyUsage(d.pool))
      .filter((k) => !k.retired)
      .map((k) => k.id)
      .reverse();
    const active = await d.ring.rotate();
    const pending = await countNotOnKey(d.pool, active.id);
    d.rewrapper.kick();
    d.log.info({ active_key_id: active.id, previous_key_ids: previous, pending_rewrap: pending }, 'master key rotated');
    return { active_key_id: active.id, previous_key_ids: previous, pending_rewrap: pending };
  };
