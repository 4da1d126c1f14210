/**
 * The client address of a request, for keys that must not trust what a client says about itself (the
 * failed-authentication limit). The socket's peer address, unless that peer is a configured trusted proxy
 * (`TRUSTGATE_TRUSTED_PROXIES`: addresses or CIDR blocks): then `X-Forwarded-For` is read from the right,
 * skipping trusted proxies, and the first address that is not one is the client. A forwarded value from
 * an untrusted peer is ignored, so a client cannot pick its own key.
 */
import type { IncomingMessage } from 'node:http';
import net from 'node:net';

export type ClientAddress = (req: IncomingMessage) => string;

/** Parses `10.0.0.0/8`, `192.0.2.7`, `fd00::/8`; throws on anything else. */
export function trustedProxyList(entries: readonly string[]): net.BlockList {
  const list = new net.BlockList();
  for (const raw of entries) {
    const entry = raw.trim();
    const [addr = '', bits] = entry.split('/');
    const family = net.isIPv4(addr) ? 'ipv4' : net.isIPv6(addr) ? 'ipv6' : undefined;
    const prefix = bits === undefined ? undefined : Number(bits);
    const maxBits = family === 'ipv4' ? 32 : 128;
    if (!family || (prefix !== undefined && !(Number.isInteger(prefix) && prefix >= 0 && prefix <= maxBits)))
      throw new Error(`not an IP address or CIDR block: "${entry}"`);
    if (prefix === undefined) list.addAddress(addr, family);
    else list.addSubnet(addr, prefix, family);
  }
  return list;
}

const unmapped = (a: string): string => (a.startsWith('::ffff:') && net.isIPv4(a.slice(7)) ? a.slice(7) : a);

function trusted(list: net.BlockList, addr: string): boolean {
  const family = net.isIPv4(addr) ? 'ipv4' : net.isIPv6(addr) ? 'ipv6' : undefined;
  return family !== undefined && list.check(addr, family);
}

export function createClientAddress(trustedProxies: readonly string[]): ClientAddress {
  const list = trustedProxyList(trustedProxies);
  const any = trustedProxies.length > 0;
  return (req) => {
    const peer = unmapped(req.socket.remoteAddress ?? '');
    if (!any || !trusted(list, peer)) return peer;
    const header = req.headers['x-forwarded-for'];
    const hops = (Array.isArray(header) ? header.join(',') : (header ?? ''))
      .split(',')
      .map((s) => unmapped(s.trim()))
      .filter((s) => s !== '');
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i] as string;
      if (!net.isIP(hop)) return peer; // a malformed hop: keep the last address we can vouch for
      if (!trusted(list, hop)) return hop;
    }
    return hops[0] ?? peer;
  };
}
