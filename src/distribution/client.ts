// A client for one repository of one registry (OCI Distribution API v2): endpoint discovery
// (https, then plain http for insecure registries), the auth handshake (Basic, or Bearer tokens
// per scope), and the manifest, blob and upload calls pull and push are built from.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import type { Agent, Dispatcher } from 'undici';
import { httpRequest as request, newAgent } from './http.ts';
import { InvalidParameter, NotFound, Unauthorized, Forbidden, Unavailable, BerthError } from '../errors.ts';
import type { AuthConfig } from '../types/auth-config.ts';
import { MANIFEST_MEDIA_TYPES, type RegistryErrorBody } from '../types/oci-distribution.ts';
import { parseChallenges, fetchToken, basicHeader, type Challenge } from './auth.ts';

export interface EndpointOptions {
  /** Plain HTTP allowed, and TLS certificates not verified (dockerd's insecure-registries). */
  insecure: boolean;
  /** Where `<host>/ca.crt` may give a registry's CA (dockerd's /etc/docker/certs.d). */
  certsDir?: string;
  auth?: AuthConfig;
  userAgent?: string;
}

type Body = Readable | Buffer | string | null;

const agents = new Map<string, Promise<Agent>>();

function agentFor(host: string, insecure: boolean, certsDir?: string): Promise<Agent> {
  const key = `${host}|${insecure}`;
  let a = agents.get(key);
  if (!a) {
    let ca: Buffer | undefined;
    try { if (certsDir) ca = readFileSync(join(certsDir, host, 'ca.crt')); } catch { /* none: system CAs */ }
    a = newAgent({
      connections: 16, keepAliveTimeout: 10_000, bodyTimeout: 60_000, headersTimeout: 60_000,
      connect: { rejectUnauthorized: !insecure, ...(ca ? { ca } : {}) },
    });
    agents.set(key, a);
  }
  return a;
}

/** What the registry said, as Docker words it: `code: message`. */
async function registryError(res: Dispatcher.ResponseData, what: string): Promise<string> {
  const text = await res.body.text().catch(() => '');
  try {
    const body = JSON.parse(text) as RegistryErrorBody;
    if (body.errors?.length) return body.errors.map((e) => `${e.code.toLowerCase().replace(/_/g, ' ')}: ${e.message}`).join(', ');
  } catch { /* not JSON */ }
  if (res.statusCode === 401) return 'unauthorized: authentication required';
  return `${res.statusCode}${text ? ` ${text.trim().slice(0, 200)}` : ''}`;
}

export class RegistryClient {
  readonly host: string;
  readonly repo: string;
  private readonly o: EndpointOptions;
  private base?: string;
  private challenge?: Challenge | null;
  private tokens = new Map<string, string>();
  private readonly agentP: Promise<Agent>;

  /** host: `127.0.0.1:5000`, `registry-1.docker.io`; repo: `library/busybox`. */
  constructor(host: string, repo: string, o: EndpointOptions) {
    this.host = host;
    this.repo = repo;
    this.o = o;
    this.agentP = agentFor(host, o.insecure, o.certsDir);
  }

  /** GET /v2/: finds the scheme and the auth challenge. Login is this with credentials. */
  async ping(): Promise<void> {
    if (this.base) return;
    const schemes = this.o.insecure ? ['https', 'http'] : ['https'];
    let lastErr: unknown;
    for (const scheme of schemes) {
      const url = `${scheme}://${this.host}/v2/`;
      let res: Dispatcher.ResponseData;
      try {
        res = await request(url, { method: 'GET', dispatcher: await this.agentP, headers: this.baseHeaders() });
      } catch (err) {
        lastErr = err;
        continue;
      }
      await res.body.dump();
      if (res.statusCode === 400 && scheme === 'https' && this.o.insecure) { lastErr = new Error('plain HTTP server'); continue; }
      this.base = `${scheme}://${this.host}`;
      if (res.statusCode === 401) {
        this.challenge = parseChallenges(String(res.headers['www-authenticate'] ?? ''));
        if (!this.challenge) throw new Unauthorized(`${url}: 401 without a usable WWW-Authenticate challenge`);
      } else if (res.statusCode >= 200 && res.statusCode < 300) {
        this.challenge = null;
      } else if (res.statusCode !== 404) {
        throw new Unavailable(`Get "${url}": registry answered ${res.statusCode}`);
      } else {
        this.challenge = null;
      }
      return;
    }
    throw unreachable(`Get "${schemes[schemes.length - 1]}://${this.host}/v2/"`, lastErr);
  }

  /** Checks credentials the way `docker login` does: a request that needs them must pass. */
  async login(): Promise<void> {
    await this.ping();
    if (!this.challenge) return;
    if (!this.o.auth?.username && !this.o.auth?.identitytoken && !this.o.auth?.auth) throw new Unauthorized('no credentials given');
    if (this.challenge.scheme === 'basic') {
      const res = await request(`${this.base}/v2/`, { method: 'GET', dispatcher: await this.agentP, headers: { ...this.baseHeaders(), authorization: basicHeader(this.o.auth) } });
      await res.body.dump();
      if (res.statusCode === 401) throw new Unauthorized(`login attempt to ${this.base}/v2/ failed with status: 401 Unauthorized`);
      return;
    }
    await fetchToken(this.challenge, '', this.o.auth, await this.agentP).catch((err: unknown) => {
      if (err instanceof Unauthorized) throw new Unauthorized(`login attempt to ${this.base}/v2/ failed with status: 401 Unauthorized`);
      throw err;
    });
  }

  private baseHeaders(): Record<string, string> {
    return { 'user-agent': this.o.userAgent ?? 'berth' };
  }

  private async authHeader(scope: string, fresh = false): Promise<string | undefined> {
    if (!this.challenge) return undefined;
    if (this.challenge.scheme === 'basic') return this.o.auth ? basicHeader(this.o.auth) : undefined;
    if (this.o.auth?.registrytoken) return `Bearer ${this.o.auth.registrytoken}`;
    let t = fresh ? undefined : this.tokens.get(scope);
    if (!t) {
      t = await fetchToken(this.challenge, scope, this.o.auth, await this.agentP);
      this.tokens.set(scope, t);
    }
    return `Bearer ${t}`;
  }

  /**
   * One request with auth; a 401 fetches a fresh token once and retries (only bodies that can
   * be sent again: buffers, or a factory). Redirects (blob storage elsewhere) are followed
   * without the registry's credentials.
   */
  async call(method: Dispatcher.HttpMethod, pathOrUrl: string, o: { scope?: string; headers?: Record<string, string>; body?: Body | (() => Body) } = {}): Promise<Dispatcher.ResponseData> {
    await this.ping();
    const scope = o.scope ?? `repository:${this.repo}:pull`;
    let url = pathOrUrl.startsWith('http') ? pathOrUrl : `${this.base}${pathOrUrl}`;
    const mkBody = (): Body => (typeof o.body === 'function' ? o.body() : o.body ?? null);
    const retriable = typeof o.body === 'function' || !o.body || Buffer.isBuffer(o.body) || typeof o.body === 'string';
    for (let attempt = 0; ; attempt++) {
      const auth = await this.authHeader(scope, attempt > 0);
      const headers: Record<string, string> = { ...this.baseHeaders(), ...o.headers, ...(auth ? { authorization: auth } : {}) };
      let res: Dispatcher.ResponseData;
      try {
        res = await request(url, { method, headers, body: mkBody(), dispatcher: await this.agentP });
      } catch (err) {
        throw unreachable(`${method[0]}${method.slice(1).toLowerCase()} "${url}"`, err);
      }
      if (res.statusCode === 401 && attempt === 0 && retriable && this.challenge?.scheme === 'bearer') {
        await res.body.dump();
        continue;
      }
      let hops = 0;
      while ([301, 302, 303, 307, 308].includes(res.statusCode) && (method === 'GET' || method === 'HEAD') && hops++ < 5) {
        const loc = res.headers.location;
        await res.body.dump();
        if (typeof loc !== 'string') break;
        url = new URL(loc, url).toString();
        const sameHost = new URL(url).host === this.host;
        try {
          res = await request(url, { method, headers: sameHost ? headers : { ...this.baseHeaders(), ...o.headers }, dispatcher: await this.agentP });
        } catch (err) {
          throw unreachable(`${method[0]}${method.slice(1).toLowerCase()} "${url}"`, err);
        }
      }
      return res;
    }
  }

  /** A manifest by tag or digest: its bytes, media type and digest (verified when asked by digest). */
  async manifest(ref: string, display: string): Promise<{ bytes: Buffer; mediaType: string; digest: string }> {
    const res = await this.call('GET', `/v2/${this.repo}/manifests/${ref}`, {
      headers: { accept: [...MANIFEST_MEDIA_TYPES, 'application/vnd.docker.distribution.manifest.v1+prettyjws', 'application/json'].join(', ') },
    });
    if (res.statusCode !== 200) throw await this.fail(res, `manifest for ${display}`);
    const bytes = Buffer.from(await res.body.arrayBuffer());
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (ref.startsWith('sha256:') && ref !== digest) throw new InvalidParameter(`manifest verification failed for digest ${ref}: got ${digest}`);
    let mediaType = String(res.headers['content-type'] ?? '').split(';')[0]!.trim();
    try {
      const parsed = JSON.parse(bytes.toString('utf8')) as { mediaType?: string };
      if (parsed.mediaType) mediaType = parsed.mediaType;
    } catch {
      throw new InvalidParameter(`manifest for ${display} is not valid JSON`);
    }
    return { bytes, mediaType, digest };
  }

  /** A small blob (an image config), verified. */
  async blobBytes(digest: string): Promise<Buffer> {
    const res = await this.call('GET', `/v2/${this.repo}/blobs/${digest}`);
    if (res.statusCode !== 200) throw await this.fail(res, `blob ${digest}`);
    const bytes = Buffer.from(await res.body.arrayBuffer());
    const got = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (got !== digest) throw new InvalidParameter(`blob ${digest} failed verification: its content hashes to ${got}`);
    return bytes;
  }

  /**
   * A blob as a stream. A connection that breaks mid-way is resumed with a Range request
   * (at most `retries` times, backing off); what was already passed on is never sent twice.
   */
  async blobStream(digest: string, onBytes?: (received: number) => void, retries = 3): Promise<Readable> {
    const out = new PassThrough({ highWaterMark: 4 * 1024 * 1024 });
    let sent = 0;
    const first = await this.call('GET', `/v2/${this.repo}/blobs/${digest}`);
    if (first.statusCode !== 200) throw await this.fail(first, `blob ${digest}`);
    const pump = async (): Promise<void> => {
      let res: Dispatcher.ResponseData | undefined = first;
      for (let attempt = 0; ; attempt++) {
        try {
          if (!res) {
            res = await this.call('GET', `/v2/${this.repo}/blobs/${digest}`, { headers: sent ? { range: `bytes=${sent}-` } : {} });
            if (res.statusCode !== 200 && res.statusCode !== 206) throw await this.fail(res, `blob ${digest}`);
          }
          let skip = res.statusCode === 200 ? sent : 0;
          for await (const chunk of res.body as AsyncIterable<Buffer>) {
            let c = chunk;
            if (skip) { const n = Math.min(skip, c.length); skip -= n; c = c.subarray(n); if (!c.length) continue; }
            sent += c.length;
            onBytes?.(sent);
            if (!out.write(c)) await new Promise<void>((r) => { out.once('drain', r); out.once('close', r); });
            if (out.destroyed) { res.body.destroy(); return; }
          }
          out.end();
          return;
        } catch (err) {
          res = undefined;
          if (out.destroyed) return;
          if (attempt >= retries || (err instanceof BerthError && !(err instanceof Unavailable))) { out.destroy(asError(err)); return; }
          await new Promise((r) => setTimeout(r, 250 * 4 ** attempt));
        }
      }
    };
    void pump();
    return out;
  }

  /** HEAD of a blob: its size when the repository has it. */
  async blobExists(digest: string, scope?: string): Promise<boolean> {
    const res = await this.call('HEAD', `/v2/${this.repo}/blobs/${digest}`, { scope });
    await res.body.dump();
    if (res.statusCode === 200) return true;
    if (res.statusCode === 404) return false;
    throw await this.fail(res, `blob ${digest}`);
  }

  private pushScope(): string {
    return `repository:${this.repo}:pull,push`;
  }

  /** Tries to mount a blob from another repository of the same registry; false when refused. */
  async mount(digest: string, from: string): Promise<boolean> {
    const q = new URLSearchParams({ mount: digest, from });
    const res = await this.call('POST', `/v2/${this.repo}/blobs/uploads/?${q}`, { scope: `${this.pushScope()} repository:${from}:pull`, body: '' });
    if (res.statusCode === 201) { await res.body.dump(); return true; }
    if (res.statusCode === 202) {
      // Not mounted: cancel the upload it opened.
      const loc = res.headers.location;
      await res.body.dump();
      if (typeof loc === 'string') await this.call('DELETE', new URL(loc, this.base).toString(), { scope: this.pushScope() }).then((r) => r.body.dump(), () => {});
      return false;
    }
    await res.body.dump();
    return false;
  }

  /**
   * Uploads a blob: POST opens the session, one PATCH streams the data, PUT ?digest= commits.
   * The digest may be known only once the body has been read (`digest` as a function).
   */
  async upload(body: Readable | Buffer, digest: string | (() => string)): Promise<void> {
    const start = await this.call('POST', `/v2/${this.repo}/blobs/uploads/`, { scope: this.pushScope(), body: '' });
    if (start.statusCode !== 202) throw await this.fail(start, 'starting a blob upload');
    await start.body.dump();
    let loc = String(start.headers.location ?? '');
    if (!loc) throw new InvalidParameter('registry gave no upload location');
    loc = new URL(loc, this.base).toString();
    if (Buffer.isBuffer(body)) {
      // Small blobs (configs) go monolithic: the data rides on the closing PUT.
      const put = new URL(loc);
      put.searchParams.set('digest', typeof digest === 'function' ? digest() : digest);
      const done = await this.call('PUT', put.toString(), { scope: this.pushScope(), body, headers: { 'content-type': 'application/octet-stream' } });
      if (done.statusCode !== 201 && done.statusCode !== 204) throw await this.fail(done, 'uploading a blob');
      await done.body.dump();
      return;
    }
    const patch = await this.call('PATCH', loc, { scope: this.pushScope(), body, headers: { 'content-type': 'application/octet-stream' } });
    if (patch.statusCode !== 202 && patch.statusCode !== 204) throw await this.fail(patch, 'uploading a blob');
    await patch.body.dump();
    loc = new URL(String(patch.headers.location ?? loc), this.base).toString();
    const d = typeof digest === 'function' ? digest() : digest;
    const put = new URL(loc);
    put.searchParams.set('digest', d);
    const done = await this.call('PUT', put.toString(), { scope: this.pushScope(), body: '', headers: { 'content-type': 'application/octet-stream' } });
    if (done.statusCode !== 201 && done.statusCode !== 204) throw await this.fail(done, `committing blob ${d}`);
    await done.body.dump();
  }

  /** PUT of a manifest under a tag (or its digest); returns the digest the registry reports. */
  async putManifest(ref: string, bytes: Buffer, mediaType: string): Promise<string> {
    const res = await this.call('PUT', `/v2/${this.repo}/manifests/${ref}`, { scope: this.pushScope(), body: bytes, headers: { 'content-type': mediaType } });
    if (res.statusCode !== 201 && res.statusCode !== 200 && res.statusCode !== 202) throw await this.fail(res, 'pushing the manifest');
    await res.body.dump();
    return String(res.headers['docker-content-digest'] ?? `sha256:${createHash('sha256').update(bytes).digest('hex')}`);
  }

  /** Turns a registry's refusal into Berth's error classes, in Docker's words. */
  async fail(res: Dispatcher.ResponseData, what: string): Promise<BerthError> {
    let msg = await registryError(res, what);
    if (res.statusCode === 401 && this.challenge?.scheme === 'basic' && !this.o.auth) msg = 'no basic auth credentials';
    switch (res.statusCode) {
      case 401: return new Unauthorized(`${what}: ${msg}`);
      case 403: return new Forbidden(`${what}: ${msg}`);
      case 404: return new NotFound(`${what} not found: ${msg}`);
      case 400: case 405: case 409: case 416: return new InvalidParameter(`${what}: ${msg}`);
      default: return new Unavailable(`${what}: registry answered ${res.statusCode}: ${msg}`);
    }
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** A registry that cannot be reached: Docker's `Get "url": dial tcp …` wording, as a 503. */
function unreachable(what: string, err: unknown): Unavailable {
  const e = err as { code?: string; message?: string; address?: string; port?: number; cause?: { code?: string; message?: string; address?: string; port?: number } };
  const c = e?.cause ?? e;
  const words: Record<string, string> = { ECONNREFUSED: 'connect: connection refused', ECONNRESET: 'connection reset by peer', ETIMEDOUT: 'i/o timeout', EHOSTUNREACH: 'connect: no route to host', ENOTFOUND: 'no such host' };
  const code = c?.code ?? e?.code;
  const host = (c as { hostname?: string })?.hostname;
  // Go's resolver names the host and the server it asked: "lookup h on 10.0.0.2:53: no such host"
  const lookup = code === 'ENOTFOUND' && host ? `lookup ${host}${resolverAddress() ? ` on ${resolverAddress()}` : ''}: ` : '';
  const detail = code && words[code] ? `dial tcp${c?.address ? ` ${c.address}:${c.port}` : ''}: ${lookup}${words[code]}` : c?.message ?? e?.message ?? String(err);
  return new Unavailable(`${what}: ${detail}`);
}

let resolver: string | undefined;
/** The first nameserver of the host's resolv.conf, as host:53 (what Go's resolver reports). */
function resolverAddress(): string {
  if (resolver === undefined) {
    try {
      const ns = /^\s*nameserver\s+(\S+)/m.exec(readFileSync('/etc/resolv.conf', 'utf8'))?.[1];
      resolver = ns ? (ns.includes(':') ? `[${ns}]:53` : `${ns}:53`) : '';
    } catch { resolver = ''; }
  }
  return resolver;
}
