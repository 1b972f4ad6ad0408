// What a web browser can make berthd do (issue 16, finding 2).
//
// A page on any site may send "simple" cross-origin requests without asking first: GET, HEAD and
// POST with a body typed text/plain, application/x-www-form-urlencoded or multipart/form-data,
// and no custom headers. It cannot read the answers (berthd never sends
// Access-Control-Allow-Origin: it has no --api-cors-header, which dockerd deprecated), but the
// requests take effect. Three guards, in the order a request meets them:
//
//  1. Fetch metadata (every TCP listener). Browsers mark each request with Sec-Fetch-Site, a
//     header a page cannot set; `cross-site` and `same-site` requests are refused (403). Browsers
//     too old to send it are caught by their Origin header when it names another host than the
//     one asked. No API client sends either header. dockerd checks neither: a deliberate
//     difference, because a browser is never a client of the Engine API and a simple POST
//     reaches routes that need no body at all (start, kill, tag, prune, pull).
//  2. Host (plain TCP listeners). DNS rebinding turns a page into a same-origin one: its name
//     resolves to 127.0.0.1, so Origin and fetch metadata look local, but the Host header still
//     carries the page's name. A TCP listener without TLS answers only a Host that is an IP
//     literal, `localhost` (or a name under .localhost), this machine's hostname, or a name the
//     listener was given (-H tcp://name:port); anything else is a 403. dockerd does not check
//     Host: a deliberate difference. Clients reaching the daemon by another DNS name must use TLS
//     (where rebinding cannot work: the page's name does not match the certificate). Unix
//     sockets are out of a browser's reach and are not checked.
//  3. Content-Type (routes with a JSON body). As moby's httputils.CheckForJSON: a body must be
//     declared application/json, so a text/plain "simple request" cannot create a container
//     that binds `/`. No Content-Type is accepted only with an empty body.
import type { IncomingMessage } from 'node:http';
import { hostname } from 'node:os';
import { isIP } from 'node:net';
import { Forbidden, InvalidParameter } from '../errors.ts';

/**
 * moby's CheckForJSON, with its texts and its status (400): no Content-Type is fine only when
 * there is no body (Content-Length 0, or no length and no chunked body); otherwise the media
 * type must be application/json.
 */
export function checkForJson(req: IncomingMessage): void {
  const ct = req.headers['content-type'] ?? '';
  const noBody = req.headers['content-length'] === '0'
    || (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined);
  if (ct === '' && noBody) return;
  const media = parseMediaType(ct);
  if (typeof media !== 'string') throw new InvalidParameter(`malformed Content-Type header (${ct}): ${media.error}`);
  if (media !== 'application/json') {
    throw new InvalidParameter(`unsupported Content-Type header (${ct}): must be 'application/json'`);
  }
}

const tokenChar = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

function consumeToken(s: string): [string, string] {
  let i = 0;
  while (i < s.length && tokenChar.test(s[i]!)) i++;
  return [s.slice(0, i), s.slice(i)];
}

/**
 * The lower-cased media type of a Content-Type, or Go's error text: mime.ParseMediaType's
 * checkMediaTypeDisposition (parameters are not looked at; Go's errors there are rare).
 */
function parseMediaType(ct: string): string | { error: string } {
  const base = ct.split(';')[0]!.trim().toLowerCase();
  const [type, rest] = consumeToken(base);
  if (type === '') return { error: 'mime: no media type' };
  if (rest === '') return base;
  if (!rest.startsWith('/')) return { error: 'mime: expected slash after first token' };
  const [sub, tail] = consumeToken(rest.slice(1));
  if (sub === '') return { error: 'mime: expected token after slash' };
  if (tail !== '') return { error: 'mime: unexpected content after media subtype' };
  return base;
}

/** How the request reached berthd: unix sockets are out of a browser's reach. */
export type Transport = 'unix' | 'tcp' | 'tls';

export function transportOf(req: IncomingMessage): Transport {
  const s = req.socket as IncomingMessage['socket'] & { encrypted?: boolean };
  if (s.encrypted) return 'tls';
  return s.remoteAddress === undefined ? 'unix' : 'tcp';
}

/** The host part of a Host header (`[::1]:2375` → `::1`), lower-cased. */
export function hostOf(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') >= 0 ? h.indexOf(']') : undefined);
  const colon = h.lastIndexOf(':');
  return (colon >= 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h).replace(/\.$/, '');
}

/** Names a plain TCP listener answers to, besides IP literals and localhost. */
export function localNames(extra: Iterable<string> = []): Set<string> {
  const names = new Set<string>();
  const me = hostname().toLowerCase();
  if (me) { names.add(me); names.add(me.split('.')[0]!); }
  for (const n of extra) if (n) names.add(n.toLowerCase().replace(/\.$/, ''));
  return names;
}

/** True when a plain TCP listener may answer a request with this Host header. */
export function hostAllowed(header: string | undefined, names: Set<string>): boolean {
  // HTTP/1.0 clients may leave Host out; a browser always sends it.
  if (header === undefined) return true;
  const h = hostOf(header);
  if (h === '') return false;
  if (isIP(h) !== 0) return true;
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  return names.has(h);
}

/** Refuses what a browser sent from another site, and rebound names on plain TCP (see above). */
export function checkBrowser(req: IncomingMessage, names: Set<string>): void {
  const transport = transportOf(req);
  if (transport === 'unix') return;
  const site = header(req, 'sec-fetch-site');
  if (site === 'cross-site' || site === 'same-site') {
    throw new Forbidden(`cross-site request refused: the Engine API does not serve web pages (Sec-Fetch-Site: ${site})`);
  }
  const origin = header(req, 'origin');
  if (site === undefined && origin !== undefined && !sameOrigin(origin, req.headers.host)) {
    throw new Forbidden(`cross-site request refused: the Engine API does not serve web pages (Origin: ${origin.slice(0, 200)})`);
  }
  if (transport === 'tcp' && !hostAllowed(req.headers.host, names)) {
    throw new Forbidden(`Host ${JSON.stringify((req.headers.host ?? '').slice(0, 200))} refused: a TCP listener without TLS answers only an IP address, localhost or its own name (DNS rebinding protection)`);
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    return new URL(origin).host.toLowerCase() === host.trim().toLowerCase();
  } catch {
    return false; // `null` (sandboxed frames, file: pages) and garbage
  }
}
