/**
 * OpenTelemetry for a service, through the SDK's NodeSDK. Call startTelemetry
 * before anything loads pg or ioredis (the kit loads them lazily, through
 * require, so the instrumentations' require hooks see them).
 *
 * The standard variables work as OpenTelemetry documents them: OTEL_SDK_DISABLED,
 * OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (they win over the defaults
 * below), OTEL_TRACES_SAMPLER(_ARG), OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT,
 * OTEL_EXPORTER_OTLP_PROTOCOL (http/protobuf by default, http/json, grpc) and
 * OTEL_TRACES_EXPORTER. Metrics are served for Prometheus on the health
 * server's /metrics; logs go to stdout through pino, not through OpenTelemetry.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FastifyOtelInstrumentation } from '@fastify/otel';
import { metrics, propagation } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { RuntimeNodeInstrumentation } from '@opentelemetry/instrumentation-runtime-node';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { resourceFromAttributes } from '@opentelemetry/resources';
// The class's own module: the package index also loads the declarative-configuration loader
// (@opentelemetry/configuration with yaml and jiti, ~2 MiB of code) that Switchyard does not use.
import { NodeSDK } from '@opentelemetry/sdk-node/build/src/sdk.js';
import { NoopSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';

export interface Telemetry {
  /** Fastify plugin that makes request spans (used by the gateway). */
  fastifyOtel: FastifyOtelInstrumentation;
  /** False when OTEL_SDK_DISABLED=true: no spans leave the process and /metrics is empty. */
  enabled: boolean;
  /** Serves the Prometheus text format. */
  metricsHandler(req: IncomingMessage, res: ServerResponse): void;
  shutdown(): Promise<void>;
}

type Env = Record<string, string | undefined>;

const truthy = (v: string | undefined) => v?.trim().toLowerCase() === 'true';

/** Whether the environment asks for spans to be exported (otherwise they stay in the process). */
export function exportsTraces(env: Env = process.env): boolean {
  const exporter = env.OTEL_TRACES_EXPORTER?.trim();
  if (exporter) return exporter !== 'none';
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
}

/**
 * Instruments of the instrumentation libraries whose Prometheus names break
 * its conventions, renamed on the way out: an up-down counter named
 * `….count` is served as a gauge ending in `_count`, which Prometheus keeps
 * for histograms and summaries (`promtool check metrics` refuses it).
 */
const PROMETHEUS_RENAMES = [{ instrumentName: 'db.client.connection.count', name: 'db.client.connections' }];

let current: Telemetry | undefined;

export function startTelemetry(opts: { service: string; version: string; instanceId: string; env?: Env }): Telemetry {
  if (current) return current;
  const env = opts.env ?? process.env;
  const prometheus = new PrometheusExporter({ preventServerStart: true });
  const fastifyOtel = new FastifyOtelInstrumentation({
    registerOnInitialization: false,
    ignorePaths: (r) => r.url.startsWith('/docs') || r.url.startsWith('/health'),
  });

  const sdk = new NodeSDK({
    // Defaults only: the SDK's environment detector (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES) is merged over them.
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: opts.service,
      [ATTR_SERVICE_VERSION]: opts.version,
      'service.instance.id': opts.instanceId,
    }),
    // Spans are always made, so their ids reach logs and NATS headers; they leave
    // the process only when an exporter is configured. A no-op processor keeps the
    // SDK's tracer provider (it registers none without a processor).
    ...(exportsTraces(env) ? {} : { spanProcessors: [new NoopSpanProcessor()] }),
    metricReaders: [prometheus],
    views: PROMETHEUS_RENAMES,
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        // Probes and scrapes are noise in traces.
        ignoreIncomingRequestHook: (req) => /^\/(healthz|readyz|metrics)\b/.test(req.url ?? ''),
      }),
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
      new UndiciInstrumentation(),
      // Event-loop delay and utilisation, heap spaces, GC durations.
      new RuntimeNodeInstrumentation(),
      fastifyOtel,
    ],
  });
  sdk.start();
  const enabled = !truthy(env.OTEL_SDK_DISABLED);
  if (enabled) registerProcessMetrics();

  current = {
    fastifyOtel,
    enabled,
    metricsHandler: (req, res) => {
      if (!enabled) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('metrics are off: OTEL_SDK_DISABLED=true\n');
      prometheus.getMetricsRequestHandler(req, res);
    },
    async shutdown() {
      await sdk.shutdown().catch(() => {});
      current = undefined;
    },
  };
  return current;
}

/**
 * Process CPU time and resident memory, named as Prometheus client libraries
 * name them (`process_cpu_seconds_total`, `process_resident_memory_bytes`), so
 * dashboards built for those find them. (@opentelemetry/host-metrics has these too, but it also reports the whole
 * host through systeminformation: seven processes on one machine would each
 * report the same host, and pay for it.)
 */
function registerProcessMetrics() {
  const meter = metrics.getMeter('switchyard.process');
  meter
    .createObservableCounter('process_cpu_seconds', { description: 'CPU seconds used by this process', unit: 's' })
    .addCallback((r) => {
      const { user, system } = process.cpuUsage();
      r.observe(user / 1e6, { 'cpu.mode': 'user' });
      r.observe(system / 1e6, { 'cpu.mode': 'system' });
    });
  meter
    .createObservableGauge('process_resident_memory_bytes', { description: 'Resident set size of this process', unit: 'By' })
    .addCallback((r) => r.observe(process.memoryUsage.rss()));
}

export { propagation };
