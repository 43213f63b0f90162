import type { CreateAlertRuleBody } from '@switchyard/contracts';

type Seed = Omit<CreateAlertRuleBody, 'enabled'> & { key: string };

/**
 * Every tenant's default rules, seed 001's thresholds: a sync slower than
 * 5000 ms on average, an error rate over 5%, a success rate under 95%, each
 * over the last hour and per integration. Seeded once per tenant: a tenant
 * may change or delete them, and a deleted default stays deleted.
 */
export const TENANT_SEEDS: Seed[] = [
  { key: 'sync-duration', name: 'Syncs slower than 5 s on average', metric: 'sync_duration_avg_ms', comparator: 'gt', threshold: 5_000, window: '1h', for: '0s', severity: 'warning', scope: { type: 'tenant' } },
  { key: 'error-rate', name: 'Sync error rate over 5%', metric: 'error_rate', comparator: 'gt', threshold: 0.05, window: '1h', for: '0s', severity: 'critical', scope: { type: 'tenant' } },
  { key: 'success-rate', name: 'Sync success rate under 95%', metric: 'success_rate', comparator: 'lt', threshold: 0.95, window: '1h', for: '0s', severity: 'warning', scope: { type: 'tenant' } },
];

/**
 * The platform operator's operational rules (seed 003 and 004), the same as
 * deploy/prometheus/alerts.yml for a Prometheus that scrapes /metrics. A
 * webhook endpoint disabled joins them with the webhook dispatcher's events.
 */
export const SYSTEM_SEEDS: Seed[] = [
  { key: 'dead-letters', name: 'A dead-letter queue is not empty', metric: 'dead_letters', comparator: 'gt', threshold: 0, window: '1h', for: '0s', severity: 'warning', scope: { type: 'system' } },
  { key: 'queue-pending', name: 'A consumer has over 1,000 messages waiting', metric: 'queue_pending', comparator: 'gt', threshold: 1_000, window: '5m', for: '5m', severity: 'warning', scope: { type: 'system' } },
  { key: 'queue-age', name: 'A work queue has held a message for over 10 minutes', metric: 'queue_oldest_age_seconds', comparator: 'gt', threshold: 600, window: '5m', for: '0s', severity: 'warning', scope: { type: 'system' } },
  { key: 'instance-missing', name: 'A service instance stopped sending heartbeats', metric: 'service_instances_missing', comparator: 'gt', threshold: 0, window: '5m', for: '1m', severity: 'critical', scope: { type: 'system' } },
  { key: 'auth-failures', name: 'Repeated authentication failures from one address or key', metric: 'auth_failures', comparator: 'gte', threshold: 20, window: '5m', for: '0s', severity: 'warning', scope: { type: 'system' } },
];
