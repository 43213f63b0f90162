import { metrics, type Counter, type Histogram, type ObservableGauge } from '@opentelemetry/api';

/**
 * Instruments made on first use. The metrics API has no proxy provider, so an
 * instrument made at import time (before telemetry starts) would record nothing.
 */
const lazy = <T>(make: () => T) => {
  let value: T | undefined;
  return () => (value ??= make());
};

export const counter = (meter: string, name: string, description: string): (() => Counter) =>
  lazy(() => metrics.getMeter(meter).createCounter(name, { description }));

export const histogram = (meter: string, name: string, description: string): (() => Histogram) =>
  lazy(() => metrics.getMeter(meter).createHistogram(name, { description, unit: 'ms' }));

export const observableGauge = (meter: string, name: string, description: string): (() => ObservableGauge) =>
  lazy(() => metrics.getMeter(meter).createObservableGauge(name, { description }));
