// The userland port proxy (Docker's docker-proxy): forwards what arrives on a host address:port,
// 127.0.0.1 included (which iptables DNAT cannot reach without route_localnet), to a container's
// IP:port. Pure node:net / node:dgram. A ForwardTable holds the forwards of many containers, by
// container ID, and lives in one of two places: in berthd itself (userland-proxy=false, the default:
// kernel NAT carries the IPv4 traffic and the table holds the host ports, forwarding only what
// reaches them, such as the `::` twins), or in the one berth-proxy process of a berthd with
// userland-proxy=true (proxy/main.ts; sys/proxy-process.ts starts and drives it), which outlives
// berthd so published ports keep working while it restarts.
//
// Lifecycle: `new PortProxy(forwards)` → `start()` binds every forward or none (a failure closes
// what was bound and rejects with "bind <ip>:<port>/<proto>: <reason>") → `close()` stops listening
// and drops every connection and UDP flow.
//
// TCP: one upstream connection per accepted client, piped both ways with stream backpressure.
// Both sockets are allowHalfOpen, so a client's FIN becomes a FIN to the container and the
// container's remaining data still reaches the client; an error on either side destroys both.
// UDP: one upstream socket per client address, so the container's replies go back to the client
// that asked; a flow is dropped after `udpIdleMs` without traffic, and at `udpMaxClients` flows the
// least recently used one makes room for a new client.
import net from 'node:net';
import dgram from 'node:dgram';
import { InvalidParameter, System } from '../errors.ts';
import type { PortForward } from '../types/port-forward.ts';

export type { PortForward } from '../types/port-forward.ts';

export interface PortProxyOptions {
  /** UDP flow idle timeout; default 30 s. */
  udpIdleMs?: number;
  /** Most UDP flows kept at once per forward; default 1024. */
  udpMaxClients?: number;
  /** Debug sink for connection-level errors; default: silent. */
  log?: (msg: string) => void;
}

/** Stream buffering per direction; larger than Node's 64 KiB default to keep the pipe full. */
const HIGH_WATER_MARK = 1024 * 1024;
/** Kernel socket buffers for the UDP listener (capped by net.core.[rw]mem_max). */
const UDP_SOCKET_BUFFER = 4 * 1024 * 1024;

interface Listener {
  port: number;
  close(): Promise<void>;
}

export class PortProxy {
  readonly #forwards: PortForward[];
  readonly #udpIdleMs: number;
  readonly #udpMaxClients: number;
  readonly #log: (msg: string) => void;
  #listeners: Listener[] = [];

  constructor(forwards: PortForward[], opts: PortProxyOptions = {}) {
    this.#forwards = forwards.map(validateForward);
    this.#udpIdleMs = opts.udpIdleMs ?? 30_000;
    this.#udpMaxClients = opts.udpMaxClients ?? 1024;
    this.#log = opts.log ?? (() => {});
  }

  /** Binds every forward; resolves with the forwards as bound (hostPort 0 replaced by the real port). */
  async start(): Promise<PortForward[]> {
    if (this.#listeners.length) throw new System('port proxy already started');
    const bound: PortForward[] = [];
    for (const f of this.#forwards) {
      try {
        // A random port's `::` twin (the forward before it, on all IPv4 addresses) takes the same
        // port when it is free there too, so `-p 80` shows one port for both, as dockerd's usually do.
        const prev = bound[bound.length - 1];
        const twin = f.hostIp === '::' && f.hostPort === 0 && prev && (prev.hostIp === '0.0.0.0' || prev.hostIp === '') && prev.proto === f.proto
          && prev.containerIp === f.containerIp && prev.containerPort === f.containerPort ? prev.hostPort : 0;
        const listen = (g: PortForward): Promise<Listener> => (g.proto === 'tcp' ? this.#listenTcp(g) : this.#bindUdp(g));
        const l = twin ? await listen({ ...f, hostPort: twin }).catch(() => listen(f)) : await listen(f);
        this.#listeners.push(l);
        bound.push({ ...f, hostPort: l.port });
      } catch (err) {
        await this.close();
        throw new System(`bind ${formatAddress(f.hostIp || '0.0.0.0', f.hostPort)}/${f.proto}: ${reason(err)}`, { cause: err });
      }
    }
    return bound;
  }

  /** Stops listening and drops every connection and flow. Safe to call more than once. */
  async close(): Promise<void> {
    const ls = this.#listeners;
    this.#listeners = [];
    await Promise.all(ls.map((l) => l.close()));
  }

  #listenTcp(f: PortForward): Promise<Listener> {
    const log = this.#log;
    const conns = new Set<net.Socket>();
    const server = net.createServer({ allowHalfOpen: true, noDelay: true, highWaterMark: HIGH_WATER_MARK }, (client) => {
      const upstream = net.connect({
        host: f.containerIp,
        port: f.containerPort,
        allowHalfOpen: true,
        noDelay: true,
        highWaterMark: HIGH_WATER_MARK,
      } as net.NetConnectOpts);
      conns.add(client);
      conns.add(upstream);
      const peer = `${client.remoteAddress}:${client.remotePort}`;
      const fail = (side: string) => (err: Error) => {
        log(`tcp ${peer} ${side}: ${err.message}`);
        client.destroy();
        upstream.destroy();
      };
      client.on('error', fail('client'));
      upstream.on('error', fail(`upstream ${f.containerIp}:${f.containerPort}`));
      // A clean close means both directions finished; anything else takes the other side down.
      client.on('close', (hadError) => { conns.delete(client); if (hadError) upstream.destroy(); });
      upstream.on('close', (hadError) => { conns.delete(upstream); if (hadError) client.destroy(); });
      // pipe(): backpressure both ways, and the source's end becomes the destination's end().
      client.pipe(upstream);
      upstream.pipe(client);
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      const host = f.hostIp || '0.0.0.0';
      server.listen({ host, port: f.hostPort, ipv6Only: host === '::', exclusive: true }, () => {
        server.off('error', reject);
        // Accept errors (EMFILE …) must not crash the proxy.
        server.on('error', (err) => log(`tcp listener ${host}:${f.hostPort}: ${err.message}`));
        resolve({
          port: (server.address() as net.AddressInfo).port,
          close: () => new Promise<void>((done) => {
            server.close(() => done());
            for (const s of conns) s.destroy();
          }),
        });
      });
    });
  }

  #bindUdp(f: PortForward): Promise<Listener> {
    const log = this.#log;
    const idleMs = this.#udpIdleMs;
    const maxClients = this.#udpMaxClients;
    const host = f.hostIp || '0.0.0.0';
    const upstreamType = net.isIPv6(f.containerIp) ? 'udp6' : 'udp4';
    const containerAddr = new net.BlockList();
    containerAddr.addAddress(f.containerIp, upstreamType === 'udp6' ? 'ipv6' : 'ipv4');
    const listener = dgram.createSocket({
      type: net.isIPv6(host) ? 'udp6' : 'udp4',
      ipv6Only: host === '::',
      recvBufferSize: UDP_SOCKET_BUFFER,
      sendBufferSize: UDP_SOCKET_BUFFER,
    });

    interface Flow { socket: dgram.Socket; timer: NodeJS.Timeout }
    // Insertion order is recency order: a flow is re-inserted on every packet, so the first is the LRU.
    const flows = new Map<string, Flow>();
    const drop = (key: string): void => {
      const flow = flows.get(key);
      if (!flow) return;
      flows.delete(key);
      clearTimeout(flow.timer);
      try { flow.socket.close(); } catch { /* already closed */ }
    };
    const touch = (key: string, flow: Flow): void => {
      flows.delete(key);
      flows.set(key, flow);
      flow.timer.refresh();
    };
    const open = (key: string, clientAddr: string, clientPort: number): Flow => {
      if (flows.size >= maxClients) drop(flows.keys().next().value!);
      const socket = dgram.createSocket(upstreamType);
      const flow: Flow = { socket, timer: setTimeout(() => drop(key), idleMs).unref() };
      socket.on('message', (msg, rinfo) => {
        if (rinfo.port !== f.containerPort || !containerAddr.check(rinfo.address, upstreamType === 'udp6' ? 'ipv6' : 'ipv4')) return;
        if (flows.get(key) === flow) touch(key, flow);
        listener.send(msg, clientPort, clientAddr, (err) => { if (err) log(`udp reply to ${key}: ${err.message}`); });
      });
      socket.on('error', (err) => { log(`udp upstream for ${key}: ${err.message}`); drop(key); });
      flows.set(key, flow);
      return flow;
    };

    listener.on('message', (msg, rinfo) => {
      const key = `${rinfo.address}:${rinfo.port}`;
      let flow = flows.get(key);
      if (flow) touch(key, flow);
      else flow = open(key, rinfo.address, rinfo.port);
      flow.socket.send(msg, f.containerPort, f.containerIp, (err) => {
        if (err) log(`udp ${key} → ${f.containerIp}:${f.containerPort}: ${err.message}`);
      });
    });

    return new Promise((resolve, reject) => {
      listener.once('error', reject);
      listener.bind({ address: host, port: f.hostPort, exclusive: true }, () => {
        listener.off('error', reject);
        listener.on('error', (err) => log(`udp listener ${host}:${f.hostPort}: ${err.message}`));
        resolve({
          port: listener.address().port,
          close: () => new Promise<void>((done) => {
            for (const key of [...flows.keys()]) drop(key);
            try { listener.close(() => done()); } catch { done(); }
          }),
        });
      });
    });
  }
}

/**
 * The forwards of many containers, keyed by container ID (the owner). `add` binds all of an
 * owner's forwards or none, replacing what the owner had; `remove` closes them. Operations on one
 * owner are expected one at a time (berthd serializes a container's start and stop).
 */
export class ForwardTable {
  readonly #proxies = new Map<string, PortProxy>();
  readonly #opts: PortProxyOptions;

  constructor(opts: PortProxyOptions = {}) {
    this.#opts = opts;
  }

  /** Binds `forwards` for `owner`; resolves with this process's pid and the forwards as bound. */
  async add(owner: string, forwards: PortForward[]): Promise<{ pid: number; forwards: PortForward[] }> {
    if (!owner) throw new InvalidParameter('invalid forwards: no owner');
    const proxy = new PortProxy(forwards, this.#opts);
    await this.remove(owner);
    const bound = await proxy.start();
    this.#proxies.set(owner, proxy);
    return { pid: process.pid, forwards: bound };
  }

  /** Closes the owner's forwards; nothing happens when it has none. */
  async remove(owner: string): Promise<void> {
    const proxy = this.#proxies.get(owner);
    if (!proxy) return;
    this.#proxies.delete(owner);
    await proxy.close();
  }

  /** The owners whose forwards are held. */
  async owners(): Promise<string[]> {
    return [...this.#proxies.keys()];
  }

  get size(): number {
    return this.#proxies.size;
  }

  /** Closes every forward. */
  async close(): Promise<void> {
    const all = [...this.#proxies.values()];
    this.#proxies.clear();
    await Promise.all(all.map((p) => p.close()));
  }
}

/** Parses a JSON array of forwards, validating every field. */
export function parseForwards(json: string): PortForward[] {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new InvalidParameter(`invalid forwards: ${(err as Error).message}`);
  }
  return checkForwards(value);
}

/** A non-empty array of forwards, every field validated (a control request's `forwards`). */
export function checkForwards(value: unknown): PortForward[] {
  if (!Array.isArray(value) || value.length === 0) throw new InvalidParameter('invalid forwards: expected a non-empty JSON array');
  return value.map(validateForward);
}

function validateForward(v: unknown, i: number): PortForward {
  const f = (v ?? {}) as Record<string, unknown>;
  const bad = (what: string): never => { throw new InvalidParameter(`invalid forward ${i}: ${what}`); };
  if (f.proto !== 'tcp' && f.proto !== 'udp') bad(`proto must be "tcp" or "udp", got ${JSON.stringify(f.proto)}`);
  const hostIp = f.hostIp ?? '';
  if (typeof hostIp !== 'string' || (hostIp !== '' && !net.isIP(hostIp))) bad(`hostIp ${JSON.stringify(f.hostIp)} is not an IP address`);
  if (typeof f.containerIp !== 'string' || !net.isIP(f.containerIp)) bad(`containerIp ${JSON.stringify(f.containerIp)} is not an IP address`);
  const port = (x: unknown, min: number): x is number => Number.isInteger(x) && (x as number) >= min && (x as number) <= 65535;
  if (!port(f.hostPort, 0)) bad(`hostPort ${JSON.stringify(f.hostPort)} is not a port`);
  if (!port(f.containerPort, 1)) bad(`containerPort ${JSON.stringify(f.containerPort)} is not a port`);
  return {
    proto: f.proto as PortForward['proto'],
    hostIp: hostIp as string,
    hostPort: f.hostPort as number,
    containerIp: f.containerIp as string,
    containerPort: f.containerPort as number,
  };
}

function formatAddress(ip: string, port: number): string {
  return net.isIPv6(ip) ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** The errno text Go (and so docker-proxy) prints, rather than Node's "listen EADDRINUSE …". */
function reason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'EADDRINUSE': return 'address already in use';
    case 'EACCES': return 'permission denied';
    case 'EADDRNOTAVAIL': return 'cannot assign requested address';
    case 'EAFNOSUPPORT': return 'address family not supported by protocol';
    case 'EINVAL': return 'invalid argument';
    default: return (err as Error).message ?? String(err);
  }
}
