// Decodes JSON request bodies as dockerd's Go decoder would (util/go-json.ts) without blocking
// the event loop: go-json walks a parse tree in JavaScript, ~150 ms per MiB of small keys, so a
// hostile 8 MiB body decoded inline would stall every other request (/_ping included) for a
// second. Small bodies, nearly all of them, are decoded inline; larger ones go to one worker
// thread, one at a time, in order.
//
// The worker is started by the first large body and kept (unref'd: it never holds the daemon
// up). A worker that dies (a bug, or out of memory) fails its pending calls with a System error
// (their bytes went with it) and the next large body starts a new worker.
import { Worker } from 'node:worker_threads';
import { goDecode, GoJsonError } from '../util/go-json.ts';
import type { GoType } from '../types/go-wire-types.ts';
import { System } from '../errors.ts';
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
 * The answer does not depend on where the body was decoded. The body is consumed (its bytes
 * are handed to the worker): the caller must not use it afterwards.
 */
export async function decodeJson(body: Buffer, type: GoType): Promise<unknown> {
  if (body.length <= INLINE_DECODE_MAX) return inline(body, type);
  const h = handle();
  // The bytes are handed over, not copied (a copy costs the event loop ~1 ms per MiB): the
  // caller's buffer is emptied when it owns its whole ArrayBuffer, else a copy is handed over.
  const own = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength && body.buffer instanceof ArrayBuffer;
  const bytes = own ? body : Buffer.from(body);
  const call: DecodeCall = { seq: ++seq, body: bytes, type };
  const a = await new Promise<DecodeAnswer | undefined>((resolve) => {
    h.pending.set(call.seq, { call, done: resolve });
    h.worker.postMessage(call, [bytes.buffer as ArrayBuffer]);
  });
  if (a === undefined || 'fault' in a) throw new System(`cannot decode the request body: JSON decoder worker ${a === undefined ? 'exited' : `failed: ${a.fault}`}`);
  if ('error' in a) throw new GoJsonError(a.error.kind, a.error.message);
  return JSON.parse(a.json);
}

/** Stops the worker (tests; the daemon lets it die with the process). */
export async function stopJsonDecoder(): Promise<void> {
  const h = current;
  current = undefined;
  if (h) await h.worker.terminate();
}
