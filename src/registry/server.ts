// The OCI Distribution v1.1 HTTP API (distribution-spec spec.md) over RegistryStorage.
// One request's life: route (path → endpoint + repository name) → validate name and reference →
// authorize (Basic or bearer, by the repository and action the endpoint needs) → handler.
// Handlers throw RegistryError; `fail` is the one place that writes the spec's error body.
// Blob bodies are streamed both ways with large buffers; only manifests (≤ 4 MiB) are read whole.
import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { MANIFEST_MEDIA_TYPES, MediaType, isIndexMediaType, type Descriptor } from '../types/oci-distribution.ts';
import { clientKey, closeAfterResponse } from './connection-guard.ts';
import { RegistryError } from './errors.ts';
import { checkDigest, checkName, checkReference, sha256Of } from './names.ts';
import { STREAM_HWM, type RegistryStorage } from './storage.ts';
import {
  type Access, type Htpasswd, type Need, type TokenIssuer,
  allows, basicChallenge, bearerChallenge, parseBasic, parseScopes, unauthorized,
} from './auth.ts';

export const MAX_MANIFEST_BYTES = 4 << 20;
const API_VERSION = 'registry/2.0';
const CATALOG_DEFAULT_N = 1000;

export interface HandlerOptions {
  storage: RegistryStorage;
  htpasswd?: Htpasswd;
  tokens?: TokenIssuer;
  tls: boolean;
  log?: (line: string) => void;
  limits: { requestTimeoutMs: number; refusedLingerMs: number };
}

/** Requests whose body is a blob: they may take as long as the upload needs (the idle timeout still applies). */
const isBlobUpload = (method: string | undefined, path: string): boolean =>
  (method === 'POST' && /^\/v2\/.+\/blobs\/uploads\/?$/.test(path))
  || ((method === 'PATCH' || method === 'PUT') && /^\/v2\/.+\/blobs\/uploads\/[^/]+$/.test(path));

/**
 * A client that sent `Expect: 100-continue` waits for this before it sends its body. index.ts
 * routes such requests here (Node's 'checkContinue') instead of letting Node invite every body at
 * once, so the invitation comes only after authorization: a refused client never sends its blob.
 */
function invite(req: IncomingMessage, res: ServerResponse): void {
  if (req.headers.expect?.toLowerCase() === '100-continue' && !res.headersSent) res.writeContinue();
}

/** Destroys the connection of a request not received whole (headers and body) within `ms`. */
function limitRequestTime(req: IncomingMessage, res: ServerResponse, ms: number): void {
  if (req.complete) return;
  const t = setTimeout(() => { if (!req.complete) req.socket.destroy(); }, ms);
  t.unref();
  const clear = (): void => clearTimeout(t);
  req.once('end', clear);
  res.once('close', clear);
}

type Endpoint = 'base' | 'catalog' | 'tags' | 'manifest' | 'uploads' | 'upload' | 'blob' | 'referrers';

const ROUTES: [RegExp, Endpoint, string[]][] = [
  [/^\/v2\/?$/, 'base', ['GET', 'HEAD']],
  [/^\/v2\/_catalog$/, 'catalog', ['GET']],
  [/^\/v2\/(.+)\/tags\/list$/, 'tags', ['GET']],
  [/^\/v2\/(.+)\/manifests\/([^/]+)$/, 'manifest', ['GET', 'HEAD', 'PUT', 'DELETE']],
  [/^\/v2\/(.+)\/blobs\/uploads\/?$/, 'uploads', ['POST']],
  [/^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/, 'upload', ['GET', 'PATCH', 'PUT', 'DELETE']],
  [/^\/v2\/(.+)\/blobs\/([^/]+)$/, 'blob', ['GET', 'HEAD', 'DELETE']],
  [/^\/v2\/(.+)\/referrers\/([^/]+)$/, 'referrers', ['GET']],
];

interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  name: string;
  arg: string;
  grants?: Access[];
}

const decode = (s: string): string => {
  try { return decodeURIComponent(s); } catch { return s; }
};

const actionOf = (method: string): string => (method === 'GET' || method === 'HEAD' ? 'pull' : method === 'DELETE' ? 'delete' : 'push');

/** Builds the request listener for node:http / node:https. */
export function createHandler(o: HandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const st = o.storage;

  const realmUrl = (req: IncomingMessage): string => `${o.tls ? 'https' : 'http'}://${req.headers.host ?? '127.0.0.1'}/token`;

  async function authorize(req: IncomingMessage, need: Need | undefined): Promise<Access[] | undefined> {
    if (o.tokens) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
      const grants = m ? o.tokens.verify(m[1]!) : undefined;
      if (!grants) throw unauthorized(bearerChallenge(realmUrl(req), need), 'authentication required');
      if (need && !allows(grants, need)) {
        throw unauthorized(bearerChallenge(realmUrl(req), need, 'insufficient_scope'), 'authentication required', [{ Type: need.type, Name: need.name, Action: need.action }]);
      }
      return grants;
    }
    if (o.htpasswd) {
      const creds = parseBasic(req.headers.authorization);
      if (!creds || !(await o.htpasswd.verify(creds.user, creds.password, clientKey(req.socket.remoteAddress)))) throw unauthorized(basicChallenge);
    }
    return undefined;
  }

  const may = (c: Ctx, need: Need): boolean => !c.grants || allows(c.grants, need);

  // ---- /token ----

  async function token(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (!o.tokens) throw new RegistryError('NOT_FOUND', 'not found');
    let scopes = url.searchParams.getAll('scope');
    let user: string | undefined;
    let password: string | undefined;
    const basic = parseBasic(req.headers.authorization);
    if (basic) ({ user, password } = basic);
    if (req.method === 'POST') {
      // OAuth2 password grant (docker login with a token server may use it).
      const form = new URLSearchParams((await readBody(req, 64 << 10)).toString('utf8'));
      if (form.get('grant_type') === 'password') { user = form.get('username') ?? undefined; password = form.get('password') ?? undefined; }
      scopes = [...scopes, ...form.getAll('scope')];
    } else if (req.method !== 'GET') {
      throw new RegistryError('UNSUPPORTED', 'unsupported method');
    }
    let subject = 'anonymous';
    if (o.htpasswd) {
      if (user === undefined || password === undefined || !(await o.htpasswd.verify(user, password, clientKey(req.socket.remoteAddress)))) throw unauthorized(basicChallenge);
      subject = user;
    }
    const access = parseScopes(scopes).filter((a) => a.type === 'repository' || (a.type === 'registry' && a.name === 'catalog'));
    const t = o.tokens.issue(subject, access);
    json(res, 200, { token: t.token, access_token: t.token, expires_in: t.expiresIn, issued_at: t.issuedAt });
  }

  // ---- blobs ----

  async function blob(c: Ctx): Promise<void> {
    const digest = checkDigest(c.arg);
    if (c.req.method === 'DELETE') {
      await st.deleteBlob(c.name, digest);
      c.res.writeHead(202, { 'Docker-Content-Digest': digest, 'Content-Length': '0' }).end();
      return;
    }
    const size = await st.statBlob(c.name, digest);
    const headers: Record<string, string> = {
      'Docker-Content-Digest': digest, 'Content-Type': 'application/octet-stream', 'Accept-Ranges': 'bytes',
      ETag: `"${digest}"`, 'Cache-Control': 'max-age=31536000',
    };
    let start = 0;
    let end = size - 1;
    let status = 200;
    const range = c.req.headers.range;
    if (range !== undefined) {
      const r = parseRange(range, size);
      if (!r) {
        throw new RegistryError('RANGE_INVALID', 'requested range not satisfiable', { detail: { range, size }, headers: { 'Content-Range': `bytes */${size}` } });
      }
      [start, end] = r;
      status = 206;
      headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
    }
    headers['Content-Length'] = String(Math.max(0, end - start + 1));
    c.res.writeHead(status, headers);
    if (c.req.method === 'HEAD' || end < start) { c.res.end(); return; }
    await pipeline(createReadStream(st.blobPath(digest), { start, end, highWaterMark: STREAM_HWM }), c.res);
  }

  const uploadHeaders = (name: string, uuid: string, size: number): Record<string, string> => ({
    Location: `/v2/${name}/blobs/uploads/${uuid}`, 'Docker-Upload-UUID': uuid,
    // As the CNCF registry: the last byte's offset, and 0-0 for an empty upload.
    Range: `0-${Math.max(0, size - 1)}`, 'Content-Length': '0',
  });

  const blobCreated = (res: ServerResponse, name: string, digest: string): void => {
    res.writeHead(201, { Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest, 'Content-Length': '0' }).end();
  };

  async function uploads(c: Ctx): Promise<void> {
    const q = c.url.searchParams;
    const mount = q.get('mount');
    const from = q.get('from');
    if (mount !== null && from !== null) {
      const digest = checkDigest(mount);
      const source = checkName(from);
      if (may(c, { type: 'repository', name: source, action: 'pull' }) && (await st.mountBlob(c.name, source, digest))) {
        c.req.resume();
        blobCreated(c.res, c.name, digest);
        return;
      }
    }
    const digestParam = q.get('digest');
    if (digestParam !== null) {
      const digest = checkDigest(digestParam);
      const s = await st.startUpload(c.name);
      await st.commitUpload(s, digest, c.req);
      blobCreated(c.res, c.name, digest);
      return;
    }
    c.req.resume();
    const s = await st.startUpload(c.name);
    c.res.writeHead(202, uploadHeaders(c.name, s.uuid, 0)).end();
  }

  async function upload(c: Ctx): Promise<void> {
    const s = st.session(c.name, c.arg);
    switch (c.req.method) {
      case 'GET':
        c.res.writeHead(204, uploadHeaders(c.name, s.uuid, s.size)).end();
        return;
      case 'DELETE':
        await st.cancelUpload(s);
        c.res.writeHead(204, { 'Content-Length': '0' }).end();
        return;
      case 'PATCH': {
        let start: number | undefined;
        const cr = c.req.headers['content-range'];
        if (cr !== undefined) {
          const m = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(cr.trim());
          if (!m || Number(m[2]) < Number(m[1])) {
            c.req.resume();
            throw new RegistryError('RANGE_INVALID', 'invalid Content-Range', { detail: { contentRange: cr }, headers: uploadHeaders(c.name, s.uuid, s.size) });
          }
          start = Number(m[1]);
        }
        await st.appendUpload(s, c.req, start);
        c.res.writeHead(202, uploadHeaders(c.name, s.uuid, s.size)).end();
        return;
      }
      case 'PUT': {
        const digest = checkDigest(c.url.searchParams.get('digest'));
        const hasBody = Number(c.req.headers['content-length'] ?? 0) > 0 || c.req.headers['transfer-encoding'] !== undefined;
        if (!hasBody) c.req.resume();
        await st.commitUpload(s, digest, hasBody ? c.req : undefined);
        blobCreated(c.res, c.name, digest);
        return;
      }
    }
  }

  // ---- manifests ----

  async function manifest(c: Ctx): Promise<void> {
    const ref = checkReference(c.arg);
    const method = c.req.method;
    if (method === 'PUT') { await putManifest(c, ref); return; }
    if (method === 'DELETE') {
      if (ref.digest) await st.deleteManifest(c.name, ref.digest);
      else await st.deleteTag(c.name, ref.tag!);
      c.res.writeHead(202, { 'Content-Length': '0' }).end();
      return;
    }
    const m = await st.getManifest(c.name, ref);
    c.res.writeHead(200, {
      'Content-Type': m.mediaType, 'Docker-Content-Digest': m.digest, 'Content-Length': String(m.bytes.length), ETag: `"${m.digest}"`,
    });
    c.res.end(method === 'HEAD' ? undefined : m.bytes);
  }

  async function putManifest(c: Ctx, ref: { tag?: string; digest?: string }): Promise<void> {
    if (Number(c.req.headers['content-length'] ?? 0) > MAX_MANIFEST_BYTES) {
      c.req.resume();
      throw new RegistryError('SIZE_INVALID', `manifest larger than ${MAX_MANIFEST_BYTES} bytes`, { status: 413 });
    }
    const bytes = await readBody(c.req, MAX_MANIFEST_BYTES);
    const digest = sha256Of(bytes);
    if (ref.digest && ref.digest !== digest) throw new RegistryError('DIGEST_INVALID', 'manifest digest did not match', { detail: { expected: ref.digest, actual: digest } });
    let doc: Record<string, unknown>;
    try {
      doc = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new RegistryError('MANIFEST_INVALID', 'manifest invalid', { detail: { reason: `not JSON: ${(err as Error).message}` } });
    }
    const mediaType = manifestType(doc, (c.req.headers['content-type'] ?? '').split(';')[0]!.trim());
    const invalid = (reason: string): RegistryError => new RegistryError('MANIFEST_INVALID', 'manifest invalid', { detail: { reason } });
    if (doc.schemaVersion !== 2) throw invalid('schemaVersion must be 2');
    const missing: string[] = [];
    let artifactType = typeof doc.artifactType === 'string' ? doc.artifactType : undefined;
    if (isIndexMediaType(mediaType)) {
      const children = doc.manifests;
      if (!Array.isArray(children) || !children.every(isDescriptor)) throw invalid('manifests must be an array of descriptors');
      for (const d of children) if ((await st.manifestMediaType(c.name, d.digest)) === undefined) missing.push(d.digest);
    } else {
      if (!isDescriptor(doc.config)) throw invalid('config must be a descriptor');
      const layers = doc.layers ?? [];
      if (!Array.isArray(layers) || !layers.every(isDescriptor)) throw invalid('layers must be an array of descriptors');
      if (mediaType === MediaType.dockerManifest && layers.length === 0) throw invalid('a Docker image manifest needs layers');
      artifactType ??= doc.config.mediaType;
      for (const d of [doc.config, ...layers]) {
        // Foreign layers (with urls) live elsewhere; the CNCF registry does not require them either.
        if (d.urls?.length || d.mediaType === MediaType.dockerLayerForeign) continue;
        if (!(await st.hasBlob(c.name, d.digest))) missing.push(d.digest);
      }
    }
    if (missing.length) {
      throw new RegistryError('MANIFEST_BLOB_UNKNOWN', 'blob unknown to registry', { detail: { digest: missing[0], missing } });
    }
    let referrer: { subject: string; descriptor: Descriptor } | undefined;
    if (doc.subject !== undefined) {
      if (!isDescriptor(doc.subject)) throw invalid('subject must be a descriptor');
      const descriptor: Descriptor = { mediaType, digest, size: bytes.length };
      if (artifactType) descriptor.artifactType = artifactType;
      if (doc.annotations && typeof doc.annotations === 'object') descriptor.annotations = doc.annotations as Record<string, string>;
      referrer = { subject: doc.subject.digest, descriptor };
    }
    await st.putManifest(c.name, { digest, mediaType, bytes }, ref.tag, referrer);
    const headers: Record<string, string> = { Location: `/v2/${c.name}/manifests/${digest}`, 'Docker-Content-Digest': digest, 'Content-Length': '0' };
    if (referrer) headers['OCI-Subject'] = referrer.subject;
    c.res.writeHead(201, headers).end();
  }

  // ---- listings ----

  async function tags(c: Ctx): Promise<void> {
    if (!(await st.repoExists(c.name))) throw new RegistryError('NAME_UNKNOWN', 'repository name not known to registry', { detail: { name: c.name } });
    const page = paginate(await st.tags(c.name), c.url, undefined);
    if (page.next) c.res.setHeader('Link', `</v2/${c.name}/tags/list?${page.next}>; rel="next"`);
    json(c.res, 200, { name: c.name, tags: page.items });
  }

  async function catalog(c: Ctx): Promise<void> {
    const page = paginate(await st.catalog(), c.url, CATALOG_DEFAULT_N);
    if (page.next) c.res.setHeader('Link', `</v2/_catalog?${page.next}>; rel="next"`);
    json(c.res, 200, { repositories: page.items });
  }

  async function referrers(c: Ctx): Promise<void> {
    const subject = checkDigest(c.arg);
    let list = await st.referrers(c.name, subject);
    const filter = c.url.searchParams.get('artifactType');
    if (filter !== null) {
      list = list.filter((d) => d.artifactType === filter);
      c.res.setHeader('OCI-Filters-Applied', 'artifactType');
    }
    c.res.setHeader('Content-Type', MediaType.ociIndex);
    const body = JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: list });
    c.res.writeHead(200, { 'Content-Length': String(Buffer.byteLength(body)) }).end(body);
  }

  const handlers: Record<Exclude<Endpoint, 'base' | 'catalog'>, (c: Ctx) => Promise<void>> = { tags, manifest, uploads, upload, blob, referrers };

  async function dispatch(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (url.pathname === '/token') { invite(req, res); await token(req, res, url); return; }
    const path = url.pathname;
    for (const [re, endpoint, methods] of ROUTES) {
      const m = re.exec(path);
      if (!m) continue;
      if (!methods.includes(req.method ?? '')) {
        req.resume();
        throw new RegistryError('UNSUPPORTED', 'the operation is unsupported', { detail: { method: req.method, endpoint }, headers: { Allow: methods.join(', ') } });
      }
      if (endpoint === 'base') {
        req.resume();
        await authorize(req, undefined);
        json(res, 200, {});
        return;
      }
      if (endpoint === 'catalog') {
        const grants = await authorize(req, { type: 'registry', name: 'catalog', action: '*' });
        await catalog({ req, res, url, name: '', arg: '', grants });
        return;
      }
      const name = decode(m[1]!);
      const need: Need = { type: 'repository', name, action: actionOf(req.method!) };
      // Authenticate before validating, so an anonymous client learns nothing but "authenticate".
      const grants = await authorize(req, need);
      checkName(name);
      invite(req, res);
      await handlers[endpoint]({ req, res, url, name, arg: m[2] === undefined ? '' : decode(m[2]), grants });
      return;
    }
    req.resume();
    throw new RegistryError('NOT_FOUND', 'not found', { detail: { path } });
  }

  return (req, res) => {
    const started = Date.now();
    res.setHeader('Docker-Distribution-API-Version', API_VERSION);
    const url = new URL(req.url ?? '/', 'http://registry');
    if (!isBlobUpload(req.method, url.pathname)) limitRequestTime(req, res, o.limits.requestTimeoutMs);
    // Refused before its body was read (fail() answers with Connection: close): the connection goes
    // rather than reading whatever the client still sends, as Node would for as long as it comes.
    // A success never leaves an upload's body unread; any other body is bounded by limitRequestTime.
    res.once('finish', () => { if (!req.complete && res.statusCode >= 400) closeAfterResponse(req, o.limits.refusedLingerMs); });
    if (o.log) {
      // Path only: query strings may carry account names, and headers carry credentials.
      res.once('finish', () => o.log!(`${req.method} ${url.pathname} ${res.statusCode} ${Date.now() - started}ms`));
    }
    dispatch(req, res, url).catch((err: unknown) => fail(req, res, err));
  };
}

function fail(req: IncomingMessage, res: ServerResponse, err: unknown): void {
  if (res.headersSent) { res.destroy(); return; }
  const code = (err as NodeJS.ErrnoException).code;
  if (res.socket?.destroyed || code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE') { res.destroy(); return; }
  let status = 500;
  let headers: Record<string, string> = {};
  // A body not read to its end is not read at all: the listener closes the connection after this answer.
  if (!req.complete) headers = { Connection: 'close' };
  let body: { errors: { code: string; message: string; detail?: unknown }[] };
  if (err instanceof RegistryError) {
    status = err.status;
    headers = { ...headers, ...err.headers };
    body = { errors: [{ code: err.code, message: err.message, ...(err.detail === undefined ? {} : { detail: err.detail }) }] };
  } else {
    process.stderr.write(`registry: ${req.method} ${new URL(req.url ?? '/', 'http://r').pathname}: ${(err as Error).stack ?? String(err)}\n`);
    body = { errors: [{ code: 'UNKNOWN', message: 'unknown error' }] };
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(text)) });
  res.end(req.method === 'HEAD' ? undefined : text);
}

function json(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(text)) });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n > limit) throw new RegistryError('SIZE_INVALID', `body larger than ${limit} bytes`, { status: 413 });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n` → inclusive [start, end], or undefined when unsatisfiable. */
function parseRange(header: string, size: number): [number, number] | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0 || size === 0) return undefined;
    return [Math.max(0, size - n), size - 1];
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return undefined;
  return [start, end];
}

/**
 * The spec's pagination: items after `last`, at most `n`; when more remain, the query of the
 * next page (for the Link header). n=0 gives an empty page.
 */
function paginate(all: string[], url: URL, defaultN: number | undefined): { items: string[]; next?: string } {
  const last = url.searchParams.get('last');
  const nParam = url.searchParams.get('n');
  let n = defaultN;
  if (nParam !== null) {
    n = Number(nParam);
    if (!Number.isInteger(n) || n < 0) throw new RegistryError('SIZE_INVALID', 'invalid pagination number', { detail: { n: nParam } });
  }
  const rest = last === null ? all : all.filter((t) => t > last);
  if (n === undefined || rest.length <= n) return { items: rest };
  const items = rest.slice(0, n);
  if (n === 0) return { items };
  return { items, next: new URLSearchParams({ n: String(n), last: items[items.length - 1]! }).toString() };
}

function isDescriptor(v: unknown): v is Descriptor {
  if (!v || typeof v !== 'object') return false;
  const d = v as Record<string, unknown>;
  return typeof d.mediaType === 'string' && typeof d.digest === 'string' && /^sha256:[a-f0-9]{64}$/.test(d.digest)
    && typeof d.size === 'number' && Number.isInteger(d.size) && d.size >= 0;
}

/**
 * The media type a pushed manifest is stored and served with: the Content-Type when it names a
 * manifest kind, else the document's own mediaType, else its shape (OCI allows mediaType to be
 * absent). A Content-Type that contradicts the document's mediaType is refused, as the CNCF registry does.
 */
function manifestType(doc: Record<string, unknown>, contentType: string): string {
  const field = typeof doc.mediaType === 'string' ? doc.mediaType : undefined;
  const fromHeader = MANIFEST_MEDIA_TYPES.includes(contentType) ? contentType : undefined;
  const invalid = (reason: string): RegistryError => new RegistryError('MANIFEST_INVALID', 'manifest invalid', { detail: { reason } });
  if (fromHeader && field && field !== fromHeader) throw invalid(`mediaType ${field} does not match Content-Type ${fromHeader}`);
  const t = fromHeader ?? field ?? (Array.isArray(doc.manifests) ? MediaType.ociIndex : doc.config !== undefined ? MediaType.ociManifest : undefined);
  if (!t || !MANIFEST_MEDIA_TYPES.includes(t)) throw invalid(`unsupported manifest media type ${t ?? '(none)'}`);
  return t;
}
