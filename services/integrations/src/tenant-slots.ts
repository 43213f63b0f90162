import { AppError } from '@switchyard/kit';

/** What a refused caller is told to wait: a connection test usually takes well under a second (5 s at most). */
export const RETRY_AFTER_SECONDS = 1;

/**
 * At most `limit` connection tests at once per tenant, in this process, so one
 * tenant's burst (a script creating fifty integrations, a button pressed over
 * and over) cannot take every connection attempt a replica makes, nor point
 * them all at one host. The caller past the limit is refused at once with
 * RATE_LIMITED (a 429) and a retry hint rather than queued: a queued request
 * would hold its NATS request and the gateway's HTTP request towards their
 * timeouts, while an API client already knows what to do with a 429. The
 * count is per process: R replicas allow up to R × limit for a tenant.
 */
export class TenantSlots {
  private readonly busy = new Map<string, number>();

  constructor(readonly limit: number) {}

  /** Runs `work` in one of the tenant's slots, or throws RATE_LIMITED when they are all taken. */
  async run<T>(tenantId: string, work: () => Promise<T>): Promise<T> {
    const n = this.busy.get(tenantId) ?? 0;
    if (n >= this.limit) {
      throw new AppError(
        'RATE_LIMITED',
        `${this.limit} connection tests of this tenant are already running; retry in ${RETRY_AFTER_SECONDS} s`,
        { details: { limit: this.limit, retry_after_seconds: RETRY_AFTER_SECONDS }, retryable: true },
      );
    }
    this.busy.set(tenantId, n + 1);
    try {
      return await work();
    } finally {
      const left = (this.busy.get(tenantId) ?? 1) - 1;
      if (left > 0) this.busy.set(tenantId, left);
      else this.busy.delete(tenantId);
    }
  }

  /** Slots the tenant holds now. */
  inUse(tenantId: string): number {
    return this.busy.get(tenantId) ?? 0;
  }
}
