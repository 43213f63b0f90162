import { randomUUID } from 'node:crypto';
import type { credentialRequests } from '@switchyard/contracts';
import { AppError, withTransaction, type Handler } from '@switchyard/kit';
import { sealSecret } from '../envelope.ts';
import { upsertCredential } from '../repo/credentials.ts';
import { lockKeyForWrite } from '../repo/master-keys.ts';
import type { Deps } from './deps.ts';

// One retry covers a rotation this replica has not heard of yet; more means the ring is changing under us.
const ATTEMPTS = 3;

/** credentials.store: seals the secret under a fresh data key and stores it (a second store replaces it, version + 1). */
export const store =
  (d: Deps): Handler<typeof credentialRequests.store> =>
  async (req) => {
    const owner = { tenant_id: req.tenant_id, integration_id: req.integration_id };
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const master = attempt === 0 ? d.ring.active() : await d.ring.refresh();
      const sealed = sealSecret(req.secret, owner, master);
      const stored = await withTransaction(d.pool, async (tx) =>
        (await lockKeyForWrite(tx, master.id)) === 'active' ? upsertCredential(tx, randomUUID(), owner, sealed) : undefined,
      );
      if (stored) return stored;
    }
    throw new AppError('UNAVAILABLE', 'the master key changed while storing; try again');
  };
