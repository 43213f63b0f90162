import { ApiKeyList, ApiKeyParams, CreateApiKeyBody, CreatedApiKey, CursorQuery, Problem } from '@switchyard/contracts';
import type { Pool } from '@switchyard/kit';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { createApiKey, listApiKeys, revokeApiKey } from '../../repo/api-keys.ts';

const errors = { 400: Problem, 401: Problem, 403: Problem };

export const apiKeyRoutes =
  (pool: Pool): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      '/v1/api-keys',
      {
        config: { access: 'admin' },
        schema: {
          tags: ['API keys'],
          summary: 'Create an API key in your tenant (the secret is returned once)',
          body: CreateApiKeyBody,
          response: { 201: CreatedApiKey, ...errors },
        },
      },
      async (req, reply) => {
        const created = await createApiKey(pool, { tenantId: req.principal.tenantId, ...req.body });
        return reply.status(201).send(created);
      },
    );

    app.get(
      '/v1/api-keys',
      {
        config: { access: 'admin' },
        schema: {
          tags: ['API keys'],
          summary: "List your tenant's active API keys",
          querystring: CursorQuery,
          response: { 200: ApiKeyList, ...errors },
        },
      },
      async (req) => listApiKeys(pool, req.principal.tenantId, req.query),
    );

    app.delete(
      '/v1/api-keys/:id',
      {
        config: { access: 'admin' },
        schema: {
          tags: ['API keys'],
          summary: 'Revoke an API key',
          params: ApiKeyParams,
          response: { 204: z.null().describe('Revoked'), 404: Problem, ...errors },
        },
      },
      async (req, reply) => {
        await revokeApiKey(pool, req.principal.tenantId, req.params.id);
        return reply.status(204).send(null);
      },
    );
  };
