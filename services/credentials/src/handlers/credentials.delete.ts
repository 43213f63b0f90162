import type { credentialRequests } from '@switchyard/contracts';
import type { Handler } from '@switchyard/kit';
import { deleteCredential } from '../repo/credentials.ts';
import type { Deps } from './deps.ts';

/** credentials.delete: idempotent; says whether there was anything to delete. */
export const remove =
  (d: Deps): Handler<typeof credentialRequests.delete> =>
  async (req) => ({ deleted: await deleteCredential(d.pool, { tenant_id: req.tenant_id, integration_id: req.integration_id }) });
