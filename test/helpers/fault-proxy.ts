// A proxy in front of a registry on 127.0.0.1 that misbehaves on demand, for the fault tests:
// it can cut a layer download half-way and then die (the registry going away mid-pull), flip a
// byte of every layer blob, or answer layer GETs with 404 BLOB_UNKNOWN.
import http from 'node:http';
import type { Socket } from 'node:net';

export type FaultMode = 'pass' | 'die-mid-blob' | 'corrupt-blobs' | 'missing-blobs';

/** Blobs at least this big are layers (configs are smaller). */
const LAYER_MIN = 64 * 1024;

export class FaultProxy {
  mode: FaultMode = 'pass';
  port = 0;
  private server?: http.Server;
  private sockets = new Set<Socket>();
  private readonly target: { host: string; port: number };

  constructor(targetHost: string) {
    const [h, p] = targetHost.split(':');
    this.target = { host: h!, port: Number(p) };
  }

  get host(): string { return `127.0.0.1:${this.port}`; }

  async listen(port = 0): Promise<void> {
    const server = http.createServer((req, res) => this.forward(req, res));
    server.on('connection', (s) => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
    await new Promise<void>((r, j) => { server.once('error', j); server.listen(port, '127.0.0.1', () => r()); });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  /** Stops listening and drops every connection: to a client, the registry is gone. */
  async die(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    for (const sock of this.sockets) sock.destroy();
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    const isBlobGet = req.method === 'GET' && /\/blobs\/sha256:[0-9a-f]{64}$/.test(req.url ?? '');
    const up = http.request({ host: this.target.host, port: this.target.port, method: req.method, path: req.url, headers: req.headers }, (ur) => {
      const size = Number(ur.headers['content-length'] ?? 0);
      const layer = isBlobGet && ur.statusCode === 200 && size >= LAYER_MIN;
      if (layer && this.mode === 'missing-blobs') {
        ur.resume();
        const body = JSON.stringify({ errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown to registry' }] });
        res.writeHead(404, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
        return;
      }
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      if (!layer || this.mode === 'pass') { ur.pipe(res); return; }
      let sent = 0;
      ur.on('data', (c: Buffer) => {
        if (this.mode === 'corrupt-blobs' && sent <= 1000 && sent + c.length > 1000) {
          c = Buffer.from(c);
          c[1000 - sent] = c[1000 - sent]! ^ 0xff;
        }
        sent += c.length;
        res.write(c);
        if (this.mode === 'die-mid-blob' && sent >= size / 2) {
          ur.destroy();
          void this.die();
        }
      });
      ur.on('end', () => res.end());
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  }
}
