import type { ConnectionFailureReason, PostgresCredential } from '@switchyard/contracts';
import type { Client, ClientConfig } from 'pg';
import { classify, ConnectionFailure, seconds, type Phase, type Target } from './errors.ts';
import { pg } from './pg.ts';
import { resolveTarget, type TargetPolicy } from '@switchyard/kit';

export const APPLICATION_NAME = 'switchyard';

/** No policy given (tests, benchmarks): any address. */
const ANY_TARGET: TargetPolicy = { allowPrivate: true, allowCidrs: [] };

/**
 * How to open a connection for a credential. libpq's `prefer` and `allow` try
 * one way and, when the server answers in a particular way, the other: that is
 * `fallback`.
 */
export interface ConnectPlan {
  config: ClientConfig;
  fallback: { when: ConnectionFailureReason; config: ClientConfig } | null;
}

/** TLS that encrypts but does not check who answers: libpq's `require` (and what prefer/allow try). */
const TLS_UNVERIFIED = { rejectUnauthorized: false } as const;

/** `queryTimeoutMs` (default `timeoutMs`) bounds each query on the client side. */
export function connectOptions(cred: PostgresCredential, timeoutMs: number, queryTimeoutMs = timeoutMs): ConnectPlan {
  const base: ClientConfig = {
    host: cred.host,
    port: cred.port,
    user: cred.username,
    password: cred.password,
    database: cred.database_name,
    application_name: APPLICATION_NAME,
    connectionTimeoutMillis: timeoutMs,
    // Client-side bound on each query, a little past the server-side
    // statement_timeout discovery sets, so the server's own cancel (a clean
    // 57014) normally wins and this only catches a server that stopped answering.
    // statement_timeout itself is set with SET LOCAL inside the transaction, not
    // as a startup parameter: PgBouncer and similar poolers refuse unknown
    // startup parameters and a customer's database is often behind one.
    query_timeout: queryTimeoutMs + 1_000,
    keepAlive: true,
  };
  const mode = cred.sslmode ?? 'prefer';
  switch (mode) {
    case 'disable':
      return { config: { ...base, ssl: false }, fallback: null };
    case 'allow':
      return { config: { ...base, ssl: false }, fallback: { when: 'TLS_REQUIRED', config: { ...base, ssl: { ...TLS_UNVERIFIED } } } };
    case 'prefer':
      return { config: { ...base, ssl: { ...TLS_UNVERIFIED } }, fallback: { when: 'TLS_UNAVAILABLE', config: { ...base, ssl: false } } };
    case 'require':
      return { config: { ...base, ssl: { ...TLS_UNVERIFIED } }, fallback: null };
    case 'verify-ca':
      // The chain must lead to a trusted authority, but the name on the certificate is not checked.
      return { config: { ...base, ssl: { rejectUnauthorized: true, checkServerIdentity: () => undefined } }, fallback: null };
    case 'verify-full':
      return { config: { ...base, ssl: { rejectUnauthorized: true } }, fallback: null };
  }
}

export const targetOf = (cred: PostgresCredential): Target => ({
  host: cred.host,
  port: cred.port,
  username: cred.username,
  database_name: cred.database_name,
  password: cred.password,
  sslmode: cred.sslmode,
});

/** Tears the socket down now: for a server that stopped answering, end() would wait on it. */
export function destroy(client: Client): void {
  client.connection?.stream?.destroy();
}

/** Closes politely, then by force if the server does not see us out within a second. */
export function close(client: Client): void {
  const force = setTimeout(() => destroy(client), 1_000);
  force.unref();
  client.end().then(
    () => clearTimeout(force),
    () => destroy(client),
  );
}

/** The first error a client reported on its own, e.g. 57P01 while it was idle. */
const firstError = new WeakMap<Client, unknown>();

/**
 * Classifies a failure on an open session. When the query's own error only
 * says the connection is gone ("not queryable"), the error the client reported
 * first says why; a specific error (a timeout, a permission) stands as it is.
 */
export function sessionFailure(client: Client, err: unknown, target: Target, timeoutMs: number, phase: Phase = 'session') {
  const direct = classify(err, target, phase, timeoutMs);
  const first = firstError.get(client);
  if (first === undefined || (direct.reason !== 'CONNECTION_LOST' && direct.reason !== 'UNKNOWN')) return direct;
  const earlier = classify(first, target, phase, timeoutMs);
  return earlier.reason === 'UNKNOWN' ? direct : earlier;
}

/**
 * Runs `work`, giving it `track` to register every client it opens and a
 * signal that aborts when `ms` pass (or `outer` aborts). Then the clients are
 * destroyed and the result is TIMEOUT. This is the bound that holds even when
 * pg's own timers do not fire (a server that accepts TCP and says nothing, a
 * query that never returns). Work still under way when it expires (a DNS
 * answer, a connect, a TLS fallback) must stop at the signal: a client
 * tracked after it is destroyed at once, and attempt() checks it before
 * opening a client and after connecting one.
 */
export async function bounded<T>(
  ms: number,
  target: Target,
  work: (track: (c: Client) => void, signal: AbortSignal) => Promise<T>,
  outer?: AbortSignal,
): Promise<T> {
  const clients = new Set<Client>();
  const expiry = new AbortController();
  const signal = outer ? AbortSignal.any([expiry.signal, outer]) : expiry.signal;
  const failure = () => new ConnectionFailure('TIMEOUT', `no answer from ${target.host}:${target.port} within ${seconds(ms)}`);
  let expire = () => {};
  const expired = new Promise<never>((_, reject) => {
    expire = () => {
      for (const c of clients) destroy(c);
      reject(failure());
    };
  });
  const timer = setTimeout(() => expiry.abort(failure()), ms);
  if (signal.aborted) expire();
  else signal.addEventListener('abort', expire, { once: true });
  const track = (c: Client) => {
    clients.add(c);
    if (signal.aborted) destroy(c);
  };
  try {
    return await Promise.race([work(track, signal), expired]);
  } finally {
    // Done in time: the clients are the caller's now.
    clearTimeout(timer);
    signal.removeEventListener('abort', expire);
  }
}

/** Stops work that goes on past its bound: the caller already has its TIMEOUT. */
function stopIfAborted(signal: AbortSignal, client?: Client): void {
  if (!signal.aborted) return;
  if (client) destroy(client);
  throw signal.reason;
}

async function attempt(config: ClientConfig, target: Target, timeoutMs: number, track: (c: Client) => void, signal: AbortSignal): Promise<Client> {
  stopIfAborted(signal);
  const client = new (pg().Client)(config);
  track(client);
  // Without a listener an error on an idle client would crash the process.
  client.on('error', (err) => {
    if (!firstError.has(client)) firstError.set(client, err);
  });
  try {
    await client.connect();
  } catch (err) {
    destroy(client);
    throw classify(err, target, 'connect', timeoutMs);
  }
  // Connected just as the bound expired: nobody will use or close it.
  stopIfAborted(signal, client);
  return client;
}

export interface ConnectOptions {
  /** Bounds connecting, fallback attempt included. */
  timeoutMs: number;
  /** Client-side bound on each query (default timeoutMs). */
  queryTimeoutMs?: number;
  /** pg's pipelining: queries issued together go on the wire together. */
  pipeline?: boolean;
  /** Called with every client opened, so an outer deadline can destroy it. */
  track?: (c: Client) => void;
  /** The caller gave up (its own bound): stop, and destroy whatever opens after. */
  signal?: AbortSignal;
  /** Which addresses the host may resolve to (default: any). The host is resolved once, checked, and connected to by address. */
  policy?: TargetPolicy;
}

/** Opens one connection for the credential, following its sslmode, within `timeoutMs` in all. */
export function connect(cred: PostgresCredential, opts: ConnectOptions): Promise<Client> {
  const target = targetOf(cred);
  const plan = connectOptions(cred, opts.timeoutMs, opts.queryTimeoutMs);
  const extra = opts.pipeline ? { pipeline: true } : {};
  return bounded(opts.timeoutMs, target, async (inner, signal) => {
    const both = (c: Client) => {
      inner(c);
      opts.track?.(c);
    };
    // Resolved here even without a policy: through c-ares, off the thread pool
    // (see the kit's resolve-host.ts), and connected to by the address checked.
    let address: string;
    try {
      address = await resolveTarget(cred.host, opts.policy ?? ANY_TARGET, { timeoutMs: opts.timeoutMs, signal });
    } catch (err) {
      stopIfAborted(signal);
      throw classify(err, target, 'connect', opts.timeoutMs);
    }
    // TLS still checks the certificate against the name the customer gave.
    const pin = (c: ClientConfig): ClientConfig =>
      address !== cred.host ? { ...c, host: address, ssl: typeof c.ssl === 'object' ? { ...c.ssl, servername: cred.host } : c.ssl } : c;
    try {
      return await attempt({ ...pin(plan.config), ...extra }, target, opts.timeoutMs, both, signal);
    } catch (err) {
      if (!plan.fallback || !(err instanceof ConnectionFailure) || err.reason !== plan.fallback.when) throw err;
      return await attempt({ ...pin(plan.fallback.config), ...extra }, target, opts.timeoutMs, both, signal);
    }
  }, opts.signal);
}

/** Connects, asks the server's version, closes: the check behind "test connection". */
export async function testConnection(
  cred: PostgresCredential,
  { timeoutMs = 5_000, policy }: { timeoutMs?: number; policy?: TargetPolicy } = {},
): Promise<{ latency_ms: number; server_version: string }> {
  const target = targetOf(cred);
  const started = performance.now();
  return bounded(timeoutMs, target, async (track, signal) => {
    const client = await connect(cred, { timeoutMs, track, policy, signal });
    try {
      const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
      const latency_ms = Math.round((performance.now() - started) * 10) / 10;
      return { latency_ms, server_version: rows[0]?.server_version ?? '' };
    } catch (err) {
      throw sessionFailure(client, err, target, timeoutMs);
    } finally {
      close(client);
    }
  });
}
