import { durationSeconds, IntegrationAlertMetric, type QueueList } from '@switchyard/contracts';
import type { PoolClient } from '@switchyard/kit';
import { integrationValue } from '../domain/alerting.ts';
import type { RuleRow } from '../repo/alert-rules.ts';
import { failuresBySource } from '../repo/auth-failures.ts';
import { waitingByConsumer } from '../repo/dead-letters.ts';
import { missingByService } from '../repo/instances.ts';
import { listRegistered } from '../repo/registry.ts';
import { spanSeconds, totalsByIntegration } from '../repo/rollups.ts';

/** One thing a rule watches, and its value now. */
export interface Series {
  series: string;
  labels: Record<string, string>;
  integrationId: string | null;
  value: number | null;
}

/**
 * The series of each rule, computed from the rollups (integration metrics)
 * and from the platform's state (queues, dead letters, instances, refused
 * keys). Queue states are read from JetStream once per evaluation.
 */
export class SeriesSource {
  private queues?: Promise<QueueList | null>;

  constructor(
    private readonly tx: PoolClient,
    private readonly o: { readQueues: () => Promise<QueueList>; staleAfterBeats: number; now: Date },
  ) {}

  async of(rule: RuleRow): Promise<Series[]> {
    if (IntegrationAlertMetric.safeParse(rule.metric).success) return this.integrations(rule);
    return this.system(rule);
  }

  private async integrations(rule: RuleRow): Promise<Series[]> {
    const registered = (await listRegistered(this.tx, { tenantId: rule.tenant_id, integrationId: rule.integration_id ?? undefined })).filter(
      (i) => i.connected,
    );
    if (!registered.length) return [];
    const ids = registered.map((i) => i.id);
    const span = spanSeconds(durationSeconds(rule.window_text), this.o.now);
    const [byIntegration, unhealthy] = await Promise.all([
      rule.metric === 'unhealthy' ? Promise.resolve(new Map()) : totalsByIntegration(this.tx, { ids }, span),
      this.unhealthy(ids),
    ]);
    return registered.map((i) => ({
      series: `integration:${i.id}`,
      labels: { integration_id: i.id, integration: i.name },
      integrationId: i.id,
      value: integrationValue(rule.metric, byIntegration.get(i.id), unhealthy.has(i.id)),
    }));
  }

  private async unhealthy(ids: string[]): Promise<Set<string>> {
    const { rows } = await this.tx.query<{ integration_id: string }>(
      `SELECT integration_id FROM integration_health WHERE integration_id = ANY($1::uuid[]) AND state = 'unhealthy'`,
      [ids],
    );
    return new Set(rows.map((r) => r.integration_id));
  }

  private async system(rule: RuleRow): Promise<Series[]> {
    switch (rule.metric) {
      case 'dead_letters':
        return [...(await waitingByConsumer(this.tx))].map(([consumer, n]) => ({
          series: `consumer:${consumer}`,
          labels: { consumer },
          integrationId: null,
          value: n,
        }));
      case 'queue_pending':
      case 'queue_oldest_age_seconds': {
        const q = await (this.queues ??= this.o.readQueues().catch(() => null));
        // JetStream unreadable this time: no series, so open alerts keep their state rather than resolve on no data.
        if (!q) return [];
        return q.streams.flatMap((s) =>
          s.consumers.map((c) => ({
            series: `consumer:${c.stream}/${c.consumer}`,
            labels: { stream: c.stream, consumer: c.consumer },
            integrationId: null,
            value: rule.metric === 'queue_pending' ? c.pending : c.oldest_unacked_age_seconds,
          })),
        );
      }
      case 'service_instances_missing':
        return [...(await missingByService(this.tx, this.o.staleAfterBeats))].map(([service, n]) => ({
          series: `service:${service}`,
          labels: { service },
          integrationId: null,
          value: n,
        }));
      case 'auth_failures':
        return (await failuresBySource(this.tx, durationSeconds(rule.window_text))).map((f) => ({
          series: f.source,
          labels: { source: f.source },
          integrationId: null,
          value: f.n,
        }));
      default:
        return [];
    }
  }
}

