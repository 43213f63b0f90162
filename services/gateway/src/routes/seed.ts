import { Integration, IntegrationList, integrationRequests, Problem, Sync, syncRequests } from '@switchyard/contracts';
import type { RpcClient } from '@switchyard/kit';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { createIntegrationRoute } from './v1/integrations.ts';

const errors = { 401: Problem, 403: Problem, 503: Problem, 504: Problem };
const tags = ['Seed routes'];

/** The seed documents' routes, kept where they were named. Lists here return every page at once (bounded). */
export const seedRoutes =
  (rpc: RpcClient): FastifyPluginAsyncZod =>
  async (app) => {
    await app.register(createIntegrationRoute(rpc, '/integrations'));

    const allPostgres = async (tenant_id: string) => {
      const { data } = await rpc.request(integrationRequests.list, { tenant_id, query: { type: 'POSTGRESQL', limit: 200 } });
      return data;
    };

    app.get(
      '/integrations/POSTGRESQL',
      { schema: { tags, summary: "The caller's PostgreSQL integrations (first 200; /v1/integrations pages through all)", response: { 200: IntegrationList.pick({ data: true }), ...errors } } },
      async (req) => ({ data: await allPostgres(req.principal.tenantId) }),
    );

    app.get(
      '/integrations/POSTGRESQL/sync',
      {
        schema: {
          tags,
          summary: 'Sync status of each PostgreSQL integration (its latest sync)',
          response: {
            200: z.object({ data: z.array(z.object({ integration_id: z.uuid(), name: Integration.shape.name, latest_sync: Sync.nullable() })) }),
            ...errors,
          },
        },
      },
      async (req) => {
        const tenant_id = req.principal.tenantId;
        const integrations = await allPostgres(tenant_id);
        const { data: syncs } = integrations.length
          ? await rpc.request(syncRequests.latest, { tenant_id, integration_ids: integrations.map((i) => i.id) })
          : { data: [] };
        const byIntegration = new Map(syncs.map((s) => [s.integration_id, s]));
        return { data: integrations.map((i) => ({ integration_id: i.id, name: i.name, latest_sync: byIntegration.get(i.id) ?? null })) };
      },
    );
  };
