/**
 * A private PostgreSQL cluster that plays a customer's database in tests and
 * benchmarks: password (scram-sha-256) authentication, optionally TLS-only,
 * on a free port, removed on stop. Real server, real failures.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';

function pgBin(): string {
  const root = '/usr/lib/postgresql';
  const version = existsSync(root) ? readdirSync(root).sort().at(-1) : undefined;
  if (!version) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql');
  return join(root, version, 'bin');
}

export interface CustomerPostgres {
  host: string;
  port: number;
  user: string;
  password: string;
  /** `postgres://owner:…@127.0.0.1:<port>/<database>` */
  url(database?: string): string;
  /** Takes the server down (its data stays): `fast` ends sessions cleanly, `immediate` as a crash would. */
  halt(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Brings a halted server back on the same port and data. */
  resume(): Promise<void>;
  /** Stops the server and removes it. */
  stop(): Promise<void>;
}

export async function startCustomerPostgres(opts: { tls?: boolean; password?: string } = {}): Promise<CustomerPostgres> {
  const bin = pgBin();
  const dir = mkdtempSync(join(tmpdir(), 'customer-pg-'));
  const data = join(dir, 'data');
  const password = opts.password ?? 'customer-secret';
  const port = await freePort();
  // initdb and postgres refuse to run as root: run them as the postgres user then.
  const root = process.getuid?.() === 0;
  const owner = root ? Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()) : undefined;
  const run = (cmd: string, args: string[]) => {
    const r = root
      ? spawnSync('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], { encoding: 'utf8' })
      : spawnSync(join(bin, cmd), args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr || r.stdout}`);
  };
  writeFileSync(join(dir, 'pw'), password);
  if (owner !== undefined) {
    chownSync(dir, owner, -1);
    chownSync(join(dir, 'pw'), owner, -1);
  }
  run('initdb', ['-D', data, '-U', 'owner', '--auth=scram-sha-256', `--pwfile=${join(dir, 'pw')}`, '-E', 'UTF8', '--no-sync']);
  if (opts.tls) {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-keyout', join(data, 'server.key'), '-out', join(data, 'server.crt')], { stdio: 'ignore' });
    if (owner !== undefined) for (const f of ['server.key', 'server.crt']) chownSync(join(data, f), owner, -1);
    execFileSync('chmod', ['600', join(data, 'server.key')]);
    // Only TLS connections are accepted: a plain one is refused with "no encryption".
    writeFileSync(join(data, 'pg_hba.conf'), 'hostssl all all 127.0.0.1/32 scram-sha-256\n');
  }
  const settings = [`-p ${port}`, `-k ${dir}`, '-c listen_addresses=127.0.0.1', '-c fsync=off', '-c max_connections=200', ...(opts.tls ? ['-c ssl=on'] : [])];
  const start = () => run('pg_ctl', ['-D', data, '-o', settings.join(' '), '-w', '-l', join(dir, 'log'), 'start']);
  start();
  return {
    host: '127.0.0.1',
    port,
    user: 'owner',
    password,
    url: (database = 'postgres') => `postgres://owner:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`,
    async halt(mode = 'fast') {
      run('pg_ctl', ['-D', data, '-m', mode, '-w', 'stop']);
    },
    async resume() {
      start();
    },
    async stop() {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
