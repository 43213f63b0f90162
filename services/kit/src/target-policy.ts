import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import type { ConnectionFailureReason } from '@switchyard/contracts';
import { z } from 'zod';
import { embeddedV4, isSpecialAddress, withoutZone } from './special-addresses.ts';

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
}

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

const family = (address: string) => (isIP(address) === 6 ? 'ipv6' : 'ipv4');

/** "10.20.0.0/16", "fd00::/8": an address and a prefix length its family allows. */
const isCidr = (c: string) => {
  const m = /^([0-9a-fA-F:.]+)\/(\d{1,3})$/.exec(c);
  const kind = m ? isIP(m[1]!) : 0;
  return kind !== 0 && Number(m![2]) <= (kind === 4 ? 32 : 128);
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
};

/** Private targets are refused in production unless allowed; elsewhere (a laptop, CI) they are the point. */
export function targetPolicyFrom(config: {
  NODE_ENV: string;
  CONNECTOR_PRIVATE_TARGETS?: 'allow' | 'deny';
  CONNECTOR_ALLOWED_CIDRS?: string;
}): TargetPolicy {
  return {
    allowPrivate: (config.CONNECTOR_PRIVATE_TARGETS ?? (config.NODE_ENV === 'production' ? 'deny' : 'allow')) === 'allow',
    allowCidrs: (config.CONNECTOR_ALLOWED_CIDRS ?? '').split(',').map((c) => c.trim()).filter(Boolean),
  };
}

/**
 * Resolves `host` once and returns the address to connect to, or refuses.
 * Connecting to this address (not the name again) means a second DNS answer
 * cannot swap in a private address after the check.
 */
export async function resolveTarget(host: string, policy: TargetPolicy): Promise<string> {
  const addresses = isIP(host) ? [{ address: host }] : await lookup(host, { all: true, verbatim: true });
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
  for (const { address } of addresses) {
    if (policy.allowPrivate || !isSpecialAddress(address) || inAllowed(address)) return address;
  }
  throw new TargetError(
    'TARGET_NOT_ALLOWED',
    `${host} resolves to a private or reserved address (${addresses.map((a) => a.address).join(', ')}); this Switchyard connects only to public addresses`,
  );
}
