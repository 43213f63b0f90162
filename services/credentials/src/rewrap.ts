import { withTransaction, type Logger, type Pool } from '@switchyard/kit';
import { rewrapDek, type WrappedDek } from './envelope.ts';
import type { KeyRing } from './keyring.ts';
import { countNotOnKey, lockRecordsToRewrap, updateWrappings } from './repo/credentials.ts';
import { activeMasterKeyId, keysToRetire, lockActiveMasterKey, retireIfUnused } from './repo/master-keys.ts';

export interface RewrapperOptions {
  pool: Pool;
  ring: KeyRing;
  batchSize: number;
  log: Logger;
}

/**
 * Moves records' data keys onto the active master key after a rotation, in
 * batches, then retires the keys no record uses. Only DEKs are unwrapped; the
 * secrets stay sealed. Every replica may run it at once (SKIP LOCKED), and
 * one that restarts half way simply starts again: whatever is not on the
 * active key is what is left to do.
 */
export class Rewrapper {
  private running?: Promise<void>;
  /** Cleared in the same tick as the decision to stop looping, so a kick is never lost. */
  private active = false;
  private again = false;
  private stopped = false;
  private wake?: () => void;
  /** Records whose DEK would not unwrap: logged once and left on their key (which is then never retired). */
  private readonly failed = new Set<string>();

  constructor(private readonly o: RewrapperOptions) {}

  /** Starts re-wrapping, or makes a running pass look again; cheap to call often. */
  kick(): void {
    if (this.stopped) return;
    this.again = true;
    this.wake?.();
    if (this.active) return;
    this.active = true;
    this.running = this.run();
  }

  /** Finishes the batch in progress and stops. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.running;
  }

  private async run() {
    let delay = 0;
    for (;;) {
      if (this.stopped || !(this.again || delay > 0)) {
        this.active = false;
        return;
      }
      this.again = false;
      try {
        const moved = await this.drain();
        if (moved) this.o.log.info({ records: moved }, 're-wrapped data keys onto the active master key');
        await this.retireUnused();
        const activeId = await activeMasterKeyId(this.o.pool);
        const pending = activeId ? await countNotOnKey(this.o.pool, activeId, [...this.failed]) : 0;
        if (pending === 0) {
          delay = 0;
          if (this.failed.size)
            this.o.log.error({ records: this.failed.size }, 'some data keys could not be re-wrapped; their master keys stay in use');
          continue;
        }
        // Left over: rows another replica is moving right now, or a write that raced the rotation. Look again soon.
        delay = moved ? 200 : Math.min(Math.max(delay * 2, 500), 30_000);
      } catch (err) {
        delay = Math.min(Math.max(delay * 2, 1_000), 30_000);
        this.o.log.warn({ err, retry_in_ms: delay }, 're-wrapping failed; will retry');
      }
      await this.sleep(delay);
    }
  }

  private async drain(): Promise<number> {
    let total = 0;
    while (!this.stopped) {
      const { locked, moved } = await this.batch();
      total += moved;
      if (locked === 0) break;
    }
    return total;
  }

  /** One transaction: lock up to a batch of records not on the active key and re-wrap their DEKs. */
  private async batch(): Promise<{ locked: number; moved: number }> {
    return withTransaction(this.o.pool, async (tx) => {
      const activeId = await lockActiveMasterKey(tx);
      if (!activeId) return { locked: 0, moved: 0 };
      const to = await this.o.ring.key(activeId);
      const rows = await lockRecordsToRewrap(tx, activeId, { limit: this.o.batchSize, skipIds: [...this.failed] });
      const updates: (WrappedDek & { id: string })[] = [];
      for (const row of rows) {
        try {
          const from = await this.o.ring.key(row.master_key_id);
          updates.push({ id: row.id, ...rewrapDek(row, row, from, to) });
        } catch (err) {
          this.failed.add(row.id);
          this.o.log.error({ err, credential_id: row.id, master_key_id: row.master_key_id }, 'data key could not be re-wrapped');
        }
      }
      await updateWrappings(tx, updates);
      return { locked: rows.length, moved: updates.length };
    });
  }

  private async retireUnused() {
    for (const id of await keysToRetire(this.o.pool)) {
      if (await withTransaction(this.o.pool, (tx) => retireIfUnused(tx, id)))
        this.o.log.info({ master_key_id: id }, 'master key retired: no record uses it any more (its row is kept)');
    }
  }

  private sleep(ms: number) {
    if (ms <= 0 || this.stopped) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}
