import type { PostgresCredential } from '@switchyard/contracts';
import { resolveTarget, type TargetPolicy } from '@switchyard/kit';
import type { Client, ClientConfig } from 'pg';
import { connectOptions, guardPassword, sslmodeOf } from './connect-plan.ts';
import { classify, ConnectionFailure, seconds, type Phase, type Target } from './errors.ts';
import { pg } from './pg.ts';

/** No policy given (tests, benchmarks): any address. */
const ANY_TARGET: TargetPolicy = { allowPrivate: true, allowCidrs: [] };

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

interface Attempt {
  target: Target;
  timeoutMs: number;
  track: (c: Client) => void;
  signal: AbortSignal;
  /** The password goes only into SCRAM with channel binding (ConnectPlan.channelBinding). */
  channelBinding: boolean;
}

async function attempt(config: ClientConfig, a: Attempt): Promise<Client> {
  stopIfAborted(a.signal);
  const guarded = a.channelBinding ? guardPassword(config, a.target) : undefined;
  const client = new (pg().Client)(guarded?.config ?? config);
  guarded?.watch(client);
  a.track(client);
  // Without a listener an error on an idle client would crash the process.
  client.on('error', (err) => {
    if (!firstError.has(client)) firstError.set(client, err);
  });
  try {
    await client.connect();
  } catch (err) {
    destroy(client);
    throw classify(err, a.target, 'connect', a.timeoutMs);
  }
  // Connected just as the bound expired: nobody will use or close it.
  stopIfAborted(a.signal, client);
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

/** Opens one connection for the credential, following its sslmode and the policy, within `timeoutMs` in all. */
export function connect(cred: PostgresCredential, opts: ConnectOptions): Promise<Client> {
  const policy = opts.policy ?? ANY_TARGET;
  const target = { ...targetOf(cred), sslmode: sslmodeOf(cred, policy.transport) };
  const extra = opts.pipeline ? { pipeline: true } : {};
  return bounded(opts.timeoutMs, target, async (inner, signal) => {
    const plan = connectOptions(cred, opts.timeoutMs, opts.queryTimeoutMs, policy.transport);
    const track = (c: Client) => {
      inner(c);
      opts.track?.(c);
    };
    // Resolved here even without a policy: through c-ares, off the thread pool
    // (see the kit's resolve-host.ts), and connected to by the address checked.
    let address: string;
    try {
      address = await resolveTarget(cred.host, policy, { timeoutMs: opts.timeoutMs, signal });
    } catch (err) {
      stopIfAborted(signal);
      throw classify(err, target, 'connect', opts.timeoutMs);
    }
    // TLS still checks the certificate against the name the customer gave.
    const pin = (c: ClientConfig): ClientConfig => ({
      ...(address !== cred.host ? { ...c, host: address, ssl: typeof c.ssl === 'object' ? { ...c.ssl, servername: cred.host } : c.ssl } : c),
      ...extra,
    });
    const a: Attempt = { target, timeoutMs: opts.timeoutMs, track, signal, channelBinding: plan.channelBinding };
    try {
      return await attempt(pin(plan.config), a);
    } catch (err) {
      if (plan.channelBinding && err instanceof ConnectionFailure && err.reason === 'TLS_UNAVAILABLE') {
        throw new ConnectionFailure('TLS_UNAVAILABLE', `${err.message}; this Switchyard does not fall back to plaintext`, { code: err.code, retryable: false });
      }
      if (!plan.fallback || !(err instanceof ConnectionFailure) || err.reason !== plan.fallback.when) throw err;
      return await attempt(pin(plan.fallback.config), a);
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
