import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { waitPort } from '../local/infra.ts';
import { freePort } from './ports.ts';

export interface RedisServer {
  url: string;
  port: number;
  /** Stops the server (it keeps nothing: Switchyard's Redis data can be lost). */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
}

/** A private redis-server on a free port, for tests that stop and restart Redis. */
export async function startRedisServer(): Promise<RedisServer> {
  const bin = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find(existsSync) ?? 'redis-server';
  const port = await freePort();
  let exited: Promise<void> = Promise.resolve();
  let kill = () => {};
  const start = async () => {
    const child = spawn(bin, ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    exited = new Promise<void>((r) => child.once('exit', () => r()));
    kill = () => child.kill('SIGTERM');
    try {
      await waitPort('127.0.0.1', port, 'redis-server', 10_000);
    } catch (err) {
      kill();
      throw err;
    }
  };
  const stop = async () => {
    kill();
    await exited;
  };
  await start();
  return { url: `redis://127.0.0.1:${port}`, port, stop, start };
}
