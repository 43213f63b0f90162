/**
 * OpenTelemetry for a service. Import this module (and call startTelemetry)
 * before anything that loads pg, ioredis or fastify: instrumentations patch
 * modules as they are first required.
 */
import { metrics, propagation, trace, type TextMapPropagator } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { FastifyOtelInstrumentation } from '@fastify/otel';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface Telemetry {
  /** Fastify plugin that makes request spans (used by the gateway). */
  fastifyOtel: FastifyOtelInstrumentation;
  /** Serves the Prometheus text format. */
  metricsHandler(req: IncomingMessage, res: ServerResponse): void;
  shutdown(): Promise<void>;
}

let current: Telemetry | undefined;

export function startTelemetry(opts: {
  service: string;
  version: string;
  instanceId: string;
  otlpEndpoint?: string;
}): Telemetry {
  if (current) return current;
  const resource = resourceFromAttributes({
    [ATTR_SERVICE_NAME]: opts.service,
    [ATTR_SERVICE_VERSION]: opts.version,
    'service.instance.id': opts.instanceId,
  });

  // Spans are always made (their ids go into logs and NATS headers); they
  // leave the process only when an OTLP endpoint is configured.
  const spanProcessors: SpanProcessor[] = [];
  if (opts.otlpEndpoint) {
    const url = `${opts.otlpEndpoint.replace(/\/$/, '')}/v1/traces`;
    spanProcessors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url })));
  }
  const tracerProvider = new NodeTracerProvider({ resource, spanProcessors });
  tracerProvider.register({ propagator: new W3CTraceContextPropagator() as TextMapPropagator });

  const prometheus = new PrometheusExporter({ preventServerStart: true });
  const meterProvider = new MeterProvider({ resource, readers: [prometheus] });
  metrics.setGlobalMeterProvider(meterProvider);

  const fastifyOtel = new FastifyOtelInstrumentation({
    registerOnInitialization: false,
    ignorePaths: (r) => r.url.startsWith("/docs") || r.url.startsWith("/health"),
  });
  const unregister = registerInstrumentations({
    tracerProvider,
    meterProvider,
    instrumentations: [
      new HttpInstrumentation({
        // Probes and scrapes are noise in traces.
        ignoreIncomingRequestHook: (req) => /^\/(healthz|readyz|metrics)\b/.test(req.url ?? ''),
      }),
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
      new UndiciInstrumentation(),
      fastifyOtel,
    ],
  });

  current = {
    fastifyOtel,
    metricsHandler: (req, res) => prometheus.getMetricsRequestHandler(req, res),
    async shutdown() {
      unregister();
      await Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()]);
      current = undefined;
    },
  };
  return current;
}

export const tracer = (name = 'switchyard') => trace.getTracer(name);
export { propagation };
