import { fileURLToPath } from 'node:url';
import { AuthFailure, consumers, DeadLetter, Heartbeat, monitorApiRequests, monitorRequests, monitorSignals, signals } from '@switchyard/contracts';
import type { Handlers, Runtime } from '@switchyard/kit';
import { Config } from './config.ts';
import { onConnectionTested } from './events/integration.connection_tested.ts';
import { onDeleted, onIntegration } from './events/integration.lifecycle.ts';
import { onSync } from './events/sync.outcomes.ts';
import type { Deps } from './handlers/deps.ts';
import { createAlertRule } from './handlers/monitor.alert_rules.create.ts';
import { deleteAlertRule } from './handlers/monitor.alert_rules.delete.ts';
import { listAlertRules } from './handlers/monitor.alert_rules.list.ts';
import { updateAlertRule } from './handlers/monitor.alert_rules.update.ts';
import { listAlertsHandler } from './handlers/monitor.alerts.list.ts';
import { deadLetters } from './handlers/monitor.dead_letters.list.ts';
import { replay } from './handlers/monitor.dead_letters.replay.ts';
import { health } from './handlers/monitor.health.get.ts';
import { listInstancesHandler } from './handlers/monitor.instances.list.ts';
import { metrics } from './handlers/monitor.metrics.get.ts';
import { performance } from './handlers/monitor.performance.get.ts';
import { queues } from './handlers/monitor.queues.list.ts';
import { failedSyncs } from './handlers/monitor.reports.failed_syncs.ts';
import { report } from './handlers/monitor.reports.performance.ts';
import { evaluateAlerts } from './jobs/alert-evaluator.ts';
import { onDeadLetter } from './jobs/dead-letters.ts';
import { refreshGauges } from './jobs/gauges.ts';
import { HealthChecks } from './jobs/health-checks.ts';
import { maintain } from './jobs/maintenance.ts';
import { registerGauges } from './metrics.ts';
import { readQueues } from './queues.ts';
import { seedSystemRules } from './repo/alert-rules.ts';
import { onAuthFailed } from './signals/monitor.auth_failed.ts';
import { onHeartbeat } from './signals/monitor.heartbeat.ts';

export const definition = {
  service: 'monitor',
  configSchema: Config,
  migrationsDir: fileURLToPath(new URL('../migrations', import.meta.url)),
} as const;

/** The request handlers, keyed as the contract's catalog: a missing or mistyped one does not compile. */
export const handlers = (d: Deps): Handlers<typeof monitorApiRequests> => ({
  health: health(d),
  metrics: metrics(d),
  performance: performance(d),
  report: report(d),
  failedSyncs: failedSyncs(d),
  listRules: listAlertRules(d),
  createRule: createAlertRule(d),
  updateRule: updateAlertRule(d),
  deleteRule: deleteAlertRule(d),
  listAlerts: listAlertsHandler(d),
  queues: queues(d),
  deadLetters: deadLetters(d),
  replay: replay(d),
});

/** Runs `fn` every `ms` (never two at once); failures are logged, throttled, and the next round tries again. */
function every(rt: Runtime, name: string, ms: number, fn: () => Promise<unknown>) {
  let running = false;
  let failures = 0;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    fn()
      .then(() => (failures = 0))
      .catch((err: unknown) => {
        if (failures++ % 30 === 0) rt.log.warn({ err, task: name }, `${name} failed; will retry`);
      })
      .finally(() => (running = false));
  }, ms);
  timer.unref();
  rt.shutdown.on('stop-intake', `${name} timer`, () => clearInterval(timer));
}

export async function buildApp(rt: Runtime, config: Config): Promise<void> {
  const { pool, rpc, log } = rt;
  const read = () => readQueues(rt.nc);
  const deps: Deps = { pool, rpc, log, readQueues: read, defaultIntervalS: Math.round(config.HEALTH_CHECK_INTERVAL_MS / 1_000) };
  rt.startOutbox();
  registerGauges();

  rt.listen(signals.heartbeat, Heartbeat, onHeartbeat({ pool }));
  rt.listen(monitorSignals.authFailed, AuthFailure, onAuthFailed({ pool }));
  rt.serve(monitorRequests, { listInstances: listInstancesHandler({ pool, staleAfterBeats: config.INSTANCE_STALE_AFTER_BEATS }) });
  rt.serve(monitorApiRequests, handlers(deps));

  const lifecycle = onIntegration({ pool, defaultIntervalMs: config.HEALTH_CHECK_INTERVAL_MS });
  rt.consume(consumers.monitorIntegrationEvents, {
    'events.integration.created': lifecycle,
    'events.integration.updated': lifecycle,
    'events.integration.connected': lifecycle,
    'events.integration.disconnected': lifecycle,
    'events.integration.deleted': onDeleted({ pool }),
    'events.integration.connection_tested': onConnectionTested({ pool }),
  });
  rt.consume(consumers.monitorSyncEvents, {
    'events.sync.started': onSync({ pool }, 'started'),
    'events.sync.completed': onSync({ pool }, 'completed'),
    'events.sync.failed': onSync({ pool }, 'failed'),
    'events.sync.cancelled': onSync({ pool }, 'cancelled'),
  });
  rt.runJobs({ consumer: consumers.monitorDeadLetters, schema: DeadLetter, concurrency: 4, handler: onDeadLetter({ pool }) });

  // PostgreSQL may be away right now: the seeding is retried with the evaluation until it lands.
  let seeded = false;
  const seed = async () => {
    if (!seeded) await seedSystemRules(pool, config.ALERTS_OPERATOR_TENANT);
    seeded = true;
  };
  const checks = new HealthChecks({ pool, rpc, log, intervalMs: config.HEALTH_CHECK_INTERVAL_MS, concurrency: config.HEALTH_CHECK_CONCURRENCY });
  checks.start();
  rt.shutdown.on('in-flight', 'health checks', () => checks.stop());
  every(rt, 'alert evaluation', config.ALERT_EVALUATION_INTERVAL_MS, async () => {
    await seed();
    await evaluateAlerts({ pool, log, readQueues: read, staleAfterBeats: config.INSTANCE_STALE_AFTER_BEATS });
  });
  every(rt, 'gauges', Math.min(15_000, config.ALERT_EVALUATION_INTERVAL_MS), () => refreshGauges(pool, read));
  every(rt, 'retention', 10 * 60_000, () => maintain(pool, config.METRICS_RETENTION_DAYS, log));
}
