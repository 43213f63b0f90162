import { monitorRequests, Problem, SERVICE_NAMES, SystemStatus } from '@switchyard/contracts';
import type { RpcClient } from '@switchyard/kit';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';

export const systemRoutes =
  (rpc: RpcClient): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/v1/system/status',
      {
        config: { access: 'viewer' },
        schema: {
          tags: ['System'],
          summary: 'Every service instance and the health of its dependencies',
          response: { 200: SystemStatus, 401: Problem, 503: Problem, 504: Problem },
        },
      },
      async () => {
        const { instances } = await rpc.request(monitorRequests.listInstances, { include_stale: false });
        const services = SERVICE_NAMES.map((service) => {
          const mine = instances.filter((i) => i.service === service);
          return { service, healthy: mine.some((i) => i.healthy), instances: mine };
        });
        return {
          status: services.every((s) => s.healthy) ? ('ok' as const) : ('degraded' as const),
          services,
          checked_at: new Date().toISOString(),
        };
      },
    );
  };
