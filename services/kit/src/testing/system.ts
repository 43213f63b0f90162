/**
 * A whole Switchyard on this machine, isolated from `npm start`: its own
 * database, a private nats-server, free ports and an admin key. Used by the
 * end-to-end tests and the benchmarks.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { PROVISIONER, SERVICE_NAMES, type ServiceName } from '@switchyard/contracts';
import {
  buildServices,
  compiledCli,
  DEFAULTS,
  dropDatabase,
  ensureDatabase,
  NATS_AUTH_CONFIG_PATH,
  passwordVar,
  provisionNats,
  ROOT,
  startAll,
  startService,
  stopAll,
  waitReady,
  type RunningService,
  type ServiceRuntime,
  type StartOptions,
} from '../local/index.ts';
import { startNatsServer, type NatsServer } from './nats-server.ts';
import { freePort } from './ports.ts';

export interface IsolatedSystem {
  api: string;
  /** An admin key of the platform operator's tenant, as `npm start` makes it. */
  adminKey: string;
  databaseUrl: string;
  nats: NatsServer;
  services: RunningService[];
  env: Record<string, string>;
  /** How the services are started (for a Supervisor that restarts them as npm start does). */
  startOptions: StartOptions;
  /** Starts the seven services (done by startSystem unless `services: false`). */
  startServices(): Promise<RunningService[]>;
  /** Kills one service (SIGKILL: no drain) and starts a fresh process of it. */
  killAndRestart(name: ServiceName): Promise<void>;
  /** Makes a key with the admin CLI (another tenant, another role): `npm run admin -- create-key …`. */
  createKey(opts: { tenant: string; role?: 'admin' | 'editor' | 'viewer'; name?: string; operator?: boolean }): string;
  /** Environment for one service (its NATS user when permissions are on). */
  envFor(name: ServiceName | 'operator' | typeof PROVISIONER): Record<string, string>;
  stop(): Promise<(number | string)[]>;
}

/** Runs `create-key` of the compiled admin CLI against a system's environment; the key it prints. */
function adminCliIn(env: Record<string, string>, args: string[]): string {
  const cli = spawnSync(process.execPath, ['--enable-source-maps', compiledCli(), 'create-key', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  if (cli.status !== 0) throw new Error(`admin key: ${cli.stderr}`);
  return cli.stdout.trim();
}

export async function startSystem(
  opts: {
    env?: Record<string, string>;
    print?: StartOptions['print'];
    services?: boolean;
    name?: string;
    /** Run NATS with deploy/nats/nats-server.conf: one user per service, subject permissions. */
    natsPermissions?: boolean;
    /** How the services run (default: compiled, as `npm start` runs them). */
    runtime?: ServiceRuntime;
    /** The PostgreSQL server to make the system's database on (default: DATABASE_URL or the local one). */
    databaseServer?: string;
  } = {},
): Promise<IsolatedSystem> {
  // The services (and the admin CLI) run compiled, as `npm start` runs them: build what is stale first.
  await buildServices();
  const db = new URL(opts.databaseServer ?? process.env.DATABASE_URL ?? DEFAULTS.DATABASE_URL);
  db.pathname = `/switchyard_${opts.name ?? 'e2e'}_${randomBytes(4).toString('hex')}`;
  const databaseUrl = db.toString();
  await ensureDatabase(databaseUrl);
  const gatewayPort = await freePort();
  const ports = await Promise.all(SERVICE_NAMES.map(() => freePort()));
  const healthPorts = Object.fromEntries(SERVICE_NAMES.map((s, i) => [s, ports[i]])) as Record<ServiceName, number>;
  const users = [...SERVICE_NAMES, 'operator', PROVISIONER];
  const natsOpts = opts.natsPermissions
    ? { configFile: NATS_AUTH_CONFIG_PATH, env: Object.fromEntries(users.map((u) => [passwordVar(u), `${u}-${randomBytes(6).toString('hex')}`])) }
    : {};
  const natsUser = (name: string): Record<string, string> =>
    opts.natsPermissions ? { NATS_USER: name, NATS_PASSWORD: natsOpts.env![passwordVar(name)]! } : {};

  const adminCli = (args: string[]) => adminCliIn(sys.env, args);
  const sys: IsolatedSystem = {
    api: `http://127.0.0.1:${gatewayPort}`,
    adminKey: '',
    databaseUrl,
    nats: await startNatsServer(natsOpts),
    services: [],
    env: {},
    get startOptions() {
      return { env: sys.env, envFor: natsUser, healthPorts, runtime: opts.runtime, print: opts.print ?? null };
    },
    envFor: (name) => ({ ...sys.env, ...natsUser(name) }),
    createKey(o) {
      const args = ['--tenant', o.tenant, '--role', o.role ?? 'admin', '--name', o.name ?? `${o.tenant} ${o.role ?? 'admin'}`];
      return adminCli([...args, ...(o.operator ? ['--operator'] : [])]);
    },
    async startServices() {
      sys.services = await startAll({ env: sys.env, envFor: natsUser, healthPorts, runtime: opts.runtime, print: opts.print ?? null, readyTimeoutMs: 90_000 });
      return sys.services;
    },
    async killAndRestart(name) {
      const old = sys.services.find((s) => s.name === name)!;
      old.child.kill('SIGKILL');
      await old.exited;
      const fresh = startService(name, { env: sys.env, envFor: natsUser, healthPorts, runtime: opts.runtime, print: opts.print ?? null });
      await waitReady(fresh, 90_000);
      sys.services = sys.services.map((s) => (s === old ? fresh : s));
    },
    async stop() {
      const codes = await stopAll(sys.services, 10_000);
      sys.services = [];
      await sys.nats.dispose();
      await dropDatabase(databaseUrl).catch(() => {});
      return codes;
    },
  };
  sys.env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: process.env.REDIS_URL ?? DEFAULTS.REDIS_URL,
    NATS_URL: sys.nats.url,
    HEARTBEAT_INTERVAL_MS: '500',
    // Seven services (and the tests beside them) share one PostgreSQL: small pools keep them under its max_connections.
    DB_POOL_MAX: '4',
    HEALTH_HOST: '127.0.0.1',
    PORT: String(gatewayPort),
    LOG_LEVEL: 'info',
    ...opts.env,
  };
  try {
    sys.adminKey = adminCli(['--name', 'isolated admin', '--operator']);
  } catch (err) {
    await sys.stop();
    throw err;
  }
  // The provisioning step, as npm start (and a Kubernetes Job) runs it before the services.
  const p = natsUser(PROVISIONER);
  await provisionNats(sys.nats.url, sys.env, p.NATS_USER ? { user: p.NATS_USER, pass: p.NATS_PASSWORD! } : undefined);
  if (opts.services !== false) await sys.startServices();
  return sys;
}
