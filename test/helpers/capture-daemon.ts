// A fake Engine API on a unix socket that records what a client asks to create: enough of
// /_ping, /version and POST /containers/create for `docker create` (and `berth create`) to finish,
// so tests can compare the create bodies two clients send for the same flags without a berthd.
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CapturedCreate {
  /** the query string values (name, platform) */
  query: Record<string, string>;
  /** the JSON body */
  body: any;
}

export const FAKE_ID = 'f'.repeat(8) + '0123456789abcdef'.repeat(3) + '01234567';

export class CaptureDaemon {
  readonly dir = mkdtempSync(join(tmpdir(), 'berth-capture-'));
  readonly socket = join(this.dir, 'd.sock');
  /** every create request received, oldest first */
  readonly creates: CapturedCreate[] = [];
  private readonly server = http.createServer((req, res) => this.answer(req, res));

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.socket, () => resolve());
    });
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Takes the requests recorded so far (and forgets them). */
  take(): CapturedCreate[] {
    return this.creates.splice(0);
  }

  private answer(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const path = url.pathname.replace(/^\/v[\d.]+/, '');
      const head = { 'Api-Version': '1.47', 'OSType': 'linux', 'Server': 'Docker/28.2.2 (linux)', 'Docker-Experimental': 'false' };
      const json = (status: number, v: unknown): void => {
        res.writeHead(status, { ...head, 'Content-Type': 'application/json' });
        res.end(JSON.stringify(v));
      };
      if (path === '/_ping') {
        res.writeHead(200, { ...head, 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache, no-store, must-revalidate' });
        res.end(req.method === 'HEAD' ? undefined : 'OK');
      } else if (path === '/version') {
        json(200, { Version: '28.2.2', ApiVersion: '1.47', MinAPIVersion: '1.24', Os: 'linux', Arch: 'amd64' });
      } else if (req.method === 'POST' && path === '/containers/create') {
        const query = Object.fromEntries(url.searchParams);
        this.creates.push({ query, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null') });
        json(201, { Id: FAKE_ID, Warnings: [] });
      } else if (req.method === 'POST' && /^\/containers\/[^/]+\/wait$/.test(path)) {
        json(200, { StatusCode: 0 });
      } else {
        // start, attach and the rest: an error lets a client exit without a container behind it
        json(500, { message: 'capture daemon: not implemented' });
      }
    });
  }
}
