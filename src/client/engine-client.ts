// The Engine API client of the berth CLI, over node:http (undici's start-up cost is not worth it
// for one request per process): unix or TCP hosts, TLS with client certificates, API version
// negotiation through /_ping as the Docker CLI does, the daemon's error messages, the
// multiplexed log stream, and hijacked (upgraded) connections for attach and exec.
// node:http and node:https are fetched with process.getBuiltinModule when first needed: an ESM
// import of node:http evaluates its lazy exports (undici: ~30 ms), and https loads TLS (~7 ms).
import type * as Http from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type * as Api from '../types/engine-api.ts';
import { statSync } from 'node:fs';
import { ROOTFUL_DEFAULTS, defaultClientHost } from '../util/rootless-paths.ts';

export const CLIENT_API_VERSION = '1.47';
export const DEFAULT_HOST: string = ROOTFUL_DEFAULTS.host;

export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** No daemon answered at the address (refused, missing socket, unreachable). */
export class ConnectError extends Error {}

export interface Endpoint { socketPath?: string; host?: string; port?: number }

export interface TlsFiles { ca?: Buffer; cert?: Buffer; key?: Buffer; verify: boolean }

export interface ClientOptions {
  /** the address as given, for messages */
  address: string;
  tls?: TlsFiles;
  /** a fixed API version (DOCKER_API_VERSION): no negotiation */
  version?: string;
}

/** What the default socket depends on besides the environment; tests pass their own uid and socket check. */
export interface LocalUser {
  /** default: process.getuid() */
  uid?: number;
  /** default: a stat of the path */
  isSocket?: (path: string) => boolean;
  /** A context was named (--context, DOCKER_CONTEXT): its endpoint is the system socket, never the rootless one. */
  context?: string;
}

function isSocket(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isSocket() ?? false;
}

/**
 * `-H`, else BERTH_HOST, else DOCKER_HOST, else the default socket: the user's own rootless
 * berthd when one listens at $XDG_RUNTIME_DIR/berth/berth.sock (util/rootless-paths.ts), else
 * the system's.
 */
export function hostAddress(flag?: string, env: NodeJS.ProcessEnv = process.env, user: LocalUser = {}): string {
  const named = flag || env.BERTH_HOST || env.DOCKER_HOST;
  if (named) return named;
  if (user.context) return DEFAULT_HOST;
  return defaultClientHost(env, user.uid ?? process.getuid?.() ?? 0, user.isSocket ?? isSocket);
}

export function resolveHost(flag?: string, env: NodeJS.ProcessEnv = process.env): Endpoint {
  return parseHost(hostAddress(flag, env));
}

export function parseHost(h: string): Endpoint {
  if (h.startsWith('unix://')) return { socketPath: h.slice('unix://'.length) };
  const m = /^(?:tcp|https?):\/\/(\[[^\]]+\]|[^:/]+)?(?::(\d+))?\/?$/.exec(h);
  if (m) return { host: (m[1] ?? '127.0.0.1').replace(/^\[|\]$/g, ''), port: Number(m[2] ?? 2375) };
  throw new Error(`invalid host ${h}: use unix:///path or tcp://host:port`);
}

/**
 * `?a=1&b=x` from a `…Query` object's defined values: booleans as 1 (false left out, as the Docker
 * CLI leaves out unset flags), lists repeated; '' when nothing is set.
 */
export function query(params: object = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params) as [string, unknown][]) {
    if (v === undefined || v === false) continue;
    if (Array.isArray(v)) for (const x of v) q.append(k, String(x));
    else q.set(k, v === true ? '1' : String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

const enc = encodeURIComponent;

const compareVersions = (a: string, b: string): number => {
  const [a1, a2] = a.split('.').map(Number);
  const [b1, b2] = b.split('.').map(Number);
  return (a1! - b1!) || (a2! - b2!);
};

const httpLib = (tls: boolean): typeof Http => (tls ? process.getBuiltinModule('node:https') : process.getBuiltinModule('node:http')) as typeof Http;

export class EngineClient {
  private readonly ep: Endpoint;
  private readonly opts: ClientOptions;
  private agentCache: Http.Agent | undefined;
  private version: string | undefined;
  private negotiating: Promise<string> | undefined;
  /** the /_ping headers, once negotiated */
  ping: { apiVersion?: string; osType?: string } = {};

  constructor(ep: Endpoint, opts: ClientOptions = { address: DEFAULT_HOST }) {
    this.ep = ep;
    this.opts = opts;
    this.version = opts.version;
  }

  private get agent(): Http.Agent {
    const t = this.opts.tls;
    this.agentCache ??= t
      ? new (process.getBuiltinModule('node:https').Agent)({ keepAlive: true, ca: t.ca, cert: t.cert, key: t.key, rejectUnauthorized: t.verify })
      : new (httpLib(false).Agent)({ keepAlive: true });
    return this.agentCache;
  }

  get address(): string {
    return this.opts.address;
  }

  /** The API version in use: the lower of ours and the daemon's (asked once through /_ping). */
  apiVersion(): Promise<string> {
    if (this.version) return Promise.resolve(this.version);
    this.negotiating ??= this.send('GET', '/_ping').then(async (res) => {
      await readAll(res);
      const server = String(res.headers['api-version'] ?? '');
      this.ping = { apiVersion: server || undefined, osType: res.headers.ostype as string | undefined };
      this.version = /^\d+\.\d+$/.test(server) && compareVersions(server, CLIENT_API_VERSION) < 0 ? server : CLIENT_API_VERSION;
      return this.version;
    });
    return this.negotiating;
  }

  private send(method: string, path: string, body?: Buffer | Readable, headers: Record<string, string> = {}): Promise<Http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = httpLib(!!this.opts.tls).request({ ...this.ep, ...this.noSni(), agent: this.agent, method, path, headers }, resolve);
      req.on('error', (err) => reject(this.connectError(err)));
      if (body && !Buffer.isBuffer(body)) body.pipe(req);
      else req.end(body);
    });
  }

  /**
   * No TLS server name where none is needed: node's agent otherwise works one out from the host
   * with net.isIP, whose IPv6 pattern costs ~5 ms to compile on the first call.
   */
  private noSni(): { servername?: string } {
    return this.opts.tls && !this.ep.socketPath ? {} : { servername: '' };
  }

  private connectError(err: Error): Error {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    // TLS failures in Go's words, as the Docker CLI shows them
    const reason = (err as { reason?: string }).reason;
    if (code.startsWith('ERR_SSL_') && reason) {
      return new ConnectError(`error during connect: remote error: tls: ${reason.replace(/^(sslv3|tlsv1\d?) alert /, '')}`);
    }
    if (['SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'].includes(code)) {
      return new ConnectError('error during connect: tls: failed to verify certificate: x509: certificate signed by unknown authority');
    }
    if (['ECONNREFUSED', 'ENOENT', 'EACCES', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ENOTFOUND'].includes(code)) {
      const why = code === 'EACCES' ? ' (permission denied)' : '';
      return new ConnectError(`Cannot connect to the Berth daemon at ${this.opts.address}${why}. Is berthd running?`);
    }
    return err;
  }

  /** Sends a versioned request; resolves once the response's headers arrived (body unread). */
  async raw(method: string, path: string, body?: Buffer | Readable, headers: Record<string, string> = {}): Promise<Http.IncomingMessage> {
    return this.send(method, `/v${await this.apiVersion()}${path}`, body, headers);
  }

  async request<T = unknown>(method: string, path: string, json?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const body = json === undefined ? undefined : Buffer.from(JSON.stringify(json));
    const res = await this.raw(method, path, body, body ? { 'Content-Type': 'application/json', ...headers } : headers);
    const text = await readAll(res);
    if ((res.statusCode ?? 500) >= 400) throw new ApiError(res.statusCode ?? 500, messageOf(text));
    return (text.length && /json/.test(String(res.headers['content-type'] ?? 'json')) ? JSON.parse(text.toString()) : text.length ? text.toString() : undefined) as T;
  }

  // ---- typed calls: the generated Engine API types in, the generated results out. Container,
  // network and volume names are path-escaped; image references go as they are, as the Docker
  // CLI sends them (`/images/library/busybox:latest/json`). Streams and hijacked connections use
  // raw() and hijack() below.

  containerCreate(body: Api.ContainerCreateBody, q: Api.ContainerCreateQuery = {}): Promise<Api.ContainerCreateResult> {
    return this.request('POST', `/containers/create${query(q)}`, body);
  }

  containerInspect(id: string, q: Api.ContainerInspectQuery = {}): Promise<Api.ContainerInspectResult> {
    return this.request('GET', `/containers/${enc(id)}/json${query(q)}`);
  }

  containerList(q: Api.ContainerListQuery = {}): Promise<Api.ContainerListResult> {
    return this.request('GET', `/containers/json${query(q)}`);
  }

  async containerStart(id: string): Promise<void> {
    await this.request('POST', `/containers/${enc(id)}/start`);
  }

  containerUpdate(id: string, body: Api.ContainerUpdateBody): Promise<Api.ContainerUpdateResult> {
    return this.request('POST', `/containers/${enc(id)}/update`, body);
  }

  containerWait(id: string, q: Api.ContainerWaitQuery = {}): Promise<Api.ContainerWaitResult> {
    return this.request('POST', `/containers/${enc(id)}/wait${query(q)}`);
  }

  containerTop(id: string, q: Api.ContainerTopQuery = {}): Promise<Api.ContainerTopResult> {
    return this.request('GET', `/containers/${enc(id)}/top${query(q)}`);
  }

  /** null when nothing changed (dockerd sends a nil slice). */
  containerChanges(id: string): Promise<Api.ContainerChangesResult | null> {
    return this.request('GET', `/containers/${enc(id)}/changes`);
  }

  containerPrune(q: Api.ContainerPruneQuery = {}): Promise<Api.ContainerPruneResult> {
    return this.request('POST', `/containers/prune${query(q)}`);
  }

  execCreate(id: string, body: Api.ContainerExecBody): Promise<Api.ContainerExecResult> {
    return this.request('POST', `/containers/${enc(id)}/exec`, body);
  }

  execInspect(id: string): Promise<Api.ExecInspectResult> {
    return this.request('GET', `/exec/${enc(id)}/json`);
  }

  imageList(q: Api.ImageListQuery = {}): Promise<Api.ImageListResult> {
    return this.request('GET', `/images/json${query(q)}`);
  }

  imageInspect(name: string): Promise<Api.ImageInspectResult> {
    return this.request('GET', `/images/${name}/json`);
  }

  imageHistory(name: string, q: Api.ImageHistoryQuery = {}): Promise<Api.ImageHistoryResult> {
    return this.request('GET', `/images/${name}/history${query(q)}`);
  }

  imageDelete(name: string, q: Api.ImageDeleteQuery = {}): Promise<Api.ImageDeleteResult> {
    return this.request('DELETE', `/images/${name}${query(q)}`);
  }

  imagePrune(q: Api.ImagePruneQuery = {}): Promise<Api.ImagePruneResult> {
    return this.request('POST', `/images/prune${query(q)}`);
  }

  /** registryAuth: the X-Registry-Auth header value for the index searched, if any. */
  imageSearch(q: Api.ImageSearchQuery, registryAuth = ''): Promise<Api.ImageSearchResult> {
    return this.request('GET', `/images/search${query(q)}`, undefined, { 'X-Registry-Auth': registryAuth });
  }

  buildPrune(q: Api.BuildPruneQuery = {}): Promise<Api.BuildPruneResult> {
    return this.request('POST', `/build/prune${query(q)}`);
  }

  networkList(q: Api.NetworkListQuery = {}): Promise<Api.NetworkListResult> {
    return this.request('GET', `/networks${query(q)}`);
  }

  networkCreate(body: Api.NetworkCreateBody): Promise<Api.NetworkCreateResult> {
    return this.request('POST', '/networks/create', body);
  }

  networkPrune(q: Api.NetworkPruneQuery = {}): Promise<Api.NetworkPruneResult> {
    return this.request('POST', `/networks/prune${query(q)}`);
  }

  volumeList(q: Api.VolumeListQuery = {}): Promise<Api.VolumeListResult> {
    return this.request('GET', `/volumes${query(q)}`);
  }

  volumeCreate(body: Api.VolumeCreateBody): Promise<Api.VolumeCreateResult> {
    return this.request('POST', '/volumes/create', body);
  }

  volumeInspect(name: string): Promise<Api.VolumeInspectResult> {
    return this.request('GET', `/volumes/${enc(name)}`);
  }

  volumePrune(q: Api.VolumePruneQuery = {}): Promise<Api.VolumePruneResult> {
    return this.request('POST', `/volumes/prune${query(q)}`);
  }

  systemAuth(body: Api.SystemAuthBody): Promise<Api.SystemAuthResult> {
    return this.request('POST', '/auth', body);
  }

  systemInfo(): Promise<Api.SystemInfoResult> {
    return this.request('GET', '/info');
  }

  systemVersion(): Promise<Api.SystemVersionResult> {
    return this.request('GET', '/version');
  }

  systemDataUsage(q: Api.SystemDataUsageQuery = {}): Promise<Api.SystemDataUsageResult> {
    return this.request('GET', `/system/df${query(q)}`);
  }

  /**
   * A hijacked connection (attach, exec start): an HTTP/1.1 Upgrade to `tcp`; the daemon answers
   * 101 and the socket then carries the raw streams both ways. Errors before the upgrade are
   * ApiErrors with the daemon's message.
   */
  async hijack(method: string, path: string, json?: unknown): Promise<{ socket: Socket; head: Buffer }> {
    const version = await this.apiVersion();
    const body = json === undefined ? undefined : Buffer.from(JSON.stringify(json));
    return new Promise((resolve, reject) => {
      const t = this.opts.tls;
      // agent: false (the socket is taken over), so the TLS files go with the request itself
      const tls = t ? { ca: t.ca, cert: t.cert, key: t.key, rejectUnauthorized: t.verify } : {};
      const req = httpLib(!!t).request({
        ...this.ep, ...tls, ...this.noSni(), agent: false, method, path: `/v${version}${path}`,
        headers: { Connection: 'Upgrade', Upgrade: 'tcp', ...(body ? { 'Content-Type': 'application/json' } : {}) },
      });
      req.on('upgrade', (_res, socket, head) => resolve({ socket: socket as Socket, head }));
      req.on('response', (res) => {
        readAll(res).then((text) => reject(new ApiError(res.statusCode ?? 500, messageOf(text))), reject);
      });
      req.on('error', (err) => reject(this.connectError(err)));
      req.end(body);
    });
  }

  close(): void {
    this.agentCache?.destroy();
  }
}

export async function readAll(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function messageOf(text: Buffer): string {
  try { return (JSON.parse(text.toString()) as { message?: string }).message ?? text.toString(); } catch { return text.toString().trim(); }
}

export async function checkOk(res: Http.IncomingMessage): Promise<void> {
  if ((res.statusCode ?? 500) >= 400) throw new ApiError(res.statusCode ?? 500, messageOf(await readAll(res)));
}

/** Splits Docker's 8-byte-header multiplexed stream into (stream, payload) pairs. */
export async function* demux(r: AsyncIterable<unknown>): AsyncGenerator<{ stream: number; data: Buffer }> {
  let buf: Buffer = Buffer.alloc(0);
  for await (const c of r) {
    buf = buf.length ? Buffer.concat([buf, c as Buffer]) : (c as Buffer);
    while (buf.length >= 8) {
      const size = buf.readUInt32BE(4);
      if (buf.length < 8 + size) break;
      yield { stream: buf[0]!, data: buf.subarray(8, 8 + size) };
      buf = buf.subarray(8 + size);
    }
  }
}

/** Reads a stream line by line (trimmed, empty lines skipped). */
export async function* textLines(r: AsyncIterable<unknown>): AsyncGenerator<string> {
  let rest = '';
  for await (const c of r) {
    rest += (c as Buffer).toString('utf8');
    let nl: number;
    while ((nl = rest.indexOf('\n')) >= 0) {
      const line = rest.slice(0, nl).trim();
      rest = rest.slice(nl + 1);
      if (line) yield line;
    }
  }
  if (rest.trim()) yield rest.trim();
}

/** Reads a newline-delimited JSON stream (progress, events, build output) message by message. */
export async function* jsonLines<T = Record<string, unknown>>(r: AsyncIterable<unknown>): AsyncGenerator<T> {
  for await (const line of textLines(r)) yield JSON.parse(line) as T;
}
