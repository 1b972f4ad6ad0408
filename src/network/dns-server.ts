// The embedded DNS server for user-defined networks: what Docker's 127.0.0.11 resolver does.
//
// One UDP socket and one TCP server (RFC 1035 §4.2.2 framing: a 2-byte length before each message)
// per listen address. The address a query arrived on names the network: it is passed to `lookup`,
// which knows the container names and aliases on that network.
//
// A query is answered here when every question is about a name the network knows:
//   - A → the container's IPv4 addresses, TTL 600, RA set, AA clear, same id and questions;
//   - AAAA and MX → NOERROR with no answers (the name exists; Berth has no IPv6 here); other
//     types (ANY, TXT, SRV, …) are forwarded, as dockerd's resolver does;
//   - PTR for x.x.x.x.in-addr.arpa → answered when the optional `reverseLookup` knows the address.
// Anything else — an unknown name, a non-IN class, an opcode other than QUERY, no questions — is
// forwarded byte for byte to the upstreams in order over UDP (a fresh connected socket per attempt,
// so only the upstream's replies reach it), each attempt with its own timer; the first reply with the
// same id is relayed as it came. If a client asked over TCP and the UDP reply is truncated, the same
// upstream is asked again over TCP. When every upstream fails the client gets SERVFAIL.
//
// Bounds: at most 256 forwards in flight across all addresses (queries beyond are dropped, as a
// loaded resolver does; the client retries); at most 128 TCP connections per address, each closed
// after 10 s idle. Malformed packets are dropped and logged at debug; no socket handler throws.
//
// Sockets: `listen(address)` binds them here; `adopt(key, udp, tcp)` takes ones opened inside a
// container's network namespace (netns-sockets.ts), and lookups then get the key (its ID).
//
// Ports: `listen(address)` uses 53. `listen(address, 0)` binds a free port (the same number for UDP
// and TCP) which `port(address)` reads back; tests use it.
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, Packet, Question } from 'dns-packet';
import { Conflict } from '../errors.ts';
import type { Logger } from '../util/log.ts';

/**
 * The IPv4 addresses of a container name or alias on the network served at `listenAddress`, or
 * undefined when the network does not know the name. `name` is lowercase without a trailing dot.
 * An empty array means "known, but no IPv4 address": the query is answered with no records.
 */
export interface DnsLookup { (listenAddress: string, name: string): string[] | undefined }

/** The name (e.g. `web.mynet`) of the container holding `ip` on that network, or undefined. */
export interface DnsReverseLookup { (listenAddress: string, ip: string): string | undefined }

export interface DnsServerOptions {
  log: Logger;
  lookup: DnsLookup;
  /** Optional: answers PTR queries for container addresses; without it PTR queries are forwarded. */
  reverseLookup?: DnsReverseLookup;
  /** "ip", "ip:port", "[ipv6]:port" or a bare IPv6 address; port 53 by default. */
  upstreams: string[];
  /** Per-upstream attempt; default 2000. */
  upstreamTimeoutMs?: number;
}

const TTL = 600;
const MAX_FORWARDS = 256;
const MAX_TCP_CONNECTIONS = 128;
const TCP_IDLE_MS = 10_000;
const CLASSIC_UDP_SIZE = 512;
const RCODE_SERVFAIL = 2;
const OPCODE_MASK = 0x7800;

interface Upstream { host: string; port: number; family: 4 | 6 }

interface Listener {
  /** The listen address, or the key an adopted pair of sockets was given (a container ID). */
  address: string;
  port: number;
  /** This listener's own upstreams (a container's --dns servers); the server's otherwise. */
  upstreams?: Upstream[];
  /** When every upstream fails: SERVFAIL, or no reply at all (dockerd's resolver). */
  silentOnFailure: boolean;
  /** A/AAAA for an unknown name without a dot: an empty answer, not forwarded (moby with ndots set). */
  emptyForSingleLabel?: boolean;
  udp: dgram.Socket;
  tcp: net.Server;
  conns: Set<net.Socket>;
  /** Aborted on close: pending forwards stop and their sockets close. */
  abort: AbortController;
  closed: boolean;
}

interface Entry { ready: Promise<Listener> }

export class EmbeddedDns {
  readonly #log: Logger;
  readonly #lookup: DnsLookup;
  readonly #reverse: DnsReverseLookup | undefined;
  readonly #timeoutMs: number;
  #upstreams: Upstream[] = [];
  readonly #entries = new Map<string, Entry>();
  /** Listeners that are up, by address (entries also hold ones still starting). */
  readonly #bound = new Map<string, Listener>();
  #inFlight = 0;

  constructor(o: DnsServerOptions) {
    this.#log = o.log;
    this.#lookup = o.lookup;
    this.#reverse = o.reverseLookup;
    this.#timeoutMs = o.upstreamTimeoutMs ?? 2000;
    this.setUpstreams(o.upstreams);
  }

  /**
   * Starts answering on address:port (UDP and TCP). port defaults to 53; 0 picks a free port, read
   * back with port(). Idempotent per address: a second call returns when the first is listening, and
   * fails with Conflict only if it names a different, non-zero port.
   */
  async listen(address: string, port = 53): Promise<void> {
    const existing = this.#entries.get(address);
    if (existing) {
      const l = await existing.ready;
      if (port !== 0 && port !== l.port) {
        throw new Conflict(`embedded DNS already listens on ${address}:${l.port}, not ${port}`);
      }
      return;
    }
    const entry: Entry = { ready: this.#open(address, port) };
    this.#entries.set(address, entry);
    try {
      await entry.ready;
    } catch (err) {
      if (this.#entries.get(address) === entry) this.#entries.delete(address);
      throw err;
    }
  }

  /**
   * Answers on sockets opened elsewhere (inside a container's network namespace) under `key`:
   * lookups get `key` instead of a listen address. A previous pair under the same key is closed.
   * `upstreams` replaces the server's for this key; with `silentOnFailure` a query no upstream
   * answers gets no reply, as from dockerd's resolver (the client times out and retries).
   */
  async adopt(key: string, udp: dgram.Socket, tcp: net.Server, o: { upstreams?: string[]; silentOnFailure?: boolean; emptyForSingleLabel?: boolean } = {}): Promise<void> {
    await this.close(key);
    const l: Listener = {
      address: key, port: udp.address().port, udp, tcp, conns: new Set(), abort: new AbortController(), closed: false,
      upstreams: o.upstreams ? this.#parseUpstreams(o.upstreams) : undefined, silentOnFailure: o.silentOnFailure ?? false,
      emptyForSingleLabel: o.emptyForSingleLabel ?? false,
    };
    this.#wire(l);
    this.#entries.set(key, { ready: Promise.resolve(l) });
    this.#bound.set(key, l);
    this.#log.debug({ key, port: l.port }, 'dns: adopted sockets');
  }

  /** Whether something answers under that address or key. */
  has(key: string): boolean {
    return this.#entries.has(key);
  }

  /** The port bound on address, or undefined when not listening there (yet). */
  port(address: string): number | undefined {
    return this.#bound.get(address)?.port;
  }

  /** Stops answering on that address: closes both sockets, open TCP connections and pending forwards. */
  async close(address: string): Promise<void> {
    const entry = this.#entries.get(address);
    if (!entry) return;
    this.#entries.delete(address);
    let l: Listener;
    try {
      l = await entry.ready;
    } catch {
      return; // it never listened
    }
    this.#bound.delete(address);
    l.closed = true;
    l.abort.abort();
    for (const c of l.conns) c.destroy();
    await Promise.all([
      new Promise<void>((resolve) => { l.udp.close(() => resolve()); }),
      new Promise<void>((resolve) => { l.tcp.close(() => resolve()); }),
    ]);
    this.#log.debug({ address, port: l.port }, 'dns: stopped');
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.#entries.keys()].map((a) => this.close(a)));
  }

  /** Replaces the upstream list; entries that do not parse are skipped with a warning. */
  setUpstreams(upstreams: string[]): void {
    this.#upstreams = this.#parseUpstreams(upstreams);
  }

  #parseUpstreams(upstreams: string[]): Upstream[] {
    const parsed: Upstream[] = [];
    for (const s of upstreams) {
      const u = parseUpstream(s);
      if (u) parsed.push(u);
      else this.#log.warn({ upstream: s }, 'dns: ignoring upstream that is not an IP address');
    }
    return parsed;
  }

  // ---- sockets -------------------------------------------------------------------------------

  async #open(address: string, port: number): Promise<Listener> {
    const family = net.isIP(address) === 6 ? 6 : 4;
    // With port 0 the kernel picks the UDP port; TCP may find it taken, so try a few times.
    for (let attempt = 0; ; attempt++) {
      const udp = dgram.createSocket({ type: family === 6 ? 'udp6' : 'udp4' });
      try {
        await new Promise<void>((resolve, reject) => {
          udp.once('error', reject);
          udp.bind({ address, port, exclusive: true }, () => { udp.off('error', reject); resolve(); });
        });
      } catch (err) {
        udp.close();
        throw err;
      }
      const bound = udp.address().port;
      const tcp = net.createServer();
      try {
        await new Promise<void>((resolve, reject) => {
          tcp.once('error', reject);
          tcp.listen({ host: address, port: bound, exclusive: true }, () => { tcp.off('error', reject); resolve(); });
        });
      } catch (err) {
        await new Promise<void>((resolve) => { udp.close(() => resolve()); });
        if (port === 0 && (err as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < 8) continue;
        throw err;
      }
      const l: Listener = { address, port: bound, udp, tcp, conns: new Set(), abort: new AbortController(), closed: false, silentOnFailure: false };
      this.#wire(l);
      this.#bound.set(address, l);
      this.#log.debug({ address, port: bound }, 'dns: listening');
      return l;
    }
  }

  #wire(l: Listener): void {
    l.udp.on('error', (err) => { this.#log.debug({ err, address: l.address }, 'dns: udp socket error'); });
    l.udp.on('message', (msg, rinfo) => {
      this.#handle(l, msg, false).then((resp) => {
        if (!resp || l.closed) return;
        l.udp.send(resp, rinfo.port, rinfo.address, (err) => {
          if (err) this.#log.debug({ err, to: rinfo.address }, 'dns: udp send failed');
        });
      }).catch((err: unknown) => { this.#log.debug({ err }, 'dns: query failed'); });
    });
    l.tcp.on('error', (err) => { this.#log.debug({ err, address: l.address }, 'dns: tcp server error'); });
    l.tcp.on('connection', (sock) => { this.#serveTcp(l, sock); });
  }

  #serveTcp(l: Listener, sock: net.Socket): void {
    if (l.closed || l.conns.size >= MAX_TCP_CONNECTIONS) { sock.destroy(); return; }
    l.conns.add(sock);
    sock.setTimeout(TCP_IDLE_MS, () => sock.destroy());
    sock.on('close', () => l.conns.delete(sock));
    sock.on('error', (err) => { this.#log.debug({ err }, 'dns: tcp connection error'); });
    let buf: Buffer = Buffer.alloc(0);
    sock.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      // A frame is at most 2 + 65535 bytes, so buf never holds more than one partial frame.
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        this.#handle(l, Buffer.from(msg), true).then((resp) => {
          if (!resp || l.closed || sock.destroyed) return;
          const head = Buffer.alloc(2);
          head.writeUInt16BE(resp.length);
          sock.write(Buffer.concat([head, resp]));
        }).catch((err: unknown) => { this.#log.debug({ err }, 'dns: query failed'); });
      }
    });
  }

  // ---- queries -------------------------------------------------------------------------------

  /** The response to send, or undefined to send nothing. Never rejects. */
  async #handle(l: Listener, msg: Buffer, viaTcp: boolean): Promise<Buffer | undefined> {
    let q: DecodedPacket;
    try {
      q = dnsPacket.decode(msg);
    } catch (err) {
      this.#log.debug({ err, address: l.address, bytes: msg.length }, 'dns: dropping malformed packet');
      return undefined;
    }
    if (q.type !== 'query') return undefined;
    try {
      const local = this.#answerLocally(l.address, q);
      if (local) return this.#encodeLocal(q, local, viaTcp);
    } catch (err) {
      this.#log.debug({ err, address: l.address }, 'dns: local answer failed');
      return this.#servfail(q);
    }
    if (l.emptyForSingleLabel && isSingleLabelAddressQuery(q)) return this.#encodeLocal(q, [], viaTcp);
    return this.#forward(l, q, msg, viaTcp);
  }

  /** The answers when every question is ours, or undefined to forward the query. */
  #answerLocally(address: string, q: DecodedPacket): Answer[] | undefined {
    const questions = q.questions ?? [];
    if (questions.length === 0 || (q.flags ?? 0) & OPCODE_MASK) return undefined;
    const answers: Answer[] = [];
    for (const question of questions) {
      const a = this.#answerQuestion(address, question);
      if (!a) return undefined;
      answers.push(...a);
    }
    return answers;
  }

  #answerQuestion(address: string, question: Question): Answer[] | undefined {
    if ((question.class ?? 'IN') !== 'IN') return undefined;
    const name = normalize(question.name);
    if (question.type === 'PTR') {
      const ip = this.#reverse ? ptrToIPv4(name) : undefined;
      const target = ip ? this.#reverse?.(address, ip) : undefined;
      if (!target) return undefined;
      return [{ type: 'PTR', name: question.name, class: 'IN', ttl: TTL, data: target }];
    }
    const ips = this.#lookup(address, name);
    if (!ips) return undefined;
    // As dockerd's resolver: A answered, AAAA and MX answered empty (the name exists, without
    // such records); every other type (ANY, TXT, SRV, …) goes to the upstreams.
    const type: string = question.type;
    if (type === 'AAAA' || type === 'MX') return [];
    if (type !== 'A') return undefined;
    return ips.filter((ip) => net.isIPv4(ip)).map((ip) => ({ type: 'A', name: question.name, class: 'IN', ttl: TTL, data: ip }));
  }

  #encodeLocal(q: DecodedPacket, answers: Answer[], viaTcp: boolean): Buffer {
    const opt = q.additionals?.find((a) => a.type === 'OPT');
    const flags = ((q.flags ?? 0) & dnsPacket.RECURSION_DESIRED) | dnsPacket.RECURSION_AVAILABLE;
    const resp: Packet = {
      type: 'response',
      id: q.id,
      flags,
      questions: q.questions,
      answers,
      additionals: opt ? [{ type: 'OPT', name: '.', udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] : [],
    };
    const out = dnsPacket.encode(resp);
    if (viaTcp) return out;
    const limit = Math.max(CLASSIC_UDP_SIZE, opt && 'udpPayloadSize' in opt ? opt.udpPayloadSize : 0);
    if (out.length <= limit) return out;
    // Too big for the client's UDP buffer: say so, and it asks again over TCP.
    return dnsPacket.encode({ ...resp, flags: flags | dnsPacket.TRUNCATED_RESPONSE, answers: [] });
  }

  #servfail(q: DecodedPacket): Buffer {
    const flags = ((q.flags ?? 0) & (OPCODE_MASK | dnsPacket.RECURSION_DESIRED)) | dnsPacket.RECURSION_AVAILABLE | RCODE_SERVFAIL;
    return dnsPacket.encode({ type: 'response', id: q.id, flags, questions: q.questions ?? [], answers: [] });
  }

  async #forward(l: Listener, q: DecodedPacket, msg: Buffer, viaTcp: boolean): Promise<Buffer | undefined> {
    if (this.#inFlight >= MAX_FORWARDS) {
      this.#log.debug({ address: l.address }, 'dns: too many forwards in flight, dropping query');
      return undefined;
    }
    this.#inFlight++;
    try {
      for (const u of l.upstreams ?? this.#upstreams) {
        if (l.abort.signal.aborted) return undefined;
        let resp = await udpExchange(u, msg, q.id ?? 0, this.#timeoutMs, l.abort.signal);
        if (resp && viaTcp && resp.length >= 4 && (resp.readUInt16BE(2) & dnsPacket.TRUNCATED_RESPONSE)) {
          resp = (await tcpExchange(u, msg, q.id ?? 0, this.#timeoutMs, l.abort.signal)) ?? resp;
        }
        if (resp) return resp;
        this.#log.debug({ upstream: `${u.host}:${u.port}` }, 'dns: upstream did not answer');
      }
      if (l.abort.signal.aborted || l.silentOnFailure) return undefined;
      return this.#servfail(q);
    } finally {
      this.#inFlight--;
    }
  }
}

// ---- upstream exchanges ------------------------------------------------------------------------

/** One query to one upstream over a connected UDP socket: the reply, or undefined on timeout/error. */
function udpExchange(u: Upstream, msg: Buffer, id: number, timeoutMs: number, signal: AbortSignal): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket(u.family === 6 ? 'udp6' : 'udp4');
    let done = false;
    const finish = (resp: Buffer | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      sock.close();
      resolve(resp);
    };
    const onAbort = (): void => finish(undefined);
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    signal.addEventListener('abort', onAbort);
    // A connected socket hears only that peer, and gets ECONNREFUSED when nothing listens there.
    sock.on('error', () => finish(undefined));
    sock.on('message', (resp) => {
      if (isReplyTo(resp, id)) finish(resp);
    });
    // Node calls this with an error when connect fails, though @types/node omits the parameter.
    sock.connect(u.port, u.host, (err?: Error) => {
      if (done) return;
      if (err) { finish(undefined); return; }
      sock.send(msg, (sendErr) => { if (sendErr) finish(undefined); });
    });
  });
}

/** One query to one upstream over TCP: the reply, or undefined on timeout/error. */
function tcpExchange(u: Upstream, msg: Buffer, id: number, timeoutMs: number, signal: AbortSignal): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: u.host, port: u.port });
    let done = false;
    let buf: Buffer = Buffer.alloc(0);
    const finish = (resp: Buffer | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      sock.destroy();
      resolve(resp);
    };
    const onAbort = (): void => finish(undefined);
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    signal.addEventListener('abort', onAbort);
    sock.on('error', () => finish(undefined));
    sock.on('close', () => finish(undefined));
    sock.on('connect', () => {
      const head = Buffer.alloc(2);
      head.writeUInt16BE(msg.length);
      sock.write(Buffer.concat([head, msg]));
    });
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 2) return;
      const len = buf.readUInt16BE(0);
      if (buf.length < 2 + len) return;
      const resp = Buffer.from(buf.subarray(2, 2 + len));
      finish(isReplyTo(resp, id) ? resp : undefined);
    });
  });
}

function isReplyTo(resp: Buffer, id: number): boolean {
  return resp.length >= 12 && resp.readUInt16BE(0) === id && (resp.readUInt16BE(2) & 0x8000) !== 0;
}

// ---- names and addresses -----------------------------------------------------------------------

/** One A or AAAA question for a name without a dot (the client has search domains to try). */
function isSingleLabelAddressQuery(q: DecodedPacket): boolean {
  const qs = q.questions ?? [];
  return qs.length === 1 && (qs[0]!.type === 'A' || qs[0]!.type === 'AAAA') && !normalize(qs[0]!.name).includes('.');
}

function normalize(name: string): string {
  return name.toLowerCase().replace(/\.+$/, '');
}

/** `4.3.2.1.in-addr.arpa` → `1.2.3.4`, or undefined for anything else. */
function ptrToIPv4(name: string): string | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.in-addr\.arpa$/.exec(name);
  if (!m) return undefined;
  const ip = `${m[4]}.${m[3]}.${m[2]}.${m[1]}`;
  return net.isIPv4(ip) ? ip : undefined;
}

function parseUpstream(s: string): Upstream | undefined {
  const t = s.trim();
  let host = t;
  let port = 53;
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(t);
  const v4port = /^([^:]+):(\d+)$/.exec(t);
  if (bracketed) { host = bracketed[1]; port = Number(bracketed[2]); }
  else if (v4port) { host = v4port[1]; port = Number(v4port[2]); }
  const family = net.isIP(host);
  if (family === 0 || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host, port, family: family === 6 ? 6 : 4 };
}
