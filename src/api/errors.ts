// The one place where an error becomes an HTTP status and a `{"message": …}` body.
import type { ServerResponse } from 'node:http';
import { BerthError } from '../errors.ts';
import type { Logger } from '../util/log.ts';

export function statusOf(err: unknown): number {
  if (err instanceof BerthError) return err.status;
  if (err && typeof err === 'object' && (err as { name?: string }).name === 'ZodError') return 400;
  return 500;
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A client that hung up mid-stream (an export or logs read half-way): not a fault of ours. */
function clientGone(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === 'ERR_STREAM_PREMATURE_CLOSE';
}

/** Logs real faults (500s) with their stack; client mistakes and clients gone are debug noise. */
export function logError(log: Logger, err: unknown, where: string): void {
  if (statusOf(err) >= 500 && !clientGone(err)) log.error({ err: err instanceof Error ? err.stack : String(err), where }, 'request failed');
  else log.debug({ err: messageOf(err), where }, 'request refused');
}

/** `plain`: the client speaks an API version before 1.24, whose errors were plain text. */
export function sendError(res: ServerResponse, err: unknown, plain = false): void {
  if (res.headersSent) {
    // The status is on the wire already: all we can do is cut the stream so the client sees it.
    res.destroy();
    return;
  }
  const status = statusOf(err);
  if (status === 304) {
    res.writeHead(304);
    res.end();
    return;
  }
  if (plain) {
    // Go's http.Error: the text, a newline, and nosniff
    const text = `${messageOf(err)}\n`;
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
    return;
  }
  const body = JSON.stringify({ message: messageOf(err) });
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
