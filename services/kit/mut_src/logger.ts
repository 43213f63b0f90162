import { context, trace } from '@opentelemetry/api';
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Paths that may carry secrets anywhere in a log object. Credentials must never
 * reach a log line, even when a handler logs a whole request.
 */
export const REDACT_PATHS = [
  'password',
  '*.password',
  '*.*.password',
  'credential',
  '*.credential',
  'secret',
  '*.secret',
  'token',
  '*.token',
  'key',
  '*.key',
  'authorization',
  '*.authorization',
  '*.headers.authorization',
  '*.headers.cookie',
  'plaintext',
  '*.plaintext',
];

export interface LoggerOptions {
  service: string;
  instanceId: string;
  level: string;
  destination?: DestinationStream;
}

export function createLogger(opts: LoggerOptions): Logger {
  return pino(
    {
      level: opts.level,
      base: { service: opts.service, instance_id: opts.instanceId },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      // Every line written inside a span names it, so logs and traces join.
      mixin() {
        const span = trace.getSpan(context.active());
        if (!span) return {};
        const { traceId, spanId } = span.spanContext();
        return { trace_id: traceId, span_id: spanId };
      },
    },
    opts.destination,
  );
}
