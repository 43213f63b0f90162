/**
 * The monitor's public shapes: integration health, metrics over windows, the
 * performance analysis and report, alert rules and alerts, queues and dead
 * letters. Rates are ratios (0.05 is 5%); durations and latencies are in
 * milliseconds, as everywhere else in the API.
 */
import { z } from 'zod';
import { text } from '../text.ts';
import { pageOf } from './pagination.ts';

export const HealthState = z.enum(['healthy', 'degraded', 'unhealthy', 'unknown']);
export type HealthState = z.infer<typeof HealthState>;

export const CheckKind = z.enum(['connection_test', 'sync']);
export type CheckKind = z.infer<typeof CheckKind>;

/** One observation behind the health state: a connection test or a finished sync. */
export const HealthCheck = z.object({
  kind: CheckKind,
  ok: z.boolean(),
  latency_ms: z.number().nonnegative().nullable().describe('Connection-test latency or sync duration'),
  error: z.object({ code: text(), message: text() }).nullable(),
  trigger: text().describe('health_check (periodic), api (POST …/test), or the sync trigger'),
  at: z.iso.datetime(),
});
export type HealthCheck = z.infer<typeof HealthCheck>;

export const HealthTransition = z.object({
  from: HealthState,
  to: HealthState,
  reason: text(),
  at: z.iso.datetime(),
});
export type HealthTransition = z.infer<typeof HealthTransition>;

export const IntegrationHealth = z.object({
  integration_id: z.uuid(),
  state: HealthState,
  reason: text(),
  since: z.iso.datetime().nullable().describe('When the integration entered this state'),
  last_checked_at: z.iso.datetime().nullable(),
  next_check_at: z.iso.datetime().nullable().describe('Null while the integration is disconnected (it is not checked)'),
  check_interval_seconds: z.number().int(),
  checks: z.array(HealthCheck).describe('The last checks, newest first'),
  history: z.array(HealthTransition).describe('The last state changes, newest first'),
});
export type IntegrationHealth = z.infer<typeof IntegrationHealth>;

export const HealthQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).describe('How many of the last checks (and state changes) to return'),
});
export type HealthQuery = z.infer<typeof HealthQuery>;

export const MetricsWindow = z.enum(['1h', '24h', '7d', '30d']);
export type MetricsWindow = z.infer<typeof MetricsWindow>;
export const WINDOW_SECONDS: Record<MetricsWindow, number> = { '1h': 3_600, '24h': 86_400, '7d': 604_800, '30d': 2_592_000 };

export const WindowQuery = z.object({ window: MetricsWindow.default('24h') });
export type WindowQuery = z.infer<typeof WindowQuery>;
export const MetricsQuery = z.object({ window: MetricsWindow.optional().describe('One window; all four when absent') });
export type MetricsQuery = z.infer<typeof MetricsQuery>;

export const Percentiles = z.object({
  avg: z.number().nullable(),
  p50: z.number().nullable(),
  p95: z.number().nullable(),
  p99: z.number().nullable(),
  max: z.number().nullable().describe('Upper bound of the highest histogram bucket reached'),
});
export type Percentiles = z.infer<typeof Percentiles>;

export const WindowMetrics = z.object({
  window: MetricsWindow,
  from: z.iso.datetime(),
  to: z.iso.datetime(),
  syncs: z.object({
    started: z.number().int(),
    completed: z.number().int(),
    failed: z.number().int(),
    cancelled: z.number().int(),
  }),
  success_rate: z.number().nullable().describe('completed / (completed + failed); null when no sync finished'),
  error_rate: z.number().nullable().describe('failed / (completed + failed)'),
  duration_ms: Percentiles.describe('Of completed syncs; percentiles from a log-bucketed histogram (within 4.5%)'),
  throughput: z.object({
    syncs_per_hour: z.number(),
    relations_per_sync: z.number().nullable().describe('Tables, views and other relations discovered per completed sync'),
    relations_per_second: z.number().nullable(),
  }),
  errors: z.record(text(), z.number().int()).describe('Failed syncs and connection tests by error code'),
  connection_tests: z.object({ total: z.number().int(), failed: z.number().int(), latency_ms: Percentiles }),
});
export type WindowMetrics = z.infer<typeof WindowMetrics>;

export const IntegrationMetrics = z.object({
  integration_id: z.uuid(),
  generated_at: z.iso.datetime(),
  windows: z.array(WindowMetrics),
});
export type IntegrationMetrics = z.infer<typeof IntegrationMetrics>;

export const Trend = z.object({
  metric: text(),
  current: z.number().nullable(),
  baseline: z.number().nullable().describe('The same metric over the three windows before this one'),
  change: z.number().nullable().describe('Relative change for durations and latencies, difference for rates'),
  direction: z.enum(['up', 'down', 'flat', 'unknown']),
  better: z.boolean().nullable(),
});
export type Trend = z.infer<typeof Trend>;

export const Finding = z.object({
  code: text(),
  message: text(),
  evidence: z.record(text(), z.number().nullable()).describe('The figures the finding was derived from'),
});
export type Finding = z.infer<typeof Finding>;

export const Performance = z.object({
  integration_id: z.uuid(),
  window: MetricsWindow,
  health: HealthState,
  score: z.number().int().min(0).max(100).nullable().describe('100 less the deductions listed; null without data'),
  deductions: z.array(z.object({ reason: text(), points: z.number().int() })),
  metrics: WindowMetrics,
  trends: z.array(Trend),
  degradations: z.array(Finding),
  insights: z.array(Finding),
  recommendations: z.array(Finding),
});
export type Performance = z.infer<typeof Performance>;

const Ranked = z.object({
  integration_id: z.uuid(),
  name: text(),
  syncs: z.number().int(),
  failed: z.number().int(),
  error_rate: z.number().nullable(),
  duration_p95_ms: z.number().nullable(),
});

export const PerformanceReport = z.object({
  window: MetricsWindow,
  generated_at: z.iso.datetime(),
  totals: z.object({
    integrations: z.number().int(),
    syncs: z.number().int(),
    completed: z.number().int(),
    failed: z.number().int(),
    success_rate: z.number().nullable(),
    error_rate: z.number().nullable(),
    duration_ms: Percentiles,
    connection_tests: z.number().int(),
    connection_tests_failed: z.number().int(),
  }),
  health: z.record(HealthState, z.number().int()),
  slowest: z.array(Ranked).describe('Highest p95 sync duration first (at most 5)'),
  most_failing: z.array(Ranked).describe('Most failed syncs first (at most 5)'),
});
export type PerformanceReport = z.infer<typeof PerformanceReport>;

export const FailedSyncsReport = z.object({
  window: MetricsWindow,
  tenants: z.array(z.object({ tenant_id: text(), failed: z.number().int(), finished: z.number().int(), error_rate: z.number().nullable() })),
});
export type FailedSyncsReport = z.infer<typeof FailedSyncsReport>;

// ---- Alerts ----------------------------------------------------------------

/** Metrics a rule of an integration or tenant scope watches, per integration. */
export const IntegrationAlertMetric = z.enum([
  'sync_duration_avg_ms',
  'sync_duration_p95_ms',
  'error_rate',
  'success_rate',
  'failed_syncs',
  'connection_test_latency_p95_ms',
  'connection_test_failures',
  'unhealthy',
]);
/** Operational metrics a system rule watches (platform operator only). */
export const SystemAlertMetric = z.enum([
  'dead_letters',
  'queue_pending',
  'queue_oldest_age_seconds',
  'service_instances_missing',
  'auth_failures',
]);
export const AlertMetric = z.enum([...IntegrationAlertMetric.options, ...SystemAlertMetric.options]);
export type AlertMetric = z.infer<typeof AlertMetric>;
export const Comparator = z.enum(['gt', 'gte', 'lt', 'lte']);
export type Comparator = z.infer<typeof Comparator>;
export const Severity = z.enum(['info', 'warning', 'critical']);
export type Severity = z.infer<typeof Severity>;

const DURATION = /^(\d{1,7})(s|m|h|d)$/;
const UNIT_SECONDS = { s: 1, m: 60, h: 3_600, d: 86_400 } as const;
/** `30s`, `5m`, `1h`, `7d` in seconds. */
export function durationSeconds(d: string): number {
  const m = DURATION.exec(d);
  if (!m) throw new Error(`not a duration: ${d}`);
  return Number(m[1]) * UNIT_SECONDS[m[2] as keyof typeof UNIT_SECONDS];
}
const duration = (min: number, max: number, what: string) =>
  text()
    .regex(DURATION, 'a duration such as 30s, 5m, 1h or 7d')
    .refine((d) => !DURATION.test(d) || (durationSeconds(d) >= min && durationSeconds(d) <= max), `${what}: from ${min} s to ${max / 86_400} days`);

export const AlertScope = z.discriminatedUnion('type', [
  z.object({ type: z.literal('integration'), integration_id: z.uuid() }).strict(),
  z.object({ type: z.literal('tenant') }).strict(),
  z.object({ type: z.literal('system') }).strict(),
]);
export type AlertScope = z.infer<typeof AlertScope>;

const ruleFields = {
  name: text().trim().min(1).max(200),
  metric: AlertMetric,
  comparator: Comparator,
  threshold: z.number().finite(),
  window: duration(60, 30 * 86_400, 'window').describe('The span the metric is computed over (e.g. 1h)'),
  for: duration(0, 86_400, 'for').describe('How long the condition must hold before the alert fires, and be false before it resolves'),
  severity: Severity,
  scope: AlertScope,
  enabled: z.boolean(),
};

/** A system metric needs the system scope, an integration metric an integration or tenant scope. */
const scopeFits = (b: { metric?: AlertMetric; scope?: AlertScope }, ctx: z.RefinementCtx) => {
  if (!b.metric || !b.scope) return;
  const system = SystemAlertMetric.safeParse(b.metric).success;
  if (system !== (b.scope.type === 'system'))
    ctx.addIssue({
      code: 'custom',
      path: ['scope'],
      message: system ? `${b.metric} is a system metric: its scope must be {"type":"system"}` : `${b.metric} is watched per integration: scope integration or tenant`,
    });
};

export const CreateAlertRuleBody = z
  .object({ ...ruleFields, enabled: ruleFields.enabled.default(true), for: ruleFields.for.default('0s') })
  .strict()
  .superRefine(scopeFits);
export type CreateAlertRuleBody = z.infer<typeof CreateAlertRuleBody>;

export const UpdateAlertRuleBody = z
  .object({
    name: ruleFields.name.optional(),
    comparator: ruleFields.comparator.optional(),
    threshold: ruleFields.threshold.optional(),
    window: ruleFields.window.optional(),
    for: ruleFields.for.optional(),
    severity: ruleFields.severity.optional(),
    enabled: ruleFields.enabled.optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, { message: 'give at least one field to change' });
export type UpdateAlertRuleBody = z.infer<typeof UpdateAlertRuleBody>;

export const AlertRule = z.object({
  id: z.uuid(),
  ...ruleFields,
  seeded: z.boolean().describe('Made by Switchyard (a default); may be changed or deleted like any other'),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});
export type AlertRule = z.infer<typeof AlertRule>;
export const AlertRuleList = z.object({ data: z.array(AlertRule) });
export type AlertRuleList = z.infer<typeof AlertRuleList>;
export const AlertRuleParams = z.object({ id: z.uuid() });

export const AlertState = z.enum(['firing', 'resolved']);
export type AlertState = z.infer<typeof AlertState>;

export const Alert = z.object({
  id: z.uuid(),
  rule_id: z.uuid(),
  rule_name: text(),
  metric: AlertMetric,
  comparator: Comparator,
  threshold: z.number(),
  severity: Severity,
  scope: AlertScope,
  integration_id: z.uuid().nullable(),
  series: text().describe('What the alert is about: an integration, a consumer, a service, an address…'),
  labels: z.record(text(), text()),
  state: AlertState,
  value: z.number().nullable().describe('The metric when the alert fired (or resolved)'),
  fired_at: z.iso.datetime(),
  resolved_at: z.iso.datetime().nullable(),
});
export type Alert = z.infer<typeof Alert>;

export const AlertsQuery = z.object({
  state: AlertState.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: text().max(200).optional(),
});
export type AlertsQuery = z.infer<typeof AlertsQuery>;
export const AlertList = pageOf(Alert);
export type AlertList = z.infer<typeof AlertList>;

// ---- Queues and dead letters ------------------------------------------------

export const ConsumerState = z.object({
  stream: text(),
  consumer: text(),
  service: text(),
  pending: z.number().int().describe('Messages not yet delivered'),
  ack_pending: z.number().int().describe('Delivered, not yet acknowledged'),
  redelivered: z.number().int(),
  oldest_unacked_age_seconds: z
    .number()
    .nullable()
    .describe('Age of the oldest message not yet acknowledged: exact for work queues; null where JetStream cannot tell it without reading a message'),
  last_ack_age_seconds: z.number().nullable().describe('Since the consumer last moved its ack floor: a stalled consumer shows here'),
});
export type ConsumerState = z.infer<typeof ConsumerState>;

export const StreamState = z.object({
  stream: text(),
  messages: z.number().int(),
  bytes: z.number().int(),
  first_at: z.iso.datetime().nullable(),
  last_at: z.iso.datetime().nullable(),
  consumers: z.array(ConsumerState),
});
export type StreamState = z.infer<typeof StreamState>;
export const QueueList = z.object({ streams: z.array(StreamState), checked_at: z.iso.datetime() });
export type QueueList = z.infer<typeof QueueList>;

export const DeadLetterRecord = z.object({
  id: z.uuid(),
  stream: text(),
  consumer: text(),
  service: text().describe('The service whose consumer gave the job up (and which replays it)'),
  subject: text(),
  reason: text(),
  deliveries: z.number().int(),
  error: z.object({ code: text(), message: text() }),
  payload: z.unknown(),
  failed_at: z.iso.datetime(),
  replayed_at: z.iso.datetime().nullable(),
  replays: z.number().int(),
});
export type DeadLetterRecord = z.infer<typeof DeadLetterRecord>;

export const DeadLettersQuery = z.object({
  consumer: text().max(200).optional(),
  replayed: z.enum(['true', 'false']).optional().describe('Only replayed letters (true) or only those waiting (false)'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: text().max(200).optional(),
});
export type DeadLettersQuery = z.infer<typeof DeadLettersQuery>;
export const DeadLetterList = pageOf(DeadLetterRecord);
export type DeadLetterList = z.infer<typeof DeadLetterList>;
export const DeadLetterParams = z.object({ id: z.uuid() });
