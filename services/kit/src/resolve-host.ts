/**
 * Host names to addresses without the libuv thread pool. dns.lookup runs
 * getaddrinfo on that pool (four threads by default), so a few slow lookups
 * of one tenant's host would stall every tenant's DNS, and file and crypto
 * work with it. This asks DNS through c-ares (node:dns Resolver), which is
 * asynchronous on the event loop, with a timeout and a bounded number of
 * tries; the hosts file and `localhost`, which c-ares' resolve4/resolve6 do
 * not consult, are answered here first.
 */
import { Resolver } from 'node:dns/promises';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import type { ConnectionFailureReason } from '@switchyard/contracts';

/**
 * Why a target cannot be used. The message is safe to show the tenant (it
 * names the host they gave); connectors turn it into their own failure type.
 */
export class TargetError extends Error {
  override name = 'TargetError';
  constructor(
    readonly reason: Extract<ConnectionFailureReason, 'TARGET_NOT_ALLOWED' | 'HOST_NOT_FOUND' | 'TIMEOUT'>,
    message: string,
    readonly retryable = false,
  ) {
    super(message);
  }
}

export interface LookupOptions {
  /** DNS servers ("10.0.0.2", "10.0.0.2:5353", "[fd00::53]:53") instead of /etc/resolv.conf's. */
  servers?: readonly string[];
  /** Bound on the whole lookup (default 5 s). */
  timeoutMs?: number;
  /** Ends the lookup early (its queries are cancelled); the lookup then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** The hosts file (default /etc/hosts); tests give their own. */
  hostsPath?: string;
}

export const DEFAULT_LOOKUP_TIMEOUT_MS = 5_000;
/** Tries per server: one retransmission covers a lost UDP packet; more would only spend the caller's bound. */
const TRIES = 2;
/** Longest wait for one try; c-ares waits longer on later tries. Shorter when the whole bound is short. */
const MAX_TRY_MS = 1_000;
/** The hosts file is re-read at most this often. */
const HOSTS_TTL_MS = 5_000;

const seconds = (ms: number) => `${Number((ms / 1000).toFixed(3))} s`;

/**
 * The IPv4 then IPv6 addresses of `host` (an IP address is its own answer).
 * The hosts file comes first, as with the system resolver; `localhost` and
 * `*.localhost` are loopback and `*.invalid` never exists (RFC 6761), without
 * asking DNS. The name is asked as it is written: resolv.conf's search list
 * is not applied, so "db" never turns into a neighbour's "db.internal".
 * Failures are TargetErrors: HOST_NOT_FOUND (no such name, no address, or a
 * failing DNS server: retryable) or TIMEOUT.
 */
export async function lookupHost(host: string, opts: LookupOptions = {}): Promise<string[]> {
  if (isIP(host)) return [host];
  const name = host.toLowerCase().replace(/\.$/, '');
  if (name === 'invalid' || name.endsWith('.invalid')) throw notFound(host);
  const listed = (await hostsFile(opts.hostsPath ?? '/etc/hosts')).get(name);
  if (listed?.length) return ipv4First(listed);
  if (name === 'localhost' || name.endsWith('.localhost')) return ['127.0.0.1', '::1'];
  return askDns(host, opts);
}

async function askDns(host: string, opts: LookupOptions): Promise<string[]> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_LOOKUP_TIMEOUT_MS;
  // One resolver per lookup, so cancel() ends this lookup's queries and no other's.
  const resolver = new Resolver({ timeout: Math.max(50, Math.min(MAX_TRY_MS, Math.floor(timeoutMs / 3))), tries: TRIES });
  if (opts.servers?.length) resolver.setServers([...opts.servers]);
  const deadline = AbortSignal.timeout(timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline;
  if (opts.signal?.aborted) throw opts.signal.reason;
  const cancel = () => resolver.cancel();
  signal.addEventListener('abort', cancel, { once: true });
  let answers: [PromiseSettledResult<string[]>, PromiseSettledResult<string[]>];
  try {
    answers = await Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]);
  } finally {
    signal.removeEventListener('abort', cancel);
  }
  if (opts.signal?.aborted) throw opts.signal.reason;
  const addresses = answers.flatMap((a) => (a.status === 'fulfilled' ? a.value : []));
  if (addresses.length) return addresses;
  if (deadline.aborted) throw timedOut(host, timeoutMs);
  throw failure(host, answers.map((a) => (a.status === 'rejected' ? (a.reason as { code?: string }).code : 'ENODATA')), timeoutMs);
}

/** The answer to both questions failing: a name that does not exist outranks a timeout, which outranks a server failure. */
function failure(host: string, codes: (string | undefined)[], timeoutMs: number): TargetError {
  if (codes.includes('ENOTFOUND')) return notFound(host);
  if (codes.some((c) => c === 'ETIMEOUT' || c === 'ECANCELLED')) return timedOut(host, timeoutMs);
  if (codes.every((c) => c === 'ENODATA')) return new TargetError('HOST_NOT_FOUND', `host name "${host}" has no IPv4 or IPv6 address`);
  const code = codes.find((c) => c !== 'ENODATA') ?? 'unknown error';
  return new TargetError('HOST_NOT_FOUND', `could not resolve host name "${host}": the DNS server failed (${code})`, true);
}

const notFound = (host: string) => new TargetError('HOST_NOT_FOUND', `could not resolve host name "${host}"`);
const timedOut = (host: string, ms: number) => new TargetError('TIMEOUT', `no answer from DNS for "${host}" within ${seconds(ms)}`, true);

/** Containers often have no IPv6 route: IPv4 first connects where the other order would fail. */
const ipv4First = (addresses: string[]) => [...addresses.filter((a) => isIP(a) === 4), ...addresses.filter((a) => isIP(a) === 6)];

let hosts: { path: string; read: number; entries: Promise<Map<string, string[]>> } | undefined;

/** name → addresses from a hosts file (missing or unreadable: none). Small, read asynchronously, kept briefly. */
function hostsFile(path: string): Promise<Map<string, string[]>> {
  const now = Date.now();
  if (hosts?.path === path && now - hosts.read < HOSTS_TTL_MS) return hosts.entries;
  const entries = readFile(path, 'utf8').then(parseHosts, () => new Map<string, string[]>());
  hosts = { path, read: now, entries };
  return entries;
}

export function parseHosts(text: string): Map<string, string[]> {
  const entries = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const [address, ...names] = line.replace(/#.*/, '').trim().split(/\s+/);
    if (!address || !isIP(address)) continue;
    for (const n of names) {
      const key = n.toLowerCase().replace(/\.$/, '');
      const list = entries.get(key) ?? [];
      if (!list.includes(address)) list.push(address);
      entries.set(key, list);
    }
  }
  return entries;
}
