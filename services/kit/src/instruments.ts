import { metrics, type Counter, type Histogram, type ObservableGauge } from '@opentelemetry/api';

/**
 * Instruments made on first use. The metrics API has no proxy provider, so an
 * instrument made at import time (before telemetry starts) would record nothing.
 *
 * Names follow Prometheus conventions, as /metrics serves them: a `switchyard_`
 * prefix, base units spelled in the name (`_seconds`, `_bytes`), and counters
 * named without `_total`, which the exporter appends. The OpenTelemetry
 * exporter does not add unit suffixes itself, so the name carries them.
 */
const lazy = <T>(make: () => T) => {
  let value: T | undefined;
  return () => (value ??= make());
};

/** Buckets for durations in seconds: 1 ms to 5 minutes (syncs, jobs and requests all land inside). */
export const SECONDS_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export const counter = (meter: string, name: string, description: string): (() => Counter) =>
  lazy(() => metrics.getMeter(meter).createCounter(name, { description }));

/** A histogram of durations in seconds: its name must end in `_seconds`. */
export const secondsHistogram = (meter: string, name: `${string}_seconds`, description: string, buckets = SECONDS_BUCKETS): (() => Histogram) =>
  lazy(() => metrics.getMeter(meter).createHistogram(name, { description, unit: 's', advice: { explicitBucketBoundaries: buckets } }));

export const observableGauge = (meter: string, name: string, description: string): (() => ObservableGauge) =>
  lazy(() => metrics.getMeter(meter).createObservableGauge(name, { description }));
