import { withTransaction, writeEvent, type Logger, type Pool } from '@switchyard/kit';
import { recordProgress, touchSync, type Claim, type ClaimVerdict } from '../repo/claims.ts';
import { SOURCE } from '../syncs.ts';

// At most one progress event a second (every step is still recorded in the row).
const ANNOUNCE_EVERY_MS = 1_000;

/**
 * Records a running sync's progress as discovery reports it, in order, and
 * announces it now and then, under the delivery's claim. Says when the claim
 * was lost (the sync was cancelled, or another job or delivery holds it), so
 * discovery can stop. Between reports a heartbeat keeps the sync fresh for the
 * sweeper, and notices a lost claim too.
 */
export class ProgressTracker {
  private chain = Promise.resolve();
  private lastAnnounced = 0;
  private readonly heartbeat: NodeJS.Timeout;
  /** Aborted when the claim is lost; `lost` says how. */
  readonly cancelled = new AbortController();
  lost?: Exclude<ClaimVerdict, 'held'>;

  constructor(
    private readonly o: { pool: Pool; log: Logger; claim: Claim; tenantId: string; heartbeatMs: number; working: () => void },
  ) {
    this.heartbeat = setInterval(
      () => void touchSync(o.pool, o.claim).then((v) => this.verdict(v), () => {}),
      o.heartbeatMs,
    );
  }

  private verdict(v: ClaimVerdict) {
    if (v === 'held' || this.lost) return;
    this.lost = v;
    this.cancelled.abort(new Error(`sync claim lost (${v})`));
  }

  report = (done: number, total: number): void => {
    this.o.working();
    this.chain = this.chain
      .then(async () => {
        const now = Date.now();
        const announce = now - this.lastAnnounced >= ANNOUNCE_EVERY_MS || done === total;
        const { syncId } = this.o.claim;
        const { sync, verdict } = await withTransaction(this.o.pool, async (tx) => {
          const r = await recordProgress(tx, this.o.claim, done, total);
          if (r.sync && announce) await writeEvent(tx, SOURCE, 'events.sync.progress', { sync: r.sync }, { tenantId: this.o.tenantId, about: syncId });
          return r;
        });
        if (announce && sync) this.lastAnnounced = now;
        this.verdict(verdict);
      })
      .catch((err) => this.o.log.warn({ err }, 'progress not recorded'));
  };

  /** Waits for the reports in flight and stops the heartbeat. */
  async settle(): Promise<void> {
    clearInterval(this.heartbeat);
    await this.chain;
  }
}
