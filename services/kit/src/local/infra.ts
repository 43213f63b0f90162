/**
 * Finds PostgreSQL, Redis and NATS, or starts local ones. Used by `npm start`
 * and `npm test`. An explicit DATABASE_URL/REDIS_URL/NATS_URL is used as is;
 * otherwise the local defaults are tried and, when nothing answers, a local
 * server is started (data under .data/), installing it with apt-get when
 * running as root on Debian and it is missing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOCAL_INFRA } from '../config.ts';
import pg from 'pg';

/** The repository root (this file is services/kit/src/local/infra.ts). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
export const DATA = join(ROOT, '.data');

/** The local servers used when DATABASE_URL, REDIS_URL or NATS_URL is not set (the services' own defaults). */
export const DEFAULTS = LOCAL_INFRA;

export interface Infra {
  DATABASE_URL: string;
  REDIS_URL: string;
  NATS_URL: string;
}

export function portOpen(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

export async function waitPort(host: string, port: number, what: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await portOpen(host, port)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not start listening on ${host}:${port} within ${timeoutMs / 1000} s`);
}

const which = (bin: string): string | undefined => {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/local/sbin', '/sbin'])) {
    const p = join(dir, bin);
    if (existsSync(p)) return p;
  }
  return undefined;
};

const isRoot = () => process.getuid?.() === 0;

let aptUpdated = false;
function aptInstall(pkg: string, log: (m: string) => void): boolean {
  if (!isRoot() || !which('apt-get')) return false;
  log(`installing ${pkg} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
    aptUpdated = true;
  }
  return spawnSync('apt-get', ['install', '-y', '-qq', pkg], { stdio: 'ignore', env }).status === 0;
}

/** Runs a server binary in the background with its output in .data/<name>.log; it outlives this process. */
function daemon(name: string, bin: string, args: string[]) {
  mkdirSync(DATA, { recursive: true });
  const out = openSync(join(DATA, `${name}.log`), 'a');
  const child = spawn(bin, args, { detached: true, stdio: ['ignore', out, out] });
  child.unref();
}

export function natsServerBinary(log: (m: string) => void = () => {}): string {
  const found = which('nats-server');
  if (found) return found;
  if (aptInstall('nats-server', log) && which('nats-server')) return which('nats-server')!;
  throw new Error('nats-server is not installed and could not be installed: install it (apt-get install nats-server) or set NATS_URL');
}

const local = (u: URL) => ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(u.hostname);

async function ensurePostgres(url: URL, log: (m: string) => void) {
  const port = Number(url.port || 5432);
  if (await portOpen(url.hostname, port)) return;
  if (!local(url)) throw new Error(`PostgreSQL at ${url.host} does not answer (DATABASE_URL)`);
  const clusters = () => (existsSync('/etc/postgresql') ? readdirSync('/etc/postgresql') : []);
  if (!clusters().length && !which('pg_ctlcluster')) aptInstall('postgresql', log);
  const version = clusters()[0];
  if (version && which('pg_ctlcluster')) {
    log(`starting PostgreSQL ${version} (pg_ctlcluster)`);
    spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start'], { stdio: 'ignore' });
  } else {
    throw new Error(
      'PostgreSQL does not answer on 127.0.0.1:5432 and no local cluster was found: install PostgreSQL or set DATABASE_URL',
    );
  }
  await waitPort(url.hostname, port, 'PostgreSQL');
}

async function ensureRedis(url: URL, log: (m: string) => void) {
  const port = Number(url.port || 6379);
  if (await portOpen(url.hostname, port)) return;
  if (!local(url)) throw new Error(`Redis at ${url.host} does not answer (REDIS_URL)`);
  const bin = which('redis-server') ?? (aptInstall('redis-server', log) ? which('redis-server') : undefined);
  if (!bin) throw new Error('Redis does not answer and redis-server is not installed: install it or set REDIS_URL');
  log(`starting redis-server on ${port} (data in .data/redis)`);
  mkdirSync(join(DATA, 'redis'), { recursive: true });
  // Redis holds only what can be rebuilt (DESIGN.md), so nothing is persisted.
  daemon('redis', bin, ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', join(DATA, 'redis')]);
  await waitPort(url.hostname, port, 'Redis');
}

async function ensureNats(natsUrl: string, log: (m: string) => void) {
  const url = new URL(natsUrl.split(',')[0]!.trim());
  const port = Number(url.port || 4222);
  if (await portOpen(url.hostname, port)) return;
  if (!local(url)) throw new Error(`NATS at ${url.host} does not answer (NATS_URL)`);
  const bin = natsServerBinary(log);
  log(`starting nats-server with JetStream on ${port} (store in .data/nats)`);
  daemon('nats', bin, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', join(DATA, 'nats')]);
  await waitPort(url.hostname, port, 'nats-server');
}

/** Creates the database named in the URL when it does not exist. */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`).catch((err: { code?: string }) => {
        if (err.code !== '42P04') throw err; // created meanwhile by another process
      });
    }
  } finally {
    await client.end();
  }
}

export async function dropDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name.replace(/"/g, '""')}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

export async function ensureInfra(log: (m: string) => void = console.log): Promise<Infra> {
  const env = {
    DATABASE_URL: process.env.DATABASE_URL || DEFAULTS.DATABASE_URL,
    REDIS_URL: process.env.REDIS_URL || DEFAULTS.REDIS_URL,
    NATS_URL: process.env.NATS_URL || DEFAULTS.NATS_URL,
  };
  await ensurePostgres(new URL(env.DATABASE_URL), log);
  await ensureRedis(new URL(env.REDIS_URL), log);
  await ensureNats(env.NATS_URL, log);
  await ensureDatabase(env.DATABASE_URL);
  return env;
}
