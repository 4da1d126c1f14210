/**
 * Where a webhook may point. An admin-set URL is a request the server makes on the admin's behalf: by
 * default it may not reach loopback, link-local (cloud metadata at 169.254.169.254), private, CGNAT or
 * otherwise non-public addresses, whether written as an address or as a name that resolves to one
 * (every resolved address is checked, at the time of each delivery). TRUSTGATE_WEBHOOK_ALLOW_PRIVATE=true
 * allows them (a receiver on the same host or network).
 */
import { BlockList, isIP } from 'node:net';
import { lookup } from 'node:dns/promises';

const NON_PUBLIC = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const)
  NON_PUBLIC.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128], // unspecified
  ['::1', 128],
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
] as const)
  NON_PUBLIC.addSubnet(net, bits, 'ipv6');

/** True for an address a webhook may not reach by default (IPv4-mapped IPv6 checked as IPv4). */
export function isNonPublicAddress(address: string): boolean {
  const a = address.replace(/^\[|\]$/g, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  if (mapped?.[1]) return NON_PUBLIC.check(mapped[1], 'ipv4');
  const family = isIP(a);
  if (family === 4) return NON_PUBLIC.check(a, 'ipv4');
  if (family === 6) return NON_PUBLIC.check(a, 'ipv6') || /^::ffff:/i.test(a);
  return false;
}

export type Resolve = (host: string) => Promise<string[]>;
const dnsResolve: Resolve = async (host) => (await lookup(host, { all: true, verbatim: true })).map((r) => r.address);

/** The setting that allows non-public webhook addresses (README "Security notes"). */
export const ALLOW_PRIVATE_SETTING = 'TRUSTGATE_WEBHOOK_ALLOW_PRIVATE';

/**
 * Why `url` may not be used as a webhook, or undefined when it may. Names are resolved (`resolve`,
 * default DNS) and refused if any address is non-public; a name that does not resolve is not refused here
 * (delivery fails and is retried as before).
 */
export async function webhookTargetProblem(url: string, resolve: Resolve = dnsResolve): Promise<string | undefined> {
  let host: string;
  try {
    host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return 'the webhook is not a URL';
  }
  const refuse = (addr: string) =>
    `the webhook's host ${host === addr ? '' : `${host} resolves to `}${addr}, a loopback, link-local or ` +
    `private address (set ${ALLOW_PRIVATE_SETTING}=true to allow it)`;
  if (isIP(host)) return isNonPublicAddress(host) ? refuse(host) : undefined;
  if (/^localhost$|\.localhost$/i.test(host)) return refuse('localhost');
  let addresses: string[];
  try {
    addresses = await resolve(host);
  } catch {
    return undefined;
  }
  const bad = addresses.find(isNonPublicAddress);
  return bad === undefined ? undefined : refuse(bad);
}
