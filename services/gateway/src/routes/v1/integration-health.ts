import {
  HealthQuery,
  IntegrationHealth,
  IntegrationMetrics,
  IntegrationParams,
  integrationRequests,
  MetricsQuery,
  monitorApiRequests,
  Performance,
  Problem,
  WindowQuery,
} from '@switchyard/contracts';
import type { RpcClient } from '@switchyard/kit';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';

const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem, 503: Problem, 504: Problem };
const tags = ['Health and performance'];

/** An integration's health, metrics and performance analysis (the monitor's), once the integrations service says it is the caller's. */
export const integrationHealthRoutes =
  (rpc: RpcClient): FastifyPluginAsyncZod =>
  async (app) => {
    const own = async (tenant_id: string, id: string) => {
      await rpc.request(integrationRequests.get, { tenant_id, id });
      return { tenant_id, integration_id: id };
    };

    app.get(
      '/v1/integrations/:id/health',
      {
        schema: {
          tags,
          summary: 'Health: healthy, degraded, unhealthy or unknown, why, and the last checks (connection tests and syncs) and state changes',
          params: IntegrationParams,
          querystring: HealthQuery,
          response: { 200: IntegrationHealth, ...errors },
        },
      },
      async (req) => rpc.request(monitorApiRequests.health, { ...(await own(req.principal.tenantId, req.params.id)), limit: req.query.limit }),
    );

    app.get(
      '/v1/integrations/:id/metrics',
      {
        schema: {
          tags,
          summary: 'Sync counts, success and error rates, duration avg/p50/p95/p99, throughput and connection-test latency, per window',
          description: 'Windows of whole UTC buckets, the current one included: 1h and 24h by the minute, 7d by the hour, 30d by the day. All four when `window` is absent.',
          params: IntegrationParams,
          querystring: MetricsQuery,
          response: { 200: IntegrationMetrics, ...errors },
        },
      },
      async (req) => rpc.request(monitorApiRequests.metrics, { ...(await own(req.principal.tenantId, req.params.id)), window: req.query.window }),
    );

    app.get(
      '/v1/integrations/:id/performance',
      {
        schema: {
          tags,
          summary: 'Performance analysis: a score with its deductions, trends against the three windows before, degradations, insights and recommendations',
          params: IntegrationParams,
          querystring: WindowQuery,
          response: { 200: Performance, ...errors },
        },
      },
      async (req) => rpc.request(monitorApiRequests.performance, { ...(await own(req.principal.tenantId, req.params.id)), window: req.query.window }),
    );
  };
