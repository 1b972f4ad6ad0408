// Which endpoints a registry name means, and how to talk to each (dockerd's registry service):
// docker.io goes to the configured mirrors first, then to registry-1.docker.io; a registry is
// insecure (plain HTTP allowed, certificates not verified) when it is listed in
// insecure-registries (by host[:port] or CIDR) or is on the loopback, as in dockerd.
import { isIP } from 'node:net';
import { InvalidParameter } from '../errors.ts';
import { DEFAULT_DOMAIN } from '../image/reference.ts';

export interface RegistrySettings {
  insecureRegistries: string[];
  mirrors: string[];
  /** `<dir>/<host[:port]>/ca.crt` gives a registry's CA. */
  certsDir?: string;
}

export interface Endpoint { host: string; insecure: boolean; mirror: boolean }

/** Validates daemon configuration up front, with dockerd's complaints. */
export function checkRegistrySettings(s: RegistrySettings): void {
  for (const m of s.mirrors) {
    let u: URL;
    try { u = new URL(m); } catch { throw new InvalidParameter(`invalid mirror: ${m} is not a valid URI`); }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new InvalidParameter(`invalid mirror: unsupported scheme "${u.protocol.slice(0, -1)}" in "${m}"`);
    if (u.pathname !== '/' && u.pathname !== '') throw new InvalidParameter(`invalid mirror: path, query, or fragment at end of the URI "${m}"`);
  }
  for (const r of s.insecureRegistries) {
    if (/^[a-z]+:\/\//i.test(r)) throw new InvalidParameter(`insecure registry ${r} should not contain '://'`);
    if (r.includes('/') && !cidr(r)) throw new InvalidParameter(`insecure registry ${r} is not a valid CIDR or host[:port]`);
  }
}

function cidr(s: string): { base: bigint; bits: number; v6: boolean } | undefined {
  const m = /^(.+)\/(\d+)$/.exec(s);
  if (!m || !isIP(m[1]!)) return undefined;
  const v6 = isIP(m[1]!) === 6;
  const bits = Number(m[2]);
  if (bits > (v6 ? 128 : 32)) return undefined;
  return { base: ipValue(m[1]!), bits, v6 };
}

function ipValue(ip: string): bigint {
  if (isIP(ip) === 4) return ip.split('.').reduce((n, o) => (n << 8n) | BigInt(Number(o)), 0n);
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((n, g) => (n << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
}

function inCidr(ip: string, c: { base: bigint; bits: number; v6: boolean }): boolean {
  if ((isIP(ip) === 6) !== c.v6) return false;
  const width = c.v6 ? 128n : 32n;
  const shift = width - BigInt(c.bits);
  return (ipValue(ip) >> shift) === (c.base >> shift);
}

/** `127.0.0.1:5000` → `127.0.0.1`, `[::1]:5000` → `::1`. */
function hostOnly(host: string): string {
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(host);
  if (m) return m[1]!;
  const i = host.lastIndexOf(':');
  return i > 0 && host.indexOf(':') === i ? host.slice(0, i) : host;
}

export function isInsecure(host: string, s: RegistrySettings): boolean {
  const h = hostOnly(host);
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4 && h.startsWith('127.')) return true;
  if (h === '::1') return true;
  for (const r of s.insecureRegistries) {
    if (r === host || r === h) return true;
    const c = cidr(r);
    if (c && isIP(h) && inCidr(h, c)) return true;
  }
  return false;
}

/** Where to pull a repository of `domain` from, in order. */
export function pullEndpoints(domain: string, s: RegistrySettings): Endpoint[] {
  if (domain !== DEFAULT_DOMAIN) return [{ host: domain, insecure: isInsecure(domain, s), mirror: false }];
  const mirrors = s.mirrors.map((m) => {
    const u = new URL(m);
    return { host: u.host, insecure: u.protocol === 'http:' || isInsecure(u.host, s), mirror: true };
  });
  return [...mirrors, { host: 'registry-1.docker.io', insecure: false, mirror: false }];
}

/** Where a push goes: never to a mirror. */
export function pushEndpoint(domain: string, s: RegistrySettings): Endpoint {
  if (domain === DEFAULT_DOMAIN) return { host: 'registry-1.docker.io', insecure: false, mirror: false };
  return { host: domain, insecure: isInsecure(domain, s), mirror: false };
}

/** The registry `docker login <server>` means: Docker Hub's index URL names docker.io. */
export function loginHost(server: string | undefined): string {
  if (!server) return 'registry-1.docker.io';
  const s = server.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  if (s === 'index.docker.io' || s === 'docker.io' || s === 'registry-1.docker.io') return 'registry-1.docker.io';
  return s;
}
