// Routes Docker's paths, whose parameters may be greedy mid-path (`/images/{name:.*}/json`),
// to handlers. The `/v1.NN` prefix is stripped and negotiated before routing (api/version.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { InvalidParameter } from '../errors.ts';

export interface BaseContext {
  req: IncomingMessage;
  /** Path parameters, URL-decoded. */
  params: Record<string, string>;
  query: URLSearchParams;
  /** The API version this request speaks: from its `/v1.NN` prefix, else the server's default. */
  apiVersion: string;
}

/** A plain request: the handler reads the body itself (ctx.req is unconsumed) and writes ctx.res. */
export interface HttpContext extends BaseContext {
  kind: 'http';
  res: ServerResponse;
}

/**
 * A hijacked request (attach, exec start) from node:http's `upgrade` event, or a plain POST to
 * a hijack route without Upgrade (old clients). `body` holds exactly Content-Length bytes of the
 * request body; `socket` carries the raw stream after the handler writes its status line, and
 * `head` any bytes past the body that arrived early (stdin written before the response).
 */
export interface HijackContext extends BaseContext {
  kind: 'hijack';
  socket: Duplex;
  body: Buffer;
  head: Buffer;
  /** True when the client sent `Upgrade: tcp` and expects `101 UPGRADED`. */
  upgrade: boolean;
}

export type HttpHandler = (ctx: HttpContext) => Promise<void> | void;
export type HijackHandler = (ctx: HijackContext) => Promise<void> | void;

interface Route {
  method: string;
  re: RegExp;
  names: string[];
  handler: HttpHandler | HijackHandler;
  hijack: boolean;
}

export interface Match {
  handler: HttpHandler | HijackHandler;
  hijack: boolean;
  params: Record<string, string>;
}

export class Router {
  private routes: Route[] = [];

  /** pattern: `/containers/{id}/json`; `{name:.*}` matches greedily across slashes. */
  add(method: string, pattern: string, handler: HttpHandler): void {
    this.push(method, pattern, handler, false);
  }

  /** A route whose response takes over the connection (attach, exec start). */
  addHijack(method: string, pattern: string, handler: HijackHandler): void {
    this.push(method, pattern, handler, true);
  }

  private push(method: string, pattern: string, handler: HttpHandler | HijackHandler, hijack: boolean): void {
    const names: string[] = [];
    const src = pattern.replace(/[.+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)(?::\\\.\*)?\}/g, (m, name: string) => {
      names.push(name);
      return m.includes(':') ? '(.+)' : '([^/]+)';
    });
    this.routes.push({ method: method.toUpperCase(), re: new RegExp(`^${src}/?$`), names, handler, hijack });
  }

  /** Finds the route for a method and a path already stripped of its version prefix. */
  match(method: string, path: string): Match | 'method-not-allowed' | undefined {
    let pathMatched = false;
    const m = method.toUpperCase() === 'HEAD' ? ['HEAD', 'GET'] : [method.toUpperCase()];
    for (const want of m) {
      for (const r of this.routes) {
        const hit = r.re.exec(path);
        if (!hit) continue;
        pathMatched = true;
        if (r.method !== want) continue;
        const params: Record<string, string> = {};
        r.names.forEach((n, i) => { params[n] = decodeParam(hit[i + 1]!); });
        return { handler: r.handler, hijack: r.hijack, params };
      }
    }
    return pathMatched ? 'method-not-allowed' : undefined;
  }
}

/** A malformed %-escape (`%zz`, a cut UTF-8 sequence) is the client's mistake, as in Go's url.Parse. */
function decodeParam(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new InvalidParameter(`invalid URL escape in path: ${raw}`);
  }
}
