import { PgListener, withTransaction, type Logger, type Pool } from '@switchyard/kit';
import type { RootKeys } from './config.ts';
import { newMasterKey, unwrapMasterKey, wrapMasterKey, type MasterKey } from './envelope.ts';
import {
  getMasterKey,
  insertMasterKey,
  listMasterKeys,
  lockKeyRing,
  rewrapMasterKey,
  wrappedOf,
  type MasterKeyRow,
} from './repo/master-keys.ts';


export interface KeyRingOptions {
  pool: Pool;
  databaseUrl: string;
  schema: string;
  root: RootKeys;
  log: Logger;
  /** Called after the ring changed elsewhere (another replica rotated or retired a key). */
  onChange?: () => void;
}

/**
 * The master keys this process has unwrapped, and which one is active. Any
 * record's key is found by id (loaded from the table when unknown here); the
 * active key is re-read whenever PostgreSQL notifies a change to the ring.
 */
export class KeyRing {
  private readonly keys = new Map<string, Buffer>();
  private current?: { id: string; seq: number };
  private listener?: PgListener;
  private stopped = false;

  private constructor(private readonly o: KeyRingOptions) {}

  /**
   * Unwraps every master key (re-wrapping those still under the previous root
   * key) and creates the first one on an empty ring. Replicas starting
   * together take turns on an advisory lock, so only one creates it.
   */
  static async open(o: KeyRingOptions): Promise<KeyRing> {
    const ring = new KeyRing(o);
    await withTransaction(o.pool, async (tx) => {
      await lockKeyRing(tx, o.schema);
      const rows = await listMasterKeys(tx);
      let rewrapped = 0;
      for (const row of rows) {
        const { key, underPrevious } = ring.unwrap(row);
        ring.keys.set(row.id, key);
        if (underPrevious && (await rewrapMasterKey(tx, row.id, wrappedOf(row), wrapMasterKey({ id: row.id, key }, o.root.current))))
          rewrapped++;
      }
      if (rewrapped) o.log.info({ master_keys: rewrapped }, 'master keys re-wrapped with the current root key');
      else if (o.root.previous && rows.length)
        o.log.info('no master key is wrapped by CREDENTIALS_ROOT_KEY_PREVIOUS any more; it can be unset');
      if (!rows.length) {
        const first = newMasterKey();
        await insertMasterKey(tx, first.id, wrapMasterKey(first, o.root.current));
        ring.keys.set(first.id, first.key);
        o.log.info({ master_key_id: first.id }, 'created the first master key');
      }
    });
    await ring.refresh();
    return ring;
  }

  /** The key new records are sealed with. */
  active(): MasterKey {
    const id = this.current!.id;
    return { id, key: this.keys.get(id)! };
  }

  /** A master key by id, unwrapped once and then kept in memory. */
  async key(id: string): Promise<MasterKey> {
    const cached = this.keys.get(id);
    if (cached) return { id, key: cached };
    const row = await getMasterKey(this.o.pool, id);
    if (!row) throw new Error(`master key ${id} is not in the key ring`);
    const { key } = this.unwrap(row);
    this.keys.set(id, key);
    return { id, key };
  }

  /** Re-reads which key is active (newest not retired). Moves forward only, so a slow answer cannot undo a newer one. */
  async refresh(): Promise<MasterKey> {
    const { rows } = await this.o.pool.query<{ id: string; seq: string }>(
      'SELECT id, seq FROM master_keys WHERE retired_at IS NULL ORDER BY seq DESC LIMIT 1',
    );
    const row = rows[0];
    if (!row) throw new Error('the key ring has no active master key');
    await this.key(row.id);
    const seq = Number(row.seq);
    if (!this.current || seq >= this.current.seq) this.current = { id: row.id, seq };
    return this.active();
  }

  /** Adds a master key; it is active for this replica at once and for the others on the NOTIFY its insert sends. */
  async rotate(): Promise<MasterKey> {
    const next = newMasterKey();
    await insertMasterKey(this.o.pool, next.id, wrapMasterKey(next, this.o.root.current));
    this.keys.set(next.id, next.key);
    return this.refresh();
  }

  /** Follows changes made by other replicas (LISTEN); reconnects when the connection drops. */
  async watch(): Promise<void> {
    if (this.stopped) return;
    this.listener = new PgListener({
      url: this.o.databaseUrl,
      channel: `${this.o.schema}_master_keys`,
      applicationName: `${this.o.schema}-key-ring`,
      log: this.o.log,
      onNotify: () => void this.changed(),
      // A rotation may have happened while we were not listening.
      onListening: () => void this.changed(),
    });
    this.listener.start();
  }

  private async changed() {
    try {
      await this.refresh();
      this.o.onChange?.();
    } catch (err) {
      this.o.log.warn({ err }, 'could not re-read the key ring');
    }
  }

  async stopWatching(): Promise<void> {
    this.stopped = true;
    await this.listener?.stop();
  }

  /** Wipes the unwrapped keys from memory. */
  close(): void {
    for (const key of this.keys.values()) key.fill(0);
    this.keys.clear();
  }

  private unwrap(row: MasterKeyRow): { key: Buffer; underPrevious: boolean } {
    const { current, previous } = this.o.root;
    try {
      return { key: unwrapMasterKey(row.id, wrappedOf(row), current), underPrevious: false };
    } catch {
      if (previous) {
        try {
          return { key: unwrapMasterKey(row.id, wrappedOf(row), previous), underPrevious: true };
        } catch {
          // fall through to the error naming both variables
        }
      }
      const dev = this.o.root.insecureDefault ? ' (it is unset, so the development key was tried)' : '';
      throw new Error(
        previous
          ? `master key ${row.id} opens with neither CREDENTIALS_ROOT_KEY${dev} nor CREDENTIALS_ROOT_KEY_PREVIOUS`
          : `master key ${row.id} does not open with CREDENTIALS_ROOT_KEY${dev}; ` +
            'if the root key was changed, set CREDENTIALS_ROOT_KEY_PREVIOUS to the former one',
      );
    }
  }
}
