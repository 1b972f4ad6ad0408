// Response helpers shared by every handler: JSON bodies, empty replies, and streams of JSON
// lines whose headers are flushed at once (the Docker CLI waits for them before going on).
import type { ServerResponse, IncomingMessage } from 'node:http';
import { InvalidParameter } from '../errors.ts';
import { goDecode, GoJsonError } from '../util/go-json.ts';
import { readBoundedBody } from './body.ts';
import { checkForJson } from './cross-site.ts';
import { decodeJson } from './json-decoder.ts';
import { anyValue, type GoType } from '../types/go-wire-types.ts';

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

export function sendEmpty(res: ServerResponse, status = 204): void {
  res.writeHead(status);
  res.end();
}

export function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Starts a chunked JSON stream (pull/load/build progress, events, wait) and flushes headers. */
export function startJsonStream(res: ServerResponse, status = 200): (obj: unknown) => void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.flushHeaders();
  return (obj) => { res.write(JSON.stringify(obj) + '\r\n'); };
}

/**
 * A JSON progress stream whose status is committed lazily, as dockerd does it: a failure before
 * the first line is a real HTTP error (the caller rethrows); after it, an `errorDetail` line.
 */
export function lazyJsonStream(res: ServerResponse): { write: (obj: unknown) => void; fail: (err: unknown) => boolean; end: () => void } {
  let started = false;
  const write = (obj: unknown): void => {
    if (!started) {
      started = true;
      res.writeHead(200, { 'Content-Type': 'application/json' });
    }
    if (!res.destroyed) res.write(JSON.stringify(obj) + '\r\n');
  };
  return {
    write,
    /** true when the error was written into the stream; false: the caller should throw it. */
    fail: (err) => {
      if (!started) return false;
      const message = err instanceof Error ? err.message : String(err);
      write({ errorDetail: { message }, error: message });
      res.end();
      return true;
    },
    end: () => { if (!started) write({ status: '' }); res.end(); },
  };
}

/** A whole body under api/body.ts's bounds (size, deadline, large-body slots). */
export async function readBody(req: IncomingMessage, limit?: number): Promise<Buffer> {
  return readBoundedBody(req, { limit });
}

/** Parses a JSON body as Go's decoder would (its syntax errors' texts); an empty body is `{}`. */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  return readGoJson(req, anyValue, 'empty-object');
}

/**
 * Decodes a request body into the Go type dockerd decodes it into, with Go's error texts (400s,
 * where dockerd answers some of them with 500). `empty` is what dockerd's handler does with an
 * empty body: the decoder's bare `EOF` (create, update), moby's `got EOF while reading request
 * body` (exec, networks, volumes), or treat it as `{}`.
 */
export async function readGoJson(req: IncomingMessage, type: GoType, empty: 'EOF' | 'got-eof' | 'empty-object' = 'EOF'): Promise<unknown> {
  // moby's CheckForJSON, before a byte is read: a browser's text/plain POST goes no further.
  checkForJson(req);
  let release: (() => void) | undefined;
  try {
    const buf = await readBoundedBody(req, {}, (r) => { release = r; });
    return await decodeJson(buf, type);
  } catch (e) {
    if (!(e instanceof GoJsonError)) throw e;
    if (e.kind === 'eof' && empty === 'empty-object') return {};
    if (e.kind === 'eof' && empty === 'got-eof') throw new InvalidParameter('got EOF while reading request body');
    throw new InvalidParameter(e.message);
  } finally {
    release?.();
  }
}

/** readGoJson for a body already read (hijacked routes). */
export function decodeGoBody(text: string, type: GoType, empty: 'EOF' | 'got-eof' | 'empty-object' = 'EOF'): unknown {
  try {
    return goDecode(text, type);
  } catch (e) {
    if (!(e instanceof GoJsonError)) throw e;
    if (e.kind === 'eof' && empty === 'empty-object') return {};
    if (e.kind === 'eof' && empty === 'got-eof') throw new InvalidParameter('got EOF while reading request body');
    throw new InvalidParameter(e.message);
  }
}

/**
 * Docker's boolean query convention (moby's httputils.BoolValue): every value but 0, no, false
 * and none (any case, spaces trimmed) is true; absent or empty is the default.
 */
export function boolParam(q: URLSearchParams, name: string, dflt = false): boolean {
  const v = q.get(name);
  if (v === null) return dflt;
  const s = v.trim().toLowerCase();
  if (s === '') return dflt;
  return !(s === '0' || s === 'no' || s === 'false' || s === 'none');
}

/** A decimal integer, as Go's strconv.Atoi reads it (and words its refusals): `1e3`, `0x10`, ` 1` and out-of-range values are 400s. */
export function intParam(q: URLSearchParams, name: string, dflt?: number): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return dflt;
  return atoi(v);
}

/** Go's strconv.Atoi (int is 64 bits), with its error texts. */
export function atoi(v: string): number {
  if (!/^[+-]?\d+$/.test(v)) throw new InvalidParameter(`strconv.Atoi: parsing ${goQuote(v)}: invalid syntax`);
  const n = BigInt(v);
  if (n < -(2n ** 63n) || n >= 2n ** 63n) throw new InvalidParameter(`strconv.Atoi: parsing ${goQuote(v)}: value out of range`);
  // Past 2^53 a JS number loses digits; nothing berthd counts gets that large.
  return Number(n);
}

/** strconv.Quote for the ASCII-printable texts query parameters mostly are (JSON's quoting otherwise). */
function goQuote(s: string): string {
  return JSON.stringify(s);
}
