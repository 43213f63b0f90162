import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import type { ConnectionFailureReason } from '@switchyard/contracts';
import { z } from 'zod';

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

const PRIVATE_V4: [string, number][] = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16],
  ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
];
const PRIVATE_V6: [string, number][] = [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]];

const privateRanges = new BlockList();
for (const [a, p] of PRIVATE_V4) privateRanges.addSubnet(a, p, 'ipv4');
for (const [a, p] of PRIVATE_V6) privateRanges.addSubnet(a, p, 'ipv6');

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

/** `::ffff:127.0.0.1` is 127.0.0.1: an IPv4-mapped address is judged as the IPv4 address it carries. */
const unmapped = (address: string) => {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1]! : address;
};

/** Environment variables of the services that connect to customer-supplied targets. */
export const targetPolicyConfig = {
  CONNECTOR_PRIVATE_TARGETS: z.enum(['allow', 'deny']).optional(),
  CONNECTOR_ALLOWED_CIDRS: z
    .string()
    .optional()
    .refine(
      (v) => !v || v.split(',').every((c) => /^[0-9a-fA-F:.]+\/\d{1,3}$/.test(c.trim()) && isIP(c.trim().split('/')[0]!) !== 0),
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
  for (const { address } of addresses) {
    const a = unmapped(address);
    const f = family(a);
    if (policy.allowPrivate || !privateRanges.check(a, f) || allowed.check(a, f)) return address;
  }
  throw new TargetError(
    'TARGET_NOT_ALLOWED',
    `${host} resolves to a private or reserved address (${addresses.map((a) => a.address).join(', ')}); this Switchyard connects only to public addresses`,
  );
}
