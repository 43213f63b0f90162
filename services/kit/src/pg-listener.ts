import type { Client } from 'pg';
import type PgModule from 'pg';
import { requireCjs } from './cjs.ts';
import type { Logger } from './logger.ts';
import { quoteIdent } from './db.ts';

export interface PgListenerOptions {
  url: string;
  /** The NOTIFY channel, e.g. `<schema>_outbox`. */
  channel: string;
  applicationName: string;
  log: Logger;
  onNotify: () => void;
  /**
   * Called each time LISTEN is (re)established: notifications sent while the
   * connection was down are lost, so the owner looks again.
   */
  onListening?: () => void;
}

/**
 * A LISTEN connection that survives PostgreSQL going away: every client it
 * makes keeps an error handler for its whole life (an `error` event without
 * one would end the process), and it reconnects with a backoff of 0.5 s
 * doubling to 5 s until it is stopped.
 */
export class PgListener {
  private client?: Client;
  private stopped = false;
  private failures = 0;
  private timer?: NodeJS.Timeout;

  constructor(private readonly o: PgListenerOptions) {}

  start(): void {
    void this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.client?.end().catch(() => {});
  }

  private async connect() {
    if (this.stopped) return;
    const pg = requireCjs('pg') as typeof PgModule;
    const client = new pg.Client({ connectionString: this.o.url, application_name: this.o.applicationName });
    this.client = client;
    let lost = false;
    const reconnect = (err: unknown) => {
      if (lost || this.stopped) return;
      lost = true;
      this.failures++;
      if (this.failures === 1 || this.failures % 30 === 0)
        this.o.log.warn({ err, channel: this.o.channel, failures: this.failures }, 'LISTEN connection lost; reconnecting');
      client.end().catch(() => {});
      this.timer = setTimeout(() => void this.connect(), Math.min(500 * 2 ** Math.min(this.failures - 1, 4), 5_000));
      this.timer.unref();
    };
    client.on('error', reconnect);
    client.on('end', () => reconnect(new Error('connection ended')));
    client.on('notification', () => this.o.onNotify());
    try {
      await client.connect();
      await client.query(`LISTEN ${quoteIdent(this.o.channel)}`);
      if (this.failures) this.o.log.info({ channel: this.o.channel }, 'LISTEN connection back');
      this.failures = 0;
      this.o.onListening?.();
    } catch (err) {
      reconnect(err);
    }
  }
}
