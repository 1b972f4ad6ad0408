// Host ports for published container ports, handed out as dockerd 20.10 does
// (libnetwork portallocator + portmapper + the bridge driver's allocatePort):
//
// - one table per host address string ("0.0.0.0", "::", "127.0.0.1": separate, as moby keys
//   them by ip.String()) and protocol;
// - a port asked for by number is taken if no container holds it, else
//   "Bind for <ip>:<port> failed: port is already allocated";
// - a port asked for as 0 comes from the host's dynamic range
//   (/proc/sys/net/ipv4/ip_local_port_range, 49153-65535 when unreadable), a range "a-b" from
//   that range: serially, the one after the last handed out from the same range, wrapping round,
//   so a released port is not handed out again at once;
// - the port is then bound (moby: docker-proxy starts); when that fails the port goes back to
//   the table and, for a port asked for as 0 only, the next one is tried, ten attempts in all.
//   Berth differs in one way: a port that another program holds (EADDRINUSE) does not count
//   against the ten, up to IN_USE_ATTEMPTS. Beside a dockerd with more than ten published random
//   ports, moby's ten attempts all land on dockerd's docker-proxy ports and `-p 80` fails;
//   skipping them is what a user expects of "any free port".
//
// Berth's proxy is one process per container started after all ports are chosen, so the bind is
// a probe here: a socket bound and held until every port of the container is chosen (so two
// forwards of one container conflict as they do in moby, where each proxy binds in turn), then
// closed just before the proxy binds for real.
import net from 'node:net';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { Conflict, InvalidParameter } from '../errors.ts';

export type Proto = 'tcp' | 'udp';

/** One binding to allocate: hostPort 0 = any from the dynamic range; hostPortEnd > hostPort = a range. */
export interface PortRequest { proto: Proto; hostIp: string; hostPort: number; hostPortEnd?: number }

interface Range { begin: number; end: number; last: number }
interface Table { used: Set<number>; ranges: Map<string, Range> }

/** moby's maxAllocatePortAttempts. */
const ATTEMPTS = 10;
/** Ports held by other programs skipped for one random-port request (see above); bounded so a full range fails in milliseconds, not a scan of 28,000 ports. */
const IN_USE_ATTEMPTS = 1024;

/** The host's dynamic port range, as libnetwork reads it at start (its fallback when it cannot). */
export function hostPortRange(path = '/proc/sys/net/ipv4/ip_local_port_range'): { begin: number; end: number } {
  try {
    const [b, e] = readFileSync(path, 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(b) && Number.isInteger(e) && b! > 0 && b! <= e! && e! <= 65535) return { begin: b!, end: e! };
  } catch { /* fall through */ }
  return { begin: 49153, end: 65535 };
}

/** moby keys its tables by net.IP.String(): no address means 0.0.0.0. */
function ipKey(ip: string): string {
  return ip === '' ? '0.0.0.0' : ip;
}

export class PortAllocator {
  readonly begin: number;
  readonly end: number;
  private readonly tables = new Map<string, Table>();

  constructor(range: { begin: number; end: number } = hostPortRange()) {
    this.begin = range.begin;
    this.end = range.end;
  }

  private table(ip: string, proto: Proto): Table {
    const key = `${ipKey(ip)}/${proto}`;
    let t = this.tables.get(key);
    if (!t) { t = { used: new Set(), ranges: new Map() }; this.tables.set(key, t); }
    return t;
  }

  /** RequestPortInRange: the port itself (start === end), or the next free one of the range (0, 0 = the dynamic range). */
  request(ip: string, proto: Proto, start: number, end = start): number {
    const t = this.table(ip, proto);
    if (start > 0 && start === end) {
      if (t.used.has(start)) throw new Conflict(`Bind for ${ipKey(ip)}:${start} failed: port is already allocated`);
      t.used.add(start);
      return start;
    }
    const [begin, last] = start === 0 && end === 0 ? [this.begin, this.end] : [start, end];
    if (begin === 0 || last === 0 || last < begin) throw new InvalidParameter(`invalid port range: ${start}-${end}`);
    const key = `${begin}-${last}`;
    let r = t.ranges.get(key);
    if (!r) { r = { begin, end: last, last }; t.ranges.set(key, r); }
    let port = r.last;
    for (let i = 0; i <= r.end - r.begin; i++) {
      port = port + 1 > r.end ? r.begin : port + 1;
      if (!t.used.has(port)) {
        t.used.add(port);
        r.last = port;
        return port;
      }
    }
    throw new Conflict('all ports are allocated');
  }

  release(ip: string, proto: Proto, port: number): void {
    this.tables.get(`${ipKey(ip)}/${proto}`)?.used.delete(port);
  }

  /** Marks a port in use again (a running container's, after a daemon restart); false when it is held already. */
  claim(ip: string, proto: Proto, port: number): boolean {
    const t = this.table(ip, proto);
    if (t.used.has(port)) return false;
    t.used.add(port);
    return true;
  }

  /**
   * Chooses the host ports of one container's bindings, in order, binding each (`bind`, a
   * probe by default) and holding it until all are chosen. On failure everything taken is given
   * back and the error says what docker-proxy would have said. Returns the ports, in order.
   */
  async allocate(reqs: PortRequest[], bind: (r: PortRequest & { hostPort: number }) => Promise<Held> = probeBind): Promise<number[]> {
    const taken: { req: PortRequest; port: number; held: Held }[] = [];
    try {
      for (const req of reqs) {
        const end = req.hostPortEnd && req.hostPortEnd > req.hostPort ? req.hostPortEnd : req.hostPort;
        let err: unknown;
        let failures = 0;
        for (let inUse = 0; failures < ATTEMPTS && inUse < IN_USE_ATTEMPTS;) {
          const port = this.request(req.hostIp, req.proto, req.hostPort, end);
          try {
            const held = await bind({ ...req, hostPort: port });
            taken.push({ req, port, held });
            err = undefined;
            break;
          } catch (e) {
            this.release(req.hostIp, req.proto, port);
            err = e;
            // moby: there is no point in retrying a port (or range) asked for by number
            if (req.hostPort !== 0) break;
            if (isInUse(e)) inUse++; else failures++;
          }
        }
        if (err) throw err;
      }
    } catch (err) {
      for (const t of taken) this.release(t.req.hostIp, t.req.proto, t.port);
      throw err;
    } finally {
      await Promise.all(taken.map((t) => t.held.close()));
    }
    return taken.map((t) => t.port);
  }
}

export interface Held { close(): Promise<void> }

/**
 * Binds the address as docker-proxy would (TCP listen / UDP bind, IPv6 only on an IPv6
 * address) and keeps it; fails with docker-proxy's text, e.g.
 * "Error starting userland proxy: listen tcp4 0.0.0.0:80: bind: address already in use".
 */
export function probeBind(r: { proto: Proto; hostIp: string; hostPort: number }): Promise<Held> {
  const host = r.hostIp || '0.0.0.0';
  const v6 = net.isIPv6(host);
  const fail = (err: unknown): Error => new Conflict(`Error starting userland proxy: listen ${r.proto}${v6 ? '6' : '4'} ${v6 ? `[${host}]` : host}:${r.hostPort}: bind: ${errnoText(err)}`, { cause: err });
  return new Promise((resolve, reject) => {
    if (r.proto === 'tcp') {
      const s = net.createServer();
      s.once('error', (err) => reject(fail(err)));
      s.listen({ host, port: r.hostPort, ipv6Only: v6, exclusive: true }, () => resolve({ close: () => new Promise((done) => s.close(() => done())) }));
    } else {
      const s = dgram.createSocket({ type: v6 ? 'udp6' : 'udp4', ipv6Only: v6 });
      s.once('error', (err) => { try { s.close(); } catch { /* not bound */ } reject(fail(err)); });
      s.bind({ address: host, port: r.hostPort, exclusive: true }, () => resolve({ close: () => new Promise((done) => s.close(() => done())) }));
    }
  });
}

/** The bind failed because another socket holds the port (probeBind's error, or a raw one). */
function isInUse(err: unknown): boolean {
  const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  return e?.code === 'EADDRINUSE' || e?.cause?.code === 'EADDRINUSE';
}

/** The errno text Go prints, rather than Node's "listen EADDRINUSE …". */
function errnoText(err: unknown): string {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'EADDRINUSE': return 'address already in use';
    case 'EACCES': return 'permission denied';
    case 'EADDRNOTAVAIL': return 'cannot assign requested address';
    case 'EAFNOSUPPORT': return 'address family not supported by protocol';
    default: return (err as Error).message ?? String(err);
  }
}
