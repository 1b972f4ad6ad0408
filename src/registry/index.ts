// `berth registry`: an OCI Distribution registry server (storage.ts for the layout, server.ts for
// the HTTP API, auth.ts for Basic and bearer-token auth, gc.ts for garbage collection).
// startRegistry is the library entry point that the CLI and the tests use.
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Htpasswd, TokenIssuer } from './auth.ts';
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
}

export interface RunningRegistry {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Starts serving; close() stops accepting, ends open connections and resolves when the server is down. */
export async function startRegistry(opts: RegistryOptions): Promise<RunningRegistry> {
  const storage = new RegistryStorage(opts.root);
  await storage.init();
  const htpasswd = opts.htpasswd ? await Htpasswd.load(opts.htpasswd) : undefined;
  const handler = createHandler({ storage, htpasswd, tokens: opts.tokenAuth ? new TokenIssuer() : undefined, tls: !!opts.tls, log: opts.log });
  const serverOpts = { highWaterMark: STREAM_HWM, requestTimeout: 0, keepAliveTimeout: 30_000 };
  const server: Server = opts.tls
    ? createHttpsServer({ ...serverOpts, cert: await readFile(opts.tls.cert), key: await readFile(opts.tls.key) }, handler)
    : createHttpServer(serverOpts, handler);
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => { server.off('error', reject); resolve(); });
  });
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
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
