import { withTransaction, writeEvent, type Logger, type Pool } from '@switchyard/kit';
import { recordProgress, touchSync } from '../repo/syncs.ts';
import { SOURCE } from '../syncs.ts';

// At most one progress event a second (every step is still recorded in the row).
const ANNOUNCE_EVERY_MS = 1_000;

/**
 * Records a running sync's progress as discovery reports it, in order, and
 * announces it now and then. Says when the sync was ended elsewhere
 * (cancelled), so discovery can stop. Between reports a heartbeat keeps the
 * sync fresh for the sweeper.
 */
export class ProgressTracker {
  private chain = Promise.resolve();
  private lastAnnounced = 0;
  private readonly heartbeat: NodeJS.Timeout;
  readonly cancelled = new AbortController();

  constructor(
    private readonly o: { pool: Pool; log: Logger; syncId: string; tenantId: string; heartbeatMs: number; working: () => void },
  ) {
    this.heartbeat = setInterval(() => void touchSync(o.pool, o.syncId).catch(() => {}), o.heartbeatMs);
  }

  report = (done: number, total: number): void => {
    this.o.working();
    this.chain = this.chain
      .then(async () => {
        const now = Date.now();
        const announce = now - this.lastAnnounced >= ANNOUNCE_EVERY_MS || done === total;
        const sync = await withTransaction(this.o.pool, async (tx) => {
          const s = await recordProgress(tx, this.o.syncId, done, total);
          if (s && announce) await writeEvent(tx, SOURCE, 'events.sync.progress', { sync: s }, { tenantId: this.o.tenantId, about: this.o.syncId });
          return s;
        });
        if (announce) this.lastAnnounced = now;
        if (!sync) this.cancelled.abort(new Error('sync cancelled'));
      })
      .catch((err) => this.o.log.warn({ err }, 'progress not recorded'));
  };

  /** Waits for the reports in flight and stops the heartbeat. */
  async settle(): Promise<void> {
    clearInterval(this.heartbeat);
    await this.chain;
  }
}
