// A small Engine API client over node:http for the berth CLI: unix or TCP hosts, versioned
// paths, the daemon's error messages, and the multiplexed log stream.
import http from 'node:http';
import type { Readable } from 'node:stream';

export const CLIENT_API_VERSION = '1.47';

export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export interface Endpoint { socketPath?: string; host?: string; port?: number }

/** `-H`, else BERTH_HOST, else DOCKER_HOST, else the default socket. */
export function resolveHost(flag?: string, env: NodeJS.ProcessEnv = process.env): Endpoint {
  const h = flag || env.BERTH_HOST || env.DOCKER_HOST || 'unix:///run/berth/berth.sock';
  if (h.startsWith('unix://')) return { socketPath: h.slice('unix://'.length) };
  const m = /^tcp:\/\/([^:/]+)(?::(\d+))?/.exec(h);
  if (m) return { host: m[1], port: Number(m[2] ?? 2375) };
  throw new Error(`invalid host ${h}: use unix:///path or tcp://host:port`);
}

export class EngineClient {
  private readonly ep: Endpoint;
  private readonly agent = new http.Agent({ keepAlive: true });

  constructor(ep: Endpoint) {
    this.ep = ep;
  }

  /** Sends a request; resolves with the response once its headers arrived (body unread). */
  raw(method: string, path: string, body?: Buffer | Readable, headers: Record<string, string> = {}): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = http.request({ ...this.ep, agent: this.agent, method, path: `/v${CLIENT_API_VERSION}${path}`, headers }, resolve);
      req.on('error', reject);
      if (body && !Buffer.isBuffer(body)) body.pipe(req);
      else req.end(body);
    });
  }

  async request<T = unknown>(method: string, path: string, json?: unknown): Promise<T> {
    const body = json === undefined ? undefined : Buffer.from(JSON.stringify(json));
    const res = await this.raw(method, path, body, body ? { 'Content-Type': 'application/json' } : {});
    const text = await readAll(res);
    if ((res.statusCode ?? 500) >= 400) throw new ApiError(res.statusCode ?? 500, messageOf(text));
    return (text.length ? JSON.parse(text.toString()) : undefined) as T;
  }

  close(): void {
    this.agent.destroy();
  }
}

export async function readAll(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function messageOf(text: Buffer): string {
  try { return (JSON.parse(text.toString()) as { message?: string }).message ?? text.toString(); } catch { return text.toString(); }
}

export async function checkOk(res: http.IncomingMessage): Promise<void> {
  if ((res.statusCode ?? 500) >= 400) throw new ApiError(res.statusCode ?? 500, messageOf(await readAll(res)));
}

/** Splits Docker's 8-byte-header multiplexed stream into (stream, payload) pairs. */
export async function* demux(r: Readable): AsyncGenerator<{ stream: number; data: Buffer }> {
  let buf = Buffer.alloc(0);
  for await (const c of r) {
    buf = Buffer.concat([buf, c as Buffer]);
    while (buf.length >= 8) {
      const size = buf.readUInt32BE(4);
      if (buf.length < 8 + size) break;
      yield { stream: buf[0]!, data: buf.subarray(8, 8 + size) };
      buf = buf.subarray(8 + size);
    }
  }
}
