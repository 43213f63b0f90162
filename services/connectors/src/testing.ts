/**
 * Test support: a throw-away database on the real PostgreSQL, hand-made
 * catalogs, and small stand-ins for a customer's misconfigured server
 * speaking just enough of the v3 protocol to fail the way a real one would.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import type { Catalog, CatalogColumn, CatalogRelation, PostgresCredential } from '@switchyard/contracts';
import { uniqueName } from '@switchyard/kit/testing';
import type { Client } from 'pg';
import { pg } from './pg.ts';

export const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';


/** Runs SQL as the admin user (in `database`, else the admin URL's); returns the last statement's rows. */
export async function adminQuery<R = Record<string, unknown>>(sql: string, database?: string): Promise<R[]> {
  const url = new URL(ADMIN_URL);
  if (database) url.pathname = `/${database}`;
  const client: Client = new (pg().Client)({ connectionString: url.toString() });
  await client.connect();
  try {
    const r = (await client.query(sql)) as unknown as { rows: R[] } | Array<{ rows: R[] }>;
    return Array.isArray(r) ? (r.at(-1)?.rows ?? []) : r.rows;
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  name: string;
  /** A credential for it (local trust auth: any password is accepted). */
  cred: PostgresCredential;
  /** Runs SQL in it as the admin user; returns the last statement's rows. */
  sql<R = Record<string, unknown>>(text: string): Promise<R[]>;
  drop(): Promise<void>;
}

/** A uniquely named database, dropped (WITH FORCE) by drop(). */
/** A credential for `database` on the server of a PostgreSQL URL (tests and benchmarks use the local one). */
export function credentialFromUrl(
  url: string | URL,
  database: string,
  extra: Partial<PostgresCredential> = {},
): PostgresCredential {
  const u = new URL(url.toString());
  return {
    host: u.hostname,
    port: Number(u.port || 5432),
    username: decodeURIComponent(u.username || 'postgres'),
    // A trusting local server ignores it; tests still send one, to show it never leaks.
    password: decodeURIComponent(u.password) || 'S3cret-pa55word!',
    database_name: database,
    sslmode: 'disable',
    ...extra,
  };
}

export async function createDatabase(prefix: string): Promise<TestDatabase> {
  const name = uniqueName(prefix);
  await adminQuery(`CREATE DATABASE "${name}"`);
  return {
    name,
    cred: credentialFromUrl(ADMIN_URL, name),
    sql: <R>(text: string) => adminQuery<R>(text, name),
    drop: async () => {
      await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}

/**
 * Adds `count` tables to `database`: `"<schema>".t1` … `t<count>`, each with a
 * primary key and two more columns. One DO block that commits every 250
 * tables: thousands of tables in one transaction would exhaust the lock table
 * (max_locks_per_transaction). About 10 s for 5,000 on 2 quiet cores (two
 * connections sharing the work were no faster: they contend for the catalog).
 */
export async function createTables(database: string, count: number, schema = 'many'): Promise<void> {
  const ident = `"${schema.replace(/"/g, '""')}"`;
  await adminQuery(`CREATE SCHEMA IF NOT EXISTS ${ident}`, database);
  await adminQuery(
    `DO $$ BEGIN
       FOR i IN 1..${count} LOOP
         EXECUTE format('CREATE TABLE ${ident.replace(/'/g, "''")}.%I (id bigint PRIMARY KEY, code text NOT NULL, note text)', 't' || i);
         IF i % 250 = 0 THEN COMMIT; END IF;
       END LOOP;
     END $$`,
    database,
  );
}

// ---- hand-made catalogs -----------------------------------------------------

/** A column as discovery reports it: a nullable integer unless `over` says otherwise. */
export const catalogColumn = (name: string, position: number, over: Partial<CatalogColumn> = {}): CatalogColumn => ({
  name,
  position,
  type: 'integer',
  nullable: true,
  default: null,
  identity: null,
  generated: null,
  comment: null,
  ...over,
});
/** A plain table with an `id` primary key unless `over` says otherwise. */
export const catalogRelation = (schema: string, name: string, over: Partial<CatalogRelation> = {}): CatalogRelation => ({
  schema,
  name,
  kind: 'table',
  partition_of: null,
  partition_key: null,
  estimated_rows: null,
  comment: null,
  columns: [catalogColumn('id', 1, { nullable: false })],
  primary_key: { name: `${name}_pkey`, columns: ['id'] },
  unique_constraints: [],
  foreign_keys: [],
  indexes: [],
  check_constraints: [],
  view_definition: null,
  ...over,
});
/** A catalog of an empty `public` schema unless `over` says otherwise. */
export const catalogOf = (over: Partial<Catalog> = {}): Catalog => ({
  server_version: '16.4',
  database: 'shop',
  discovered_at: '2025-01-01T00:00:00.000Z',
  schemas: [{ name: 'public', comment: null }],
  relations: [],
  enums: [],
  relationships: [],
  ...over,
});

// ---- a stand-in server -------------------------------------------------------

const SSL_REQUEST = 80877103;

/** Reads length-prefixed messages from a socket, with or without a type byte. */
class Reader {
  private buf = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  constructor(private readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake?.();
    });
  }
  private async need(n: number): Promise<void> {
    while (this.buf.length < n) await new Promise<void>((r) => (this.wake = r));
  }
  /** A startup-phase message: int32 length, then its body. Returns the first int32 of the body. */
  async untyped(): Promise<number> {
    await this.need(4);
    const len = this.buf.readInt32BE(0);
    await this.need(len);
    const code = this.buf.readInt32BE(4);
    this.buf = this.buf.subarray(len);
    return code;
  }
  /** A regular message: type byte, int32 length, body. */
  async typed(): Promise<{ type: string; body: Buffer }> {
    await this.need(5);
    const len = this.buf.readInt32BE(1);
    await this.need(1 + len);
    const msg = { type: String.fromCharCode(this.buf[0]!), body: this.buf.subarray(5, 1 + len) };
    this.buf = this.buf.subarray(1 + len);
    return msg;
  }
}

const message = (type: string, body: Buffer) => {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
};
const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};

export function errorResponse(code: string, text: string, severity = 'FATAL'): Buffer {
  const fields = [`S${severity}`, `V${severity}`, `C${code}`, `M${text}`].map((f) => Buffer.from(`${f}\0`, 'utf8'));
  return message('E', Buffer.concat([...fields, Buffer.from([0])]));
}
const authOk = () => message('R', int32(0));
const readyForQuery = () => message('Z', Buffer.from('I'));

export interface FakeBehaviour {
  /** Answer to an SSLRequest: refuse ('N'), accept with this certificate, or say nothing. Default 'N'. */
  ssl?: 'N' | 'silent' | { key: string; cert: string };
  /** After the startup message, on a plain connection and on a TLS one (defaults to `plain`). */
  plain: Answer;
  tls?: Answer;
}
export type Answer =
  | 'silent'
  /**
   * Fails with `error`; first, with askPassword, asks for the password in
   * cleartext (true) or offers SCRAM-SHA-256 without channel binding ('scram')
   * and records what the client answers.
   */
  | { error: { code: string; message: string }; askPassword?: boolean | 'scram' }
  /** Logs in, then answers the first query with this error, or never. */
  | { ready: true; onQuery: 'silent' | { code: string; message: string } };

export interface FakeServer {
  port: number;
  /** Passwords the server was sent (or SCRAM's first message), to show the client did send one. */
  passwords: string[];
  /** TCP connections accepted. */
  connections: number;
  close(): Promise<void>;
}

/** A customer's server that fails in one particular way. */
export async function fakeServer(behaviour: FakeBehaviour): Promise<FakeServer> {
  const sockets = new Set<Socket>();
  const passwords: string[] = [];
  let connections = 0;
  const server: Server = createServer((raw) => {
    connections += 1;
    sockets.add(raw);
    raw.on('error', () => {});
    raw.on('close', () => sockets.delete(raw));
    void converse(raw, behaviour, passwords, sockets).catch(() => raw.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    passwords,
    get connections() {
      return connections;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function converse(raw: Socket, b: FakeBehaviour, passwords: string[], sockets: Set<Socket>): Promise<void> {
  let socket: Socket = raw;
  let reader = new Reader(raw);
  let answer = b.plain;
  if ((await reader.untyped()) === SSL_REQUEST) {
    const ssl = b.ssl ?? 'N';
    if (ssl === 'silent') return;
    if (ssl === 'N') raw.write('N');
    else {
      raw.write('S');
      // Stop the plain reader before the TLS layer takes the socket's bytes.
      raw.removeAllListeners('data');
      const tls = new TLSSocket(raw, { isServer: true, key: ssl.key, cert: ssl.cert });
      tls.on('error', () => {});
      sockets.add(tls);
      socket = tls;
      reader = new Reader(tls);
      answer = b.tls ?? b.plain;
    }
    await reader.untyped();
  }
  if (answer === 'silent') return;
  if ('error' in answer) {
    if (answer.askPassword) {
      socket.write(
        answer.askPassword === 'scram'
          ? message('R', Buffer.concat([int32(10), Buffer.from('SCRAM-SHA-256\0\0', 'latin1')])) // AuthenticationSASL
          : message('R', int32(3)), // AuthenticationCleartextPassword
      );
      const p = await reader.typed();
      passwords.push(p.body.toString('utf8').replace(/\0$/, ''));
    }
    socket.end(errorResponse(answer.error.code, answer.error.message));
    return;
  }
  socket.write(Buffer.concat([authOk(), readyForQuery()]));
  await reader.typed();
  if (answer.onQuery !== 'silent') socket.end(errorResponse(answer.onQuery.code, answer.onQuery.message));
}

/** A server that accepts TCP and never says a word. */
export const silentServer = () => fakeServer({ ssl: 'silent', plain: 'silent' });

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A self-signed certificate for CN=localhost made with openssl, or undefined when openssl is missing. */
export function selfSignedCert(): { key: string; cert: string } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'connectors-cert-'));
  try {
    const r = spawnSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
      { stdio: 'ignore' },
    );
    if (r.status !== 0) return undefined;
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
