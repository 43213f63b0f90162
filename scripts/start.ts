/**
 * `npm start`: the whole system on one machine. Finds (or starts) PostgreSQL,
 * Redis and NATS, compiles what is missing or stale, creates a local admin
 * key, starts the seven services as separate processes with prefixed logs,
 * waits until each is ready and prints where to call it. Ctrl-C stops
 * everything in order.
 *
 * `npm run dev` (--dev) runs the services from TypeScript under `tsx watch`
 * instead: each restarts when its code changes.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { redactUrl } from '@switchyard/kit';
import { SERVICE_NAMES } from '@switchyard/contracts';
import { buildServices, compiledCli, ensureInfra, provisionNats, ROOT, startService, Supervisor, waitHealthy } from '@switchyard/kit/local';

const dev = process.argv.includes('--dev');
const run = promisify(execFile);

const began = performance.now();
const say = (m: string) => console.log(`switchyard | ${m}`);

async function main() {
  const infra = await ensureInfra(say);
  say(`PostgreSQL ${redactUrl(infra.DATABASE_URL)}, Redis ${redactUrl(infra.REDIS_URL)}, NATS ${redactUrl(infra.NATS_URL)}`);
  const env = { DATABASE_URL: infra.DATABASE_URL, REDIS_URL: infra.REDIS_URL, NATS_URL: infra.NATS_URL };

  if (!dev) {
    const built = await buildServices();
    if (built.length) say(`compiled ${built.join(', ')}`);
  }
  // Streams and consumers, before the services that use them (the provisioning identity's job).
  const nats = process.env.NATS_USER ? { user: process.env.NATS_USER, pass: process.env.NATS_PASSWORD ?? '' } : undefined;
  await provisionNats(env.NATS_URL, process.env, nats);

  // The key is made while the services start: the CLI and the gateway migrate the gateway's schema under one advisory lock.
  const cliCommand = dev ? ['--import', 'tsx', join(ROOT, 'services/gateway/src/cli.ts')] : ['--enable-source-maps', compiledCli()];
  const adminKey = run(process.execPath, [...cliCommand, 'create-key', '--name', 'local admin (npm start)', '--replace'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
  }).then(
    ({ stdout }) => stdout.trim(),
    (err: { stderr?: string; message: string }) => {
      throw new Error(`could not create the admin key: ${err.stderr?.trim() || err.message}`);
    },
  );

  // A service that exits on its own is started again, with a backoff, as Kubernetes would.
  const startOptions = { env, runtime: dev ? ('watch' as const) : ('compiled' as const), log: say };
  const supervisor = new Supervisor(SERVICE_NAMES.map((name) => startService(name, startOptions)), startOptions);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: stopping the services`);
    const codes = await supervisor.stop();
    say(`stopped (exit codes: ${codes.join(', ')})`);
    process.exit(codes.every((c) => c === 0) ? 0 : 1);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  const ready = Promise.all(supervisor.running.map((s) => waitHealthy(s.name, s.healthPort, 60_000)));
  const [key] = await Promise.all([adminKey, ready]).catch(async (err: Error) => {
    await supervisor.stop();
    throw err;
  });
  const running = supervisor.running;
  const port = process.env.PORT ?? '3000';
  const url = process.env.PUBLIC_URL ?? `http://127.0.0.1:${port}`;
  const secs = ((performance.now() - began) / 1000).toFixed(1);
  console.log(`
  Switchyard is running: all ${running.length} services ready in ${secs} s

    API        ${url}
    API docs   ${url}/docs
    Admin key  ${key}

  Try:  curl -H "Authorization: Bearer ${key}" ${url}/v1/system/status
  Ctrl-C stops everything.
`);
}

main().catch((err) => {
  console.error(`switchyard | could not start: ${(err as Error).message}`);
  process.exit(1);
});
