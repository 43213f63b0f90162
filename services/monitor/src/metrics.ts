/**
 * The monitor's business metrics on /metrics, by Prometheus conventions
 * (a `switchyard_` prefix, seconds, `_total` on counters, which the exporter
 * appends). Counters count the events this replica handled: sum them over
 * replicas. Gauges describe shared state (the database, JetStream), the same
 * from every replica: take max() over replicas.
 */
import type { ObservableResult } from '@opentelemetry/api';
import type { ConsumerState, HealthState } from '@switchyard/contracts';
import { counter, observableGauge, secondsHistogram } from '@switchyard/kit';

const METER = 'switchyard.monitor';
/** Sync durations run from seconds to many minutes: buckets up to an hour. */
const SYNC_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1_800, 3_600];

export const syncs = counter(METER, 'switchyard_syncs', 'Syncs by outcome (started, completed, failed, cancelled), as their events arrive');
export const syncDuration = secondsHistogram(METER, 'switchyard_sync_duration_seconds', 'Duration of completed syncs', SYNC_BUCKETS);
export const connectionTests = counter(METER, 'switchyard_connection_tests', 'Connection tests by result (ok, failed) and trigger (api, health_check)');
export const connectionTestDuration = secondsHistogram(METER, 'switchyard_connection_test_duration_seconds', 'Latency of passing connection tests');
export const healthChecksRequested = counter(METER, 'switchyard_health_checks_requested', 'Periodic connection tests this replica asked for, by result of the request (ok, failed, refused)');

/** The shared state the gauges report, refreshed on an interval by every replica. */
export const snapshot = {
  consumers: [] as ConsumerState[],
  deadLetters: new Map<string, number>(),
  alertsFiring: new Map<string, number>(),
  health: new Map<HealthState, number>(),
};

const each = <K>(m: Map<K, number>, r: ObservableResult, label: (k: K) => Record<string, string>) => {
  for (const [k, v] of m) r.observe(v, label(k));
};

/** Registers the gauge callbacks (once, when the service starts). */
export function registerGauges(): void {
  observableGauge(METER, 'switchyard_jetstream_consumer_pending_messages', 'Messages a durable consumer has not yet been delivered')().addCallback((r) => {
    for (const c of snapshot.consumers) r.observe(c.pending, { stream: c.stream, consumer: c.consumer });
  });
  observableGauge(METER, 'switchyard_jetstream_consumer_ack_pending_messages', 'Messages delivered to a durable consumer and not yet acknowledged')().addCallback((r) => {
    for (const c of snapshot.consumers) r.observe(c.ack_pending, { stream: c.stream, consumer: c.consumer });
  });
  observableGauge(METER, 'switchyard_jetstream_consumer_redelivered_messages', 'Messages a durable consumer has had delivered more than once')().addCallback((r) => {
    for (const c of snapshot.consumers) r.observe(c.redelivered, { stream: c.stream, consumer: c.consumer });
  });
  observableGauge(METER, 'switchyard_jetstream_consumer_oldest_unacked_age_seconds', 'Age of the oldest message a work-queue consumer has not acknowledged')().addCallback((r) => {
    for (const c of snapshot.consumers)
      if (c.oldest_unacked_age_seconds !== null) r.observe(c.oldest_unacked_age_seconds, { stream: c.stream, consumer: c.consumer });
  });
  observableGauge(METER, 'switchyard_dead_letters', 'Dead letters recorded and not replayed, by consumer')().addCallback((r) =>
    each(snapshot.deadLetters, r, (consumer) => ({ consumer })),
  );
  observableGauge(METER, 'switchyard_alerts_firing', 'Alerts firing now, by severity')().addCallback((r) =>
    each(snapshot.alertsFiring, r, (severity) => ({ severity })),
  );
  observableGauge(METER, 'switchyard_integrations', 'Integrations by health state')().addCallback((r) => each(snapshot.health, r, (state) => ({ state })));
}
