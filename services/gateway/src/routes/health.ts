import { jetstreamManager } from '@nats-io/jetstream';
import { HealthReport, monitorRequests, streams, type DependencyHealth } from '@switchyard/contracts';
import { probe, type Runtime } from '@switchyard/kit';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';

type Check = () => Promise<DependencyHealth>;

/** System-wide health, public (for load balancers and status pages); no secrets, no instance detail. */
export const healthRoutes =
  (rt: Runtime): FastifyPluginAsyncZod =>
  async (app) => {
    const database: Check = () => probe(() => rt.pool.query('SELECT 1'));
    const cache: Check = () => probe(() => rt.redis.ping());
    const queue: Check = () =>
      probe(async () => {
        const jsm = await jetstreamManager(rt.nc);
        // JetStream answers and the streams every service relies on exist.
        await Promise.all(Object.values(streams).map((s) => jsm.streams.info(s.name)));
      }, 2_000);
    const services: Check = () =>
      probe(async () => {
        const { instances } = await rt.rpc.request(monitorRequests.listInstances, { include_stale: false }, { timeoutMs: 1_500 });
        // Public: counts only; GET /v1/system/status names instances for authenticated callers.
        const unhealthy = instances.filter((i) => !i.healthy).length;
        if (unhealthy) throw new Error(`${unhealthy} of ${instances.length} service instances unhealthy`);
      }, 2_000);

    const report = async (checks: Record<string, Check>, reply: { status(code: number): unknown }) => {
      const entries = await Promise.all(Object.entries(checks).map(async ([k, c]) => [k, await c()] as const));
      const results = Object.fromEntries(entries);
      // Redis (cache) holds only what can be rebuilt: without it the API still serves, degraded.
      // A route about one dependency (/health/cache) is down when that one is.
      const core = entries.length === 1 ? [entries[0]![0]] : ['database', 'queue'].filter((k) => k in results);
      const down = core.some((k) => results[k]!.status === 'down');
      const status = down ? 'down' : Object.values(results).every((r) => r.status === 'up') ? 'ok' : 'degraded';
      reply.status(down ? 503 : 200);
      return { status, checks: results } as HealthReport;
    };

    const route = (url: string, summary: string, checks: Record<string, Check>) =>
      app.get(
        url,
        { config: { access: 'public' }, schema: { tags: ['Health'], summary, response: { 200: HealthReport, 503: HealthReport } } },
        async (_req, reply) => report(checks, reply),
      );

    route('/health', 'Whole system: database, cache, queue and every service', { database, cache, queue, services });
    route('/health/database', 'PostgreSQL', { database });
    route('/health/cache', 'Redis', { cache });
    route('/health/queue', 'NATS JetStream and its streams', { queue });
  };
