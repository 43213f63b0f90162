import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { natsServerBinary, waitPort } from '../local/infra.ts';
import { freePort } from './ports.ts';

export interface NatsServer {
  url: string;
  port: number;
  storeDir: string;
  /** Stops the server (SIGTERM); its store stays, so `restart` brings the same server back. */
  stop(): Promise<void>;
  /** Starts it again on the same port and store. */
  restart(): Promise<void>;
  /** Stops it and removes its store. */
  dispose(): Promise<void>;
}

/**
 * A private nats-server with JetStream, on its own port and store, for tests
 * whose queue groups must not meet `npm start`'s, that stop and restart NATS,
 * or that need a server configuration of their own (`configFile`, with `env`
 * for the variables it names).
 */
export async function startNatsServer(opts: { port?: number; storeDir?: string; configFile?: string; env?: Record<string, string> } = {}): Promise<NatsServer> {
  const port = opts.port ?? (await freePort());
  const storeDir = opts.storeDir ?? mkdtempSync(join(tmpdir(), 'switchyard-nats-'));
  const bin = natsServerBinary();
  let exited: Promise<void> = Promise.resolve();
  let kill = () => {};

  const start = async () => {
    const args = ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir];
    if (opts.configFile) args.unshift('-c', opts.configFile);
    const child = spawn(bin, args, { stdio: 'ignore', env: { ...process.env, ...opts.env } });
    exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    kill = () => child.kill('SIGTERM');
    try {
      await waitPort('127.0.0.1', port, 'nats-server', 10_000);
    } catch (err) {
      // Never leave a server behind that the caller cannot stop.
      await stop();
      throw err;
    }
  };
  const stop = async () => {
    kill();
    await exited;
  };

  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    stop,
    async restart() {
      await stop();
      await start();
    },
    async dispose() {
      await stop();
      if (!opts.storeDir) rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
