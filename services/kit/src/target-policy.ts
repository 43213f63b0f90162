import { BlockList, isIP } from 'node:net';
import { z } from 'zod';
import { envBool } from './config.ts';
import { lookupHost, TargetError, type LookupOptions } from './resolve-host.ts';
import { embeddedV4, isSpecialAddress, withoutZone } from './special-addresses.ts';

export { TargetError };

/**
 * Which addresses a customer's credential (a database host, a webhook URL) may
 * point Switchyard at. A hosted Switchyard must not connect into its own
 * network (its database, metadata endpoints, other tenants' neighbours)
 * because a tenant typed that host.
 */
export interface TargetPolicy {
  allowPrivate: boolean;
  /** Exceptions to the private ranges, e.g. a peered VPC: "10.20.0.0/16". */
  allowCidrs: readonly string[];
  /** DNS servers to ask instead of the system's (CONNECTOR_DNS_SERVERS). */
  dnsServers?: readonly string[];
  /** What a target must prove before a secret goes to it (default 'lenient'). */
  transport?: TransportPolicy;
}

/**
 * What a target must prove before Switchyard sends it a secret (a database
 * password; a webhook's signature and payload).
 * - 'verified' (production): verified TLS by default; nothing falls back to
 *   plaintext, and a secret goes only over a channel whose server is verified
 *   (its certificate, or for PostgreSQL SCRAM channel binding). A weaker mode a
 *   customer names is tightened to that, or refused.
 * - 'as-asked' (production with CONNECTOR_ALLOW_INSECURE_TLS): verified TLS by
 *   default; a weaker mode a customer names is honoured as its protocol defines it.
 * - 'lenient' (development, test): the protocol's customary defaults
 *   (libpq's prefer, which falls back to plaintext).
 */
export type TransportPolicy = 'verified' | 'as-asked' | 'lenient';

const family = (address: string) => (isIP(address) === 6 ? 'ipv6' : 'ipv4');

/** "10.20.0.0/16", "fd00::/8": an address and a prefix length its family allows. */
const isCidr = (c: string) => {
  const m = /^([0-9a-fA-F:.]+)\/(\d{1,3})$/.exec(c);
  const kind = m ? isIP(m[1]!) : 0;
  return kind !== 0 && Number(m![2]) <= (kind === 4 ? 32 : 128);
};

/** "10.0.0.2", "10.0.0.2:5353", "fd00::53", "[fd00::53]:5353": what Resolver.setServers takes. */
const isDnsServer = (s: string) => {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(s) ?? /^([\d.]+):(\d{1,5})$/.exec(s);
  if (!m) return isIP(s) !== 0;
  const port = Number(m[2]);
  return isIP(m[1]!) !== 0 && port >= 1 && port <= 65_535;
};

/** Environment variables of the services that connect to customer-supplied targets. */
export const targetPolicyConfig = {
  CONNECTOR_PRIVATE_TARGETS: z.enum(['allow', 'deny']).optional(),
  CONNECTOR_ALLOWED_CIDRS: z
    .string()
    .optional()
    .refine(
      (v) => !v || v.split(',').every((c) => isCidr(c.trim())),
      { message: 'must be a comma-separated list of CIDR ranges, e.g. 10.20.0.0/16,fd00::/8' },
    ),
  // Unset: the servers of /etc/resolv.conf. An operator may pin the resolver
  // customer names go to; tests point it at a DNS server of their own.
  CONNECTOR_DNS_SERVERS: z
    .string()
    .optional()
    .refine((v) => !v || v.split(',').every((s) => isDnsServer(s.trim())), {
      message: 'must be a comma-separated list of DNS server addresses, e.g. 10.0.0.2,10.0.0.3:5353,[fd00::53]:53',
    }),
  // Production only; default false. Why a switch at all, and why off: the
  // tenant names a weak sslmode, but the operator answers for what crosses the
  // platform's network, and a password sent in plaintext (or to whoever
  // answers an unverified TLS handshake) can be read or relayed on any hop
  // between the two. Off, explicit weak modes still work where no secret can
  // leak (TLS with SCRAM channel binding). On, they behave as libpq's: for a
  // self-hosted Switchyard whose customer databases sit on a network it trusts.
  // Without the switch such a deployment could only leave production mode,
  // which drops the other protections with it.
  CONNECTOR_ALLOW_INSECURE_TLS: envBool.optional(),
};

/**
 * Private targets are refused in production unless allowed; elsewhere (a
 * laptop, CI) they are the point. Production asks for verified TLS (see
 * TransportPolicy).
 */
export function targetPolicyFrom(config: {
  NODE_ENV: string;
  CONNECTOR_PRIVATE_TARGETS?: 'allow' | 'deny';
  CONNECTOR_ALLOWED_CIDRS?: string;
  CONNECTOR_DNS_SERVERS?: string;
  CONNECTOR_ALLOW_INSECURE_TLS?: boolean;
}): TargetPolicy {
  const production = config.NODE_ENV === 'production';
  const list = (v: string | undefined) => (v ?? '').split(',').map((c) => c.trim()).filter(Boolean);
  const dnsServers = list(config.CONNECTOR_DNS_SERVERS);
  return {
    allowPrivate: (config.CONNECTOR_PRIVATE_TARGETS ?? (production ? 'deny' : 'allow')) === 'allow',
    allowCidrs: list(config.CONNECTOR_ALLOWED_CIDRS),
    ...(dnsServers.length ? { dnsServers } : {}),
    transport: !production ? 'lenient' : config.CONNECTOR_ALLOW_INSECURE_TLS ? 'as-asked' : 'verified',
  };
}

/**
 * Resolves `host` once (see resolve-host.ts: c-ares, not the thread pool,
 * within `timeoutMs`) and returns the address to connect to, or refuses.
 * Connecting to this address (not the name again) means a second DNS answer
 * cannot swap in a private address after the check. IPv4 addresses are
 * preferred. Fails with a TargetError (TARGET_NOT_ALLOWED, HOST_NOT_FOUND,
 * TIMEOUT), or with the signal's reason once `signal` aborts.
 */
export async function resolveTarget(
  host: string,
  policy: TargetPolicy,
  opts: Pick<LookupOptions, 'timeoutMs' | 'signal' | 'hostsPath'> = {},
): Promise<string> {
  const addresses = await lookupHost(host, { ...opts, servers: policy.dnsServers });
  const allowed = new BlockList();
  for (const c of policy.allowCidrs) {
    const [a, p] = c.split('/');
    allowed.addSubnet(a!, Number(p), family(a!));
  }
  // An address that carries an IPv4 address (::ffff:10.20.1.1, a NAT64 or 6to4
  // form) is allowed by a range that holds either of the two.
  const inAllowed = (address: string) => {
    const a = withoutZone(address);
    const v4 = embeddedV4(a);
    return allowed.check(a, family(a)) || (typeof v4 === 'string' && allowed.check(v4, 'ipv4'));
  };
  for (const address of addresses) {
    if (policy.allowPrivate || !isSpecialAddress(address) || inAllowed(address)) return address;
  }
  throw new TargetError(
    'TARGET_NOT_ALLOWED',
    `${host} resolves to a private or reserved address (${addresses.join(', ')}); this Switchyard connects only to public addresses`,
  );
}
