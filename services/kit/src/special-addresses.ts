/**
 * Which IP addresses are not someone's public host: the IANA special-purpose
 * registries (IPv4 and IPv6), plus the IPv6 forms that carry an IPv4 address
 * and are judged by the address they carry. Used by the target policy.
 */
import { BlockList, isIP } from 'node:net';

/** Loopback, private, shared, link-local, documentation, benchmarking, multicast and reserved IPv4. */
const SPECIAL_V4: [string, number][] = [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata endpoints
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation (TEST-NET-1)
  ['192.88.99.0', 24], // 6to4 relay anycast (deprecated)
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation (TEST-NET-2)
  ['203.0.113.0', 24], // documentation (TEST-NET-3)
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and the broadcast address
];

/**
 * IPv6 ranges that are not a public host. The forms that embed an IPv4
 * address (mapped, compatible, translated, NAT64, 6to4) are not listed: they
 * are judged by what they embed (see embeddedV4).
 */
const SPECIAL_V6: [string, number][] = [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  // Reserved for translation (RFC 8215) beyond the two prefixes embeddedV4 reads.
  ['64:ff9b::', 32],
  ['100::', 64], // discard-only
  ['100:0:0:1::', 64], // dummy prefix (RFC 9780)
  // IETF protocol assignments. Includes Teredo (2001::/32), refused whole rather
  // than judged by its embedded address: the client IPv4 in its last 32 bits
  // is obfuscated and the traffic goes through a relay chosen by the network,
  // Teredo service is all but gone, and no customer database lives behind it.
  ['2001::', 23],
  ['2001:db8::', 32], // documentation
  ['3fff::', 20], // documentation (RFC 9637)
  ['5f00::', 16], // SRv6 segment identifiers
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
];

const special = new BlockList();
for (const [a, p] of SPECIAL_V4) special.addSubnet(a, p, 'ipv4');
for (const [a, p] of SPECIAL_V6) special.addSubnet(a, p, 'ipv6');

/** An IPv6 address's zone ("%eth0") is not part of the address. */
export const withoutZone = (address: string) => address.split('%')[0]!;

/** The 16 bytes of an IPv6 address in any notation (`::`, a dotted IPv4 tail, a zone), or undefined for anything else. */
export function ipv6Bytes(address: string): Uint8Array | undefined {
  let text = withoutZone(address);
  if (isIP(text) !== 6) return undefined;
  const bytes = new Uint8Array(16);
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    bytes.set(dotted.slice(1).map(Number), 12);
    text = `${text.slice(0, dotted.index)}0:0`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const groups = (s: string) => (s ? s.split(':') : []);
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  all.forEach((g, i) => {
    if (dotted && i >= 6) return;
    const n = parseInt(g, 16);
    bytes[i * 2] = n >> 8;
    bytes[i * 2 + 1] = n & 0xff;
  });
  return bytes;
}

const dottedQuad = (b: ArrayLike<number>) => Array.from(b).join('.');
const startsWith = (b: Uint8Array, prefix: number[]) => prefix.every((v, i) => b[i] === v);
const zero = (b: Uint8Array, from: number, to: number) => b.subarray(from, to).every((v) => v === 0);

/**
 * The IPv4 address an IPv6 address carries, when it is one of the forms that
 * reach an IPv4 host: mapped (::ffff:0:0/96), compatible (::/96, deprecated),
 * translated (::ffff:0:0:0/96), NAT64 (64:ff9b::/96 and the local-use
 * 64:ff9b:1::/48) and 6to4 (2002::/16). `null` for an address in one of these
 * ranges that does not follow its layout (judged as reserved); undefined for
 * any other address.
 */
export function embeddedV4(address: string): string | null | undefined {
  const b = ipv6Bytes(address);
  if (!b) return undefined;
  // ::a.b.c.d (compatible; :: and ::1 carry 0.0.0.0 and 0.0.0.1, both refused)
  // and ::ffff:a.b.c.d (mapped), in any notation: the last 32 bits.
  if (zero(b, 0, 10) && ((b[10] === 0 && b[11] === 0) || (b[10] === 0xff && b[11] === 0xff))) return dottedQuad(b.subarray(12));
  if (zero(b, 0, 8) && b[8] === 0xff && b[9] === 0xff && b[10] === 0 && b[11] === 0) return dottedQuad(b.subarray(12));
  // NAT64 well-known prefix (RFC 6052): a /96, the IPv4 address in the last 32 bits.
  if (startsWith(b, [0, 0x64, 0xff, 0x9b]) && zero(b, 4, 12)) return dottedQuad(b.subarray(12));
  // Local-use NAT64 prefix (RFC 8215), laid out as RFC 6052 §2.2 lays out a /48:
  // the IPv4 address in bits 48-63 and 72-87, around the u octet (bits 64-71,
  // always zero); the suffix after it is zero too. A network that uses a longer
  // prefix inside this /48 writes its addresses differently: they do not fit
  // this layout and are refused as reserved (an operator can allow them by range).
  if (startsWith(b, [0, 0x64, 0xff, 0x9b, 0, 1])) {
    return b[8] === 0 && zero(b, 11, 16) ? dottedQuad([b[6]!, b[7]!, b[9]!, b[10]!]) : null;
  }
  // 6to4 (RFC 3056): the IPv4 address of the site in bits 16-47.
  if (b[0] === 0x20 && b[1] === 0x02) return dottedQuad(b.subarray(2, 6));
  return undefined;
}

/** True for an address that is not a public host, judging IPv4-carrying IPv6 forms by their IPv4 address. */
export function isSpecialAddress(address: string): boolean {
  const bare = withoutZone(address);
  const kind = isIP(bare);
  if (kind === 4) return special.check(bare, 'ipv4');
  if (kind !== 6) return true;
  const v4 = embeddedV4(bare);
  if (v4 === null) return true;
  return v4 === undefined ? special.check(bare, 'ipv6') : special.check(v4, 'ipv4');
}
