// `berth registry`: an OCI Distribution registry server (storage.ts for the layout, server.ts for
// the HTTP API, auth.ts for Basic and bearer-token auth, gc.ts for garbage collection).
// startRegistry is the library entry point that the CLI and the tests use.
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { InvalidParameter } from '../errors.ts';
import { DEFAULT_AUTH_LIMITS, Htpasswd, TokenIssuer, type AuthLimits } from './auth.ts';
import { capConnectionsPerClient } from './connection-guard.ts';
import { exposureWarnings } from './exposure.ts';
import { createHandler } from './server.ts';
import { RegistryStorage, STREAM_HWM } from './storage.ts';

export { collectGarbage, type GcOptions, type GcResult } from './gc.ts';

export interface RegistryOptions {
  root: string;
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** An htpasswd file of bcrypt hashes: HTTP Basic auth, or the credentials the token endpoint checks. */
  htpasswd?: string;
  /** Bearer tokens from this server's own /token endpoint. */
  tokenAuth?: boolean;
  /** PEM file paths; serve HTTPS. */
  tls?: { cert: string; key: string };
  /** One line per request (method, path, status, time); never credentials. */
  log?: (line: string) => void;
  /** Uploads idle this long are dropped (default one hour). */
  uploadIdleMs?: number;
  /** Connection and time limits (DEFAULT_LIMITS for what is not given; tests shorten them). */
  limits?: Partial<RegistryLimits>;
  /** Password checks: failure back-off, cache of verified passwords, bcrypt queue (DEFAULT_AUTH_LIMITS). */
  authLimits?: Partial<AuthLimits>;
  /** Start-up warnings (an exposed listener); stderr when not given. */
  warn?: (line: string) => void;
}

/**
 * How long and how many: what an unauthenticated client can hold of the server before it
 * proves anything. Uploads have no total time limit (a slow link may take hours for a big
 * layer) but lose their connection after `idleTimeoutMs` without a byte either way.
 */
export interface RegistryLimits {
  /** A request's headers must arrive whole within this (Node's headersTimeout; also the TLS handshake). */
  headersTimeoutMs: number;
  /** A request other than a blob upload must arrive whole (headers and body) within this. */
  requestTimeoutMs: number;
  /** A connection with no byte read or written for this long is closed, uploads included. */
  idleTimeoutMs: number;
  /** An idle keep-alive connection between requests is closed after this. */
  keepAliveTimeoutMs: number;
  /** Open connections in all. */
  maxConnections: number;
  /** Open connections from one client (IPv4 address or IPv6 /64). */
  maxConnectionsPerClient: number;
  /** How long a connection whose body was refused still reads, so its answer is not lost to a reset. */
  refusedLingerMs: number;
}

export const DEFAULT_LIMITS: RegistryLimits = {
  headersTimeoutMs: 20_000,
  requestTimeoutMs: 60_000,
  idleTimeoutMs: 120_000,
  keepAliveTimeoutMs: 15_000,
  maxConnections: 1024,
  maxConnectionsPerClient: 64,
  refusedLingerMs: 1000,
};

export interface RunningRegistry {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Starts serving; close() stops accepting, ends open connections and resolves when the server is down. */
export async function startRegistry(opts: RegistryOptions): Promise<RunningRegistry> {
  // Without htpasswd the token endpoint would have no one to check and would grant push to anyone.
  if (opts.tokenAuth && !opts.htpasswd) throw new InvalidParameter('token auth needs an htpasswd file: without one, /token would issue push tokens to anyone');
  const limits: RegistryLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const host = opts.host ?? '127.0.0.1';
  const storage = new RegistryStorage(opts.root);
  await storage.init();
  const htpasswd = opts.htpasswd ? await Htpasswd.load(opts.htpasswd, { ...DEFAULT_AUTH_LIMITS, ...opts.authLimits }) : undefined;
  const handler = createHandler({ storage, htpasswd, tokens: opts.tokenAuth ? new TokenIssuer() : undefined, tls: !!opts.tls, log: opts.log, limits });
  // requestTimeout stays 0 (off) because it would cut long uploads; server.ts applies
  // limits.requestTimeoutMs to every other request. headersTimeout must then be set itself:
  // Node derives it as min(60 s, requestTimeout), which is 0 — no limit at all.
  const serverOpts = {
    highWaterMark: STREAM_HWM, requestTimeout: 0, headersTimeout: limits.headersTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // How often Node looks for connections past headersTimeout (30 s by default, longer than the limit).
    connectionsCheckingInterval: Math.max(100, Math.min(5000, Math.floor(limits.headersTimeoutMs / 4))),
  };
  const server: Server = opts.tls
    ? createHttpsServer({ ...serverOpts, handshakeTimeout: limits.headersTimeoutMs, cert: await readFile(opts.tls.cert), key: await readFile(opts.tls.key) }, handler)
    : createHttpServer(serverOpts, handler);
  // Socket inactivity (no byte either way): a stalled upload or a client that stops reading a blob.
  server.timeout = limits.idleTimeoutMs;
  // Requests with `Expect: 100-continue` reach the handler without Node's automatic 100: server.ts
  // sends it once the request is authorized, so a refused client never sends its body.
  server.on('checkContinue', handler);
  server.maxConnections = limits.maxConnections;
  capConnectionsPerClient(server, limits.maxConnectionsPerClient);
  const warn = opts.warn ?? ((line: string) => { process.stderr.write(`${line}\n`); });
  for (const line of exposureWarnings({ host, tls: !!opts.tls, auth: !!opts.htpasswd })) warn(line);
  const stopAuth = async (): Promise<void> => {
    await htpasswd?.close().catch((err: unknown) => { process.stderr.write(`registry: stopping the bcrypt workers: ${String(err)}\n`); });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, host, () => { server.off('error', reject); resolve(); });
    });
  } catch (err) {
    await stopAuth();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const idle = opts.uploadIdleMs ?? 60 * 60_000;
  const sweeper = setInterval(() => { storage.expireUploads(idle).catch(() => {}); }, Math.min(idle, 5 * 60_000));
  sweeper.unref();
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `${opts.tls ? 'https' : 'http'}://${urlHost}:${port}`,
    port,
    close: () => new Promise<void>((resolve) => {
      clearInterval(sweeper);
      server.close(() => { void stopAuth().then(resolve); });
      server.closeAllConnections();
    }),
  };
}
