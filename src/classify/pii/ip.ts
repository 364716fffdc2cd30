// IP address parsing, the public-address test and CIDR membership. node:net validates IPv6 syntax;
// the rest is a few lines of arithmetic, not worth a dependency.
import { isIPv6 } from 'node:net';

/** Bytes of a dotted-quad, or undefined. Rejects leading zeros (often octal in tools, never in logs). */
export function parseIPv4(s: string): Uint8Array | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^(?:0|[1-9]\d{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

/** Sixteen bytes of an IPv6 address (with an optional dotted-quad tail), or undefined. */
export function parseIPv6(s: string): Uint8Array | undefined {
  if (!isIPv6(s)) return undefined;
  let text = s.toLowerCase();
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    const v4 = parseIPv4(text.slice(lastColon + 1));
    if (!v4) return undefined;
    tail.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    const prefix = text.slice(0, lastColon + 1);
    text = prefix.endsWith('::') ? prefix : prefix.slice(0, -1);
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const h = head ? head.split(':').filter((g) => g !== '') : [];
  const r = rest !== undefined && rest !== '' ? rest.split(':').filter((g) => g !== '') : [];
  const groups = rest === undefined ? [...h] : [...h, ...new Array<string>(8 - tail.length - h.length - r.length).fill('0'), ...r];
  const words = [...groups.map((g) => parseInt(g, 16)), ...tail];
  if (words.length !== 8 || words.some((w) => !(w >= 0 && w <= 0xffff))) return undefined;
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

export function formatIp(b: Uint8Array): string {
  if (b.length === 4) return Array.from(b).join('.');
  const g: string[] = [];
  for (let i = 0; i < 16; i += 2) g.push(((b[i]! << 8) | b[i + 1]!).toString(16).padStart(4, '0'));
  return g.join(':');
}

interface Cidr {
  bytes: Uint8Array;
  prefix: number;
}

export function parseCidr(s: string): Cidr | undefined {
  const [addr, len] = s.trim().split('/') as [string, string | undefined];
  const bytes = addr.includes(':') ? parseIPv6(addr) : parseIPv4(addr);
  if (!bytes) return undefined;
  const max = bytes.length * 8;
  const prefix = len === undefined ? max : /^\d{1,3}$/.test(len) ? Number(len) : NaN;
  if (!(prefix >= 0 && prefix <= max)) return undefined;
  return { bytes, prefix };
}

export function inCidr(ip: Uint8Array, c: Cidr): boolean {
  if (ip.length !== c.bytes.length) return false;
  let bits = c.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((ip[i]! & mask) !== (c.bytes[i]! & mask)) return false;
  }
  return true;
}

// Special-purpose IPv4 blocks (IANA registry, RFC 6890 and successors): private, loopback, link-local,
// carrier-grade NAT, benchmarking, documentation, multicast, reserved. None of them names a host on
// the public internet, so none of them can point at a person.
const NON_PUBLIC_V4 = [
  '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.0.0.0/24',
  '192.0.2.0/24', '192.168.0.0/16', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24', '224.0.0.0/3',
].map((c) => parseCidr(c)!);
const GLOBAL_UNICAST_V6 = parseCidr('2000::/3')!;
const NON_PUBLIC_V6 = ['2001:db8::/32', '2001:2::/48', '2001:10::/28', '2001:20::/28'].map((c) => parseCidr(c)!);

export function isPublicIp(b: Uint8Array): boolean {
  if (b.length === 4) return !NON_PUBLIC_V4.some((c) => inCidr(b, c));
  return inCidr(b, GLOBAL_UNICAST_V6) && !NON_PUBLIC_V6.some((c) => inCidr(b, c));
}
