import { integrationRequests } from '@switchyard/contracts';
import { isAppError, type Logger, type Pool, type RpcClient } from '@switchyard/kit';
import { healthChecksRequested } from '../metrics.ts';
import { claimDue } from '../repo/registry.ts';

export interface HealthCheckOptions {
  pool: Pool;
  rpc: RpcClient;
  log: Logger;
  intervalMs: number;
  concurrency: number;
}

/**
 * The periodic connection tests: every second each replica claims the due
 * integrations it has room for (row claims: no two replicas take the same
 * one) and asks the integrations service to test them. The result is
 * recorded from the connection_tested event that service announces, like any
 * other test; here only a request that did not reach a test is noted (the
 * integrations service away is not the integration's fault).
 */
export class HealthChecks {
  private timer?: NodeJS.Timeout;
  private readonly inFlight = new Set<Promise<void>>();
  private ticking = false;
  private failures = 0;

  constructor(private readonly o: HealthCheckOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), Math.min(1_000, this.o.intervalMs));
    this.timer.unref();
  }

  /** Stops claiming; the checks in flight finish. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.allSettled([...this.inFlight]);
  }

  async tick(): Promise<void> {
    const room = this.o.concurrency - this.inFlight.size;
    if (this.ticking || room <= 0) return;
    this.ticking = true;
    try {
      for (const due of await claimDue(this.o.pool, room, this.o.intervalMs)) {
        const p = this.check(due).finally(() => this.inFlight.delete(p));
        this.inFlight.add(p);
      }
    } catch (err) {
      if (this.failures++ % 30 === 0) this.o.log.warn({ err }, 'could not claim due health checks; will retry');
    } finally {
      this.ticking = false;
    }
  }

  private async check(due: { id: string; tenant_id: string }) {
    try {
      await this.o.rpc.request(integrationRequests.test, { tenant_id: due.tenant_id, id: due.id, trigger: 'health_check' });
      healthChecksRequested().add(1, { result: 'ok' });
      this.failures = 0;
    } catch (err) {
      const code = isAppError(err) ? err.code : 'INTERNAL';
      // RATE_LIMITED: the tenant's test slots are busy; NOT_FOUND: deleted (its event will follow). Both wait for the next turn.
      healthChecksRequested().add(1, { result: code === 'RATE_LIMITED' || code === 'NOT_FOUND' ? 'refused' : 'failed' });
      if (code !== 'RATE_LIMITED' && code !== 'NOT_FOUND' && this.failures++ % 30 === 0)
        this.o.log.warn({ err, integration_id: due.id }, 'health check request failed; the next one is at its interval');
    }
  }
}
