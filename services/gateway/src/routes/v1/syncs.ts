import { Problem, Sync, SyncParams, syncRequests } from '@switchyard/contracts';
import type { RpcClient } from '@switchyard/kit';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';

const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem, 503: Problem, 504: Problem };

export const syncRoutes =
  (rpc: RpcClient): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/v1/syncs/:syncId',
      { schema: { tags: ['Syncs'], summary: 'A sync: status, progress (objects done / total), error', params: SyncParams, response: { 200: Sync, ...errors } } },
      async (req) => rpc.request(syncRequests.get, { tenant_id: req.principal.tenantId, sync_id: req.params.syncId }),
    );
    app.post(
      '/v1/syncs/:syncId/cancel',
      {
        config: { access: 'editor' },
        schema: { tags: ['Syncs'], summary: 'Cancel an active sync (409 if it already ended)', params: SyncParams, response: { 200: Sync, 409: Problem, ...errors } },
      },
      async (req) => rpc.request(syncRequests.cancel, { tenant_id: req.principal.tenantId, sync_id: req.params.syncId }),
    );
  };
