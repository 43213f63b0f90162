/**
 * What the monitor serves over NATS, the events it and the integrations
 * service announce about health, and the requeue route every service's
 * runtime serves for its dead letters.
 */
import { z } from 'zod';
import { text } from './text.ts';
import {
  Alert,
  AlertList,
  AlertRule,
  AlertRuleList,
  AlertsQuery,
  CreateAlertRuleBody,
  DeadLetterList,
  DeadLetterRecord,
  DeadLettersQuery,
  FailedSyncsReport,
  HealthState,
  IntegrationHealth,
  IntegrationMetrics,
  MetricsWindow,
  Performance,
  PerformanceReport,
  QueueList,
  UpdateAlertRuleBody,
} from './api/monitor.ts';
import { defineRequest } from './requests.ts';
import { SERVICE_NAMES, type ServiceName } from './services.ts';

/** Why a connection test ran: a person or program asked (POST …/test), or the monitor's periodic check. */
export const TestTrigger = z.enum(['api', 'health_check']);
export type TestTrigger = z.infer<typeof TestTrigger>;

/** events.integration.connection_tested (owner: integrations): every connection test of a stored credential, as it happens. */
export const ConnectionTested = z.object({
  integration_id: z.uuid(),
  tenant_id: text(),
  ok: z.boolean(),
  latency_ms: z.number().nonnegative().nullable(),
  reason: text().nullable().describe('Why it failed (CONNECTION_FAILED reasons: AUTHENTICATION_FAILED, TIMEOUT …)'),
  message: text().nullable(),
  trigger: TestTrigger,
  tested_at: z.iso.datetime(),
});
export type ConnectionTested = z.infer<typeof ConnectionTested>;

/** events.integration.health_changed (owner: monitor). */
export const HealthChanged = z.object({
  integration_id: z.uuid(),
  tenant_id: text(),
  from: HealthState,
  to: HealthState,
  reason: text(),
  at: z.iso.datetime(),
});
export type HealthChanged = z.infer<typeof HealthChanged>;

/** events.alert.fired and events.alert.resolved (owner: monitor). */
export const AlertEvent = z.object({ alert: Alert });
export type AlertEvent = z.infer<typeof AlertEvent>;

/** A request refused for its API key (fire-and-forget, gateway → monitor): the "repeated authentication failures" rule counts them. */
export const AuthFailure = z.object({
  address: text().max(100),
  key_prefix: text().max(32).nullable().describe('The first characters of the key presented, never the key'),
  reason: z.enum(['missing', 'malformed', 'unknown_or_revoked']),
  at: z.iso.datetime(),
});
export type AuthFailure = z.infer<typeof AuthFailure>;

const tenant = { tenant_id: text().min(1) };
/** The caller's view: the platform operator's keys also see system rules and alerts. */
const caller = { ...tenant, operator: z.boolean() };
const ofIntegration = { ...tenant, integration_id: z.uuid() };

export const monitorApiRequests = {
  health: defineRequest('monitor', 'health.get', z.object({ ...ofIntegration, limit: z.number().int().min(1).max(100).default(20) }), IntegrationHealth),
  metrics: defineRequest('monitor', 'metrics.get', z.object({ ...ofIntegration, window: MetricsWindow.optional() }), IntegrationMetrics),
  performance: defineRequest('monitor', 'performance.get', z.object({ ...ofIntegration, window: MetricsWindow }), Performance),
  report: defineRequest('monitor', 'reports.performance', z.object({ ...tenant, window: MetricsWindow }), PerformanceReport),
  failedSyncs: defineRequest('monitor', 'reports.failed_syncs', z.object({ window: MetricsWindow }), FailedSyncsReport),
  listRules: defineRequest('monitor', 'alert_rules.list', z.object(caller), AlertRuleList),
  createRule: defineRequest('monitor', 'alert_rules.create', z.object({ ...caller, body: CreateAlertRuleBody }), AlertRule),
  updateRule: defineRequest('monitor', 'alert_rules.update', z.object({ ...caller, id: z.uuid(), body: UpdateAlertRuleBody }), AlertRule),
  deleteRule: defineRequest('monitor', 'alert_rules.delete', z.object({ ...caller, id: z.uuid() }), z.object({ deleted: z.literal(true) })),
  listAlerts: defineRequest('monitor', 'alerts.list', z.object({ ...caller, query: AlertsQuery }), AlertList),
  queues: defineRequest('monitor', 'queues.list', z.object({}).strict(), QueueList),
  deadLetters: defineRequest('monitor', 'dead_letters.list', z.object({ query: DeadLettersQuery }), DeadLetterList),
  replay: defineRequest('monitor', 'dead_letters.replay', z.object({ id: z.uuid() }), DeadLetterRecord, 10_000),
} as const;

/** Monitor signals beside the heartbeat. */
export const monitorSignals = {
  authFailed: 'monitor.auth_failed',
} as const;

/** A dead letter handed back to the service whose consumer gave it up. */
export const RequeueRequest = z.object({
  dead_letter_id: z.uuid(),
  stream: text(),
  consumer: text(),
  subject: text(),
  payload: z.unknown(),
});
export type RequeueRequest = z.infer<typeof RequeueRequest>;
export const Requeued = z.object({
  how: z.enum(['republished', 'handled', 'restarted']).describe('republished: the job is queued again; handled: the event was handled again now; restarted: the service began the work anew'),
  detail: text(),
});
export type Requeued = z.infer<typeof Requeued>;

const jobRoutes = (service: ServiceName) => ({
  /** Runs a dead-lettered job or event again (served by the kit's runtime, with the service's own requeue step when it has one). */
  requeue: defineRequest(service, 'jobs.requeue', RequeueRequest, Requeued, 10_000),
});

/** `<service>.jobs.requeue` for every service, served by the kit's runtime (the monitor's replay sends it). */
export const jobRequests = Object.fromEntries(SERVICE_NAMES.map((s) => [s, jobRoutes(s)])) as Record<ServiceName, ReturnType<typeof jobRoutes>>;
