// Decodes JSON request bodies as dockerd's Go decoder would (util/go-json.ts) without blocking
// the event loop: go-json walks a parse tree in JavaScript, ~150 ms per MiB of small keys, so a
// hostile 8 MiB body decoded inline would stall every other request (/_ping included) for a
// second. Small bodies, nearly all of them, are decoded inline; larger ones go to one worker
// thread, one at a time, in order.
//
// The worker is started by the first large body and kept (unref'd: it never holds the daemon
// up). A worker that dies answers none of its calls: they are decoded inline instead, slower
// but correct, and the next large body starts a new worker.
import { Worker } from 'node:worker_threads';
import { goDecode, GoJsonError } from '../util/go-json.ts';
import type { GoType } from '../types/go-wire-types.ts';
import type { DecodeCall, DecodeAnswer } from './json-decoder-worker.ts';

/** Bodies up to this size are decoded inline (at most a few ms). */
export const INLINE_DECODE_MAX = 64 * 1024;

interface Handle { worker: Worker; pending: Map<number, { call: DecodeCall; done: (a: DecodeAnswer | undefined) => void }> }

let current: Handle | undefined;
let seq = 0;

function handle(): Handle {
  if (current) return current;
  const worker = new Worker(new URL(`./json-decoder-worker.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url));
  worker.unref();
  const h: Handle = { worker, pending: new Map() };
  worker.on('message', (a: DecodeAnswer) => {
    const p = h.pending.get(a.seq);
    h.pending.delete(a.seq);
    p?.done(a);
  });
  // An 'error' is followed by 'exit'; the calls are answered there.
  worker.on('error', () => {});
  worker.on('exit', () => {
    if (current === h) current = undefined;
    for (const p of h.pending.values()) p.done(undefined);
    h.pending.clear();
  });
  current = h;
  return h;
}

function inline(body: Buffer, type: GoType): unknown {
  return goDecode(body.toString('utf8'), type);
}

/**
 * goDecode for a body: the value, or a GoJsonError with Go's text, as goDecode throws it.
 * The answer does not depend on where the body was decoded.
 */
export async function decodeJson(body: Buffer, type: GoType): Promise<unknown> {
  if (body.length <= INLINE_DECODE_MAX) return inline(body, type);
  const h = handle();
  const call: DecodeCall = { seq: ++seq, body, type };
  const a = await new Promise<DecodeAnswer | undefined>((resolve) => {
    h.pending.set(call.seq, { call, done: resolve });
    h.worker.postMessage(call);
  });
  if (a === undefined || 'fault' in a) return inline(body, type);
  if ('error' in a) throw new GoJsonError(a.error.kind, a.error.message);
  return JSON.parse(a.json);
}

/** Stops the worker (tests; the daemon lets it die with the process). */
export async function stopJsonDecoder(): Promise<void> {
  const h = current;
  current = undefined;
  if (h) await h.worker.terminate();
}
