import type { credentialRequests } from '@switchyard/contracts';
import { AppError, type Handler } from '@switchyard/kit';
import { openSecret } from '../envelope.ts';
import { findCredential } from '../repo/credentials.ts';
import type { Deps } from './deps.ts';

/** credentials.reveal: the only way out for plaintext. Another tenant's integration is simply not found. */
export const reveal =
  (d: Deps): Handler<typeof credentialRequests.reveal> =>
  async (req) => {
    const owner = { tenant_id: req.tenant_id, integration_id: req.integration_id };
    const row = await findCredential(d.pool, owner);
    if (!row) throw new AppError('NOT_FOUND', 'no credential is stored for this integration');
    const master = await d.ring.key(row.master_key_id);
    try {
      return { integration_id: row.integration_id, secret: openSecret(row, owner, master.key), version: row.version };
    } catch (err) {
      // The cause is node:crypto's "unable to authenticate data": it names no secret.
      throw new AppError('INTERNAL', 'the credential could not be decrypted', { cause: err });
    }
  };
