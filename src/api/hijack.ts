// The raw status lines of hijacked endpoints (attach, exec start). After `101 UPGRADED` the
// connection carries the process's streams both ways (WIRE.md 4.2).
import { createRequire } from 'node:module';
// require(), not an ESM import: see server.ts (an ESM import of node:http loads Node's bundled undici).
const { STATUS_CODES } = createRequire(import.meta.url)('node:http') as typeof import('node:http');
import type { HijackContext } from './router.ts';
import { statusOf, messageOf } from './errors.ts';
import { versionGte } from './version.ts';
import { commonHeaders } from './server-headers.ts';

function headerLines(h: Record<string, string>): string {
  return Object.entries(h).map(([k, v]) => `${k}: ${v}\r\n`).join('');
}

/** `101 UPGRADED` when the client asked to upgrade; the `200` raw-stream reply otherwise. */
export function writeUpgradeResponse(ctx: HijackContext, o: { multiplexed: boolean }): void {
  const ct = o.multiplexed && versionGte(ctx.apiVersion, '1.42')
    ? 'application/vnd.docker.multiplexed-stream' : 'application/vnd.docker.raw-stream';
  const common = headerLines(commonHeaders());
  if (ctx.upgrade) {
    ctx.socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${ct}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n${common}\r\n`);
  } else {
    ctx.socket.write(`HTTP/1.1 200 OK\r\nContent-Type: ${ct}\r\n${common}\r\n`);
  }
}

/** An error before the upgrade: a normal HTTP error response, then the connection closes. */
export function writeHijackError(ctx: HijackContext, err: unknown): void {
  const status = statusOf(err);
  const body = JSON.stringify({ message: messageOf(err) });
  const common = headerLines(commonHeaders());
  ctx.socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n${common}\r\n${body}`);
}
