// The Engine API's HTTP server on node:http: version prefix, routing, common headers, errors,
// and hijacked connections (node's `upgrade` event; WIRE.md 4.2 and 4.8); plain or over TLS.
import type http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type https from 'node:https';
import { createRequire } from 'node:module';
import type tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { Logger } from '../util/log.ts';
import { NotFound, InvalidParameter } from '../errors.ts';
import type { Router, HttpHandler, HijackHandler, HijackContext } from './router.ts';
import { splitVersion, MAX_API_VERSION, requestedVersion, jsonErrors } from './version.ts';
import { sendError, logError } from './errors.ts';
import { commonHeaders } from './server-headers.ts';
import { writeHijackError } from './hijack.ts';
import { readBoundedBody, readSocketBody, HIJACK_BODY_LIMIT } from './body.ts';
import { checkBrowser, localNames } from './cross-site.ts';

export interface ApiServerOptions { log: Logger }

const serverOptions = {
  requestTimeout: 0, // wait, logs -f, events and attach stay open as long as they need
  headersTimeout: 60_000,
  keepAliveTimeout: 120_000,
};

/** Names each server's plain TCP listeners were given (-H tcp://name:port), for the Host check. */
// node:http through require(), not an ESM import: an ESM import of it reads every export, and
// its lazy WebSocket/CloseEvent/MessageEvent getters load Node's bundled undici (~7 MB of heap,
// ~15 MB of RSS for the whole daemon, measured). node:https (OpenSSL's TLS, ~6 MB) is loaded
// only when a TLS host is served.
const nodeRequire = createRequire(import.meta.url);
const httpModule = (): typeof http => nodeRequire('node:http') as typeof http;

const listenNames = new WeakMap<http.Server, Set<string>>();

/**
 * Lets a server answer requests whose Host names `name` (api/cross-site.ts): the listen
 * address of a TCP host given by name, which its clients then send as Host.
 */
export function answerToName(server: http.Server, name: string): void {
  listenNames.get(server)?.add(name.toLowerCase().replace(/^\[|\]$/g, ''));
}

export function createApiServer(router: Router, opts: ApiServerOptions): http.Server {
  return serve(httpModule().createServer(serverOptions), router, opts.log);
}

/**
 * The same server over TLS (tcp:// and fd:// hosts with --tls/--tlsverify). Hijacked
 * connections work unchanged: `upgrade` hands over the TLSSocket. allowHalfOpen lets a client's
 * close_notify (the Docker CLI's CloseWrite at stdin EOF) end only its direction, as a TCP FIN
 * does on the plain server.
 */
export function createTlsApiServer(router: Router, opts: ApiServerOptions, tlsOptions: tls.TlsOptions): https.Server {
  const server = (nodeRequire('node:https') as typeof https).createServer({ ...serverOptions, ...tlsOptions }, undefined);
  // tls.Server does not pass allowHalfOpen on to its sockets; node:http's plain sockets have it.
  server.on('secureConnection', (socket: tls.TLSSocket) => { socket.allowHalfOpen = true; });
  return serve(server, router, opts.log);
}

function serve<S extends http.Server>(server: S, router: Router, log: Logger): S {
  const names = localNames();
  listenNames.set(server, names);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    void handle(router, log, req, res, names);
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    void handleUpgrade(router, log, req, socket, head, names);
  });
  server.on('clientError', (err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    log.debug({ err: String(err) }, 'client error');
  });
  return server;
}

/**
 * Closes a connection whose request body was not read the way Go's server does (a lingering
 * close): our answer and a FIN first, then a short wait, reading and dropping what the client
 * still sends, before the socket goes. Closing at once with unread bytes makes the kernel send a
 * reset, and a client still uploading would lose the answer (413) that says why.
 */
function lingerOnClose(socket: Socket): void {
  const s = socket as Socket & { destroySoon?: () => void };
  const limit = socket.bytesRead + LINGER_BYTES;
  s.destroySoon = () => {
    if (socket.writable) socket.end();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    socket.on('data', () => { if (socket.bytesRead > limit) socket.destroy(); });
    socket.once('close', () => clearTimeout(timer));
    socket.resume();
  };
}

const LINGER_MS = 500;
const LINGER_BYTES = 4 * 1024 * 1024;

function route(router: Router, method: string, url: string): { handler: HttpHandler | HijackHandler; hijack: boolean; params: Record<string, string>; query: URLSearchParams; apiVersion: string } {
  // Prefixed, not resolved against a base: a path starting with `//` is not a host.
  let u: URL;
  try { u = new URL(`http://berth${url.startsWith('/') ? '' : '/'}${url}`); } catch { throw new InvalidParameter(`invalid request path: ${url.slice(0, 200)}`); }
  const { version, path } = splitVersion(u.pathname);
  const m = router.match(method, path);
  // dockerd's router (gorilla/mux without a MethodNotAllowedHandler) answers a known path asked
  // with a wrong method as it answers an unknown path: 404 "page not found", never 405.
  if (m === undefined || m === 'method-not-allowed') throw new NotFound('page not found');
  return { ...m, query: u.searchParams, apiVersion: version };
}

async function handle(router: Router, log: Logger, req: IncomingMessage, res: ServerResponse, names: Set<string>): Promise<void> {
  for (const [k, v] of Object.entries(commonHeaders())) res.setHeader(k, v);
  try {
    checkBrowser(req, names);
    const r = route(router, req.method ?? 'GET', req.url ?? '/');
    if (!r.hijack) {
      await (r.handler as HttpHandler)({ kind: 'http', req, res, params: r.params, query: r.query, apiVersion: r.apiVersion });
      return;
    }
    // A hijack route without `Upgrade` (old clients, detached exec start): the connection is
    // taken over after the body, and the handler answers on the raw socket.
    const body = await readBoundedBody(req, { limit: HIJACK_BODY_LIMIT });
    const ctx: HijackContext = {
      kind: 'hijack', req, socket: req.socket, body, head: Buffer.alloc(0), upgrade: false,
      params: r.params, query: r.query, apiVersion: r.apiVersion,
    };
    await (r.handler as HijackHandler)(ctx);
  } catch (err) {
    logError(log, err, `${req.method} ${req.url}`);
    // A body left unread (refused before it was read, or cut at its limit) is not drained: the
    // connection closes after the answer, so a refused 600 MB upload costs nothing more.
    if (!req.complete && !res.headersSent) {
      res.setHeader('Connection', 'close');
      // (req.socket is gone once a cut-off body destroyed req; the response still has it)
      const sock = res.socket ?? req.socket;
      if (sock) lingerOnClose(sock);
    }
    sendError(res, err, !jsonErrors(requestedVersion(req.url ?? '/')));
  }
}

async function handleUpgrade(router: Router, log: Logger, req: IncomingMessage, socket: Duplex, head: Buffer, names: Set<string>): Promise<void> {
  socket.on('error', (err) => log.debug({ err: String(err) }, 'hijacked connection error'));
  const fake = { socket, upgrade: true, apiVersion: MAX_API_VERSION } as unknown as HijackContext;
  let ctx: HijackContext | undefined;
  try {
    checkBrowser(req, names);
    const r = route(router, req.method ?? 'GET', req.url ?? '/');
    if (!r.hijack) throw new InvalidParameter(`${req.url} does not support connection upgrade`);
    const { body, rest } = await readSocketBody(req, socket, head, { limit: HIJACK_BODY_LIMIT });
    ctx = {
      kind: 'hijack', req, socket, body, head: rest, upgrade: true,
      params: r.params, query: r.query, apiVersion: r.apiVersion,
    };
    await (r.handler as HijackHandler)(ctx);
  } catch (err) {
    logError(log, err, `${req.method} ${req.url} (upgrade)`);
    if (socket.writable) writeHijackError(ctx ?? fake, err);
  }
}

