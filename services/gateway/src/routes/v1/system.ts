import {
  InstanceList,
  InstancesQuery,
  monitorRequests,
  Problem,
  SERVICE_NAMES,
  SystemStatusView,
  type OperatorSystemStatus,
  type ServiceInstance,
  type SystemStatus,
} from '@switchyard/contracts';
import type { RpcClient } from '@switchyard/kit';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';

const tags = ['System'];

/** The health summary every tenant may see: per service, healthy or not and how many instances; nothing about them. */
function summary(instances: ServiceInstance[]): SystemStatus {
  const services = SERVICE_NAMES.map((service) => {
    const mine = instances.filter((i) => i.service === service);
    return { service, healthy: mine.some((i) => i.healthy), instances: mine.length };
  });
  return {
    status: services.every((s) => s.healthy) ? 'ok' : 'degraded',
    services,
    checked_at: new Date().toISOString(),
  };
}

export const systemRoutes =
  (rpc: RpcClient): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/v1/system/status',
      {
        config: { access: 'viewer' },
        schema: {
          tags,
          summary: "The system's health: per service, healthy or not and how many instances (the platform operator also gets every instance)",
          description:
            'Tenants get the summary. Keys of the platform operator (the key `npm start` prints) also get `instances`: host, pid, version, uptime and the health of each dependency, errors included.',
          response: { 200: SystemStatusView, 401: Problem, 503: Problem, 504: Problem },
        },
      },
      async (req): Promise<SystemStatus | OperatorSystemStatus> => {
        const { instances } = await rpc.request(monitorRequests.listInstances, { include_stale: false });
        // Host names, pids and dependency errors describe the platform, not a tenant's data: the operator's only.
        return req.principal.operator ? { ...summary(instances), instances } : summary(instances);
      },
    );

    app.get(
      '/v1/system/instances',
      {
        config: { access: 'operator' },
        schema: {
          tags,
          summary: 'Every service instance the monitor knows (platform operator only)',
          querystring: InstancesQuery,
          response: { 200: InstanceList, 400: Problem, 401: Problem, 403: Problem, 503: Problem, 504: Problem },
        },
      },
      async (req) => rpc.request(monitorRequests.listInstances, { include_stale: req.query.include_stale }),
    );
  };
