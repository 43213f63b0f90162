import { EventEmitter } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP proxy in front of a customer database that can add latency to every
 * answer, so a sync stays in progress long enough to act on it (cancel it,
 * kill its worker, drop its database) — a slow network, not a fake server.
 */
export class SlowProxy extends EventEmitter<{ connection: [] }> {
  latencyMs = 0;
  /** Connections accepted so far (each also emits 'connection'). */
  connections = 0;
  private server?: Server;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly target: { host: string; port: number }) {
    super();
  }

  async start(): Promise<number> {
    this.server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      this.sockets.add(client).add(upstream);
      const close = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
      client.pipe(upstream);
      this.connections++;
      this.emit('connection');
      // Answers are delayed in order: each chunk leaves latencyMs after the previous one arrived.
      let chain = Promise.resolve();
      upstream.on('data', (chunk: Buffer) => {
        const delay = this.latencyMs;
        chain = chain.then(() => (delay ? new Promise((r) => setTimeout(r, delay)) : undefined)).then(() => {
          if (!client.destroyed) client.write(chunk);
        });
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
