import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { monitorSignals } from '@switchyard/contracts';
import type { Runtime } from '@switchyard/kit';
import Fastify, { type FastifyInstance } from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { registerAuth } from './auth.ts';
import { registerIdempotency } from './idempotency.ts';
import { registerJsonBody } from './json-body.ts';
import type { Config } from './config.ts';
import { problem, retryAfterOf, sendProblem, toProblem } from './problem.ts';
import { healthRoutes } from './routes/health.ts';
import { seedRoutes } from './routes/seed.ts';
import { alertRoutes } from './routes/v1/alerts.ts';
import { apiKeyRoutes } from './routes/v1/api-keys.ts';
import { integrationHealthRoutes } from './routes/v1/integration-health.ts';
import { queueRoutes } from './routes/v1/queues.ts';
import { integrationRoutes } from './routes/v1/integrations.ts';
import { syncRoutes } from './routes/v1/syncs.ts';
import { systemRoutes } from './routes/v1/system.ts';

/** The public HTTP surface: Fastify + zod, OpenAPI 3.1 from the same schemas, problem+json for every error. */
export async function buildHttp(rt: Runtime, config: Config, fastifyOtel?: { plugin(): unknown }): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: bodyLimit(config.BODY_LIMIT_BYTES, rt.nc.info?.max_payload),
    // Request ids join gateway access logs to traces and problem documents.
    requestIdHeader: 'x-request-id',
    return503OnClosing: true,
    // A path the router cannot decode (`%FF`, a lone `%`) or an over-long parameter: a problem document like every other error.
    frameworkErrors: (err, req, reply) => sendProblem(req, reply, toProblem(err)),
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerJsonBody(app);

  if (fastifyOtel) await app.register(fastifyOtel.plugin() as never);

  // Error handling, auth and the docs' public access apply to every plugin registered after them.
  app.setErrorHandler((err, req, reply) => {
    const p = toProblem(err as Error);
    if (p.status >= 500) rt.log.error({ err, method: req.method, url: req.url }, 'request failed');
    return sendProblem(req, reply, p, retryAfterOf(err));
  });
  app.setNotFoundHandler((req, reply) =>
    sendProblem(req, reply, problem(404, 'NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`)),
  );
  app.addHook('onResponse', async (req, reply) => {
    rt.log.info(
      { method: req.method, url: req.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime), tenant_id: req.principal?.tenantId },
      'request',
    );
  });

  // The docs UI and its assets are public.
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/docs')) route.config = { ...(route.config ?? {}), access: 'public' };
  });

  // Refused keys go to the monitor as a signal: fire and forget, never slowing the 401.
  registerAuth(app, rt.pool, (f) => {
    if (!rt.nc.isClosed()) rt.nc.publish(monitorSignals.authFailed, JSON.stringify(f));
  });
  registerIdempotency(app);


  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Switchyard API',
        version: rt.version,
        description: 'Connect external systems, keep their credentials encrypted, sync them, watch their health.',
      },
      servers: config.PUBLIC_URL ? [{ url: config.PUBLIC_URL }] : [],
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An API key: sy_…' } } },
      security: [{ apiKey: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true } });
  app.get('/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () => app.swagger());
  await app.register(healthRoutes(rt));
  await app.register(apiKeyRoutes(rt.pool));
  await app.register(systemRoutes(rt.rpc));
  await app.register(integrationRoutes(rt.rpc));
  await app.register(syncRoutes(rt.rpc));
  await app.register(seedRoutes(rt.rpc));
  await app.register(integrationHealthRoutes(rt.rpc));
  await app.register(alertRoutes(rt.rpc));
  await app.register(queueRoutes(rt.rpc));
  return app;
}

/**
 * A body travels on to a service inside one NATS message: above the server's
 * max_payload (less room for the envelope and headers) it could never arrive,
 * so it is a 413 here rather than a 503 from NATS.
 */
export const bodyLimit = (configured: number, natsMaxPayload: number | undefined): number =>
  natsMaxPayload ? Math.min(configured, Math.max(1_024, natsMaxPayload - 64 * 1024)) : configured;
