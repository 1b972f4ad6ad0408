// Request bodies the API reads into memory, and their bounds (issue 16, finding 5).
//
// Lifecycle of a buffered body:
//   1. Its declared Content-Length is checked against the route's limit before a byte is read:
//      a body that says it is too large is refused at once (413) and its connection closed,
//      so the client cannot make berthd read what it will throw away.
//   2. A body that is, or grows, larger than LARGE_BODY (a chunked one is counted as it comes)
//      must hold one of MAX_LARGE_BODIES slots while it is read and decoded: a crowd of huge
//      uploads waits for slots (503 after SLOT_WAIT_MS) instead of all being held in memory.
//   3. The whole body must arrive within BODY_DEADLINE_MS (a drip-fed body does not hold its slot
//      for ever: 408) and chunks are kept in a list, joined once (no quadratic concatenation).
//   4. Big JSON is decoded off the event loop (api/json-decoder.ts), so /_ping stays fast.
// Streamed bodies (image load and import, build contexts, archive PUT) never come here: they are
// piped with backpressure to disk.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { BerthError, InvalidParameter, Unavailable } from '../errors.ts';

/**
 * A JSON request body: far above what any client sends (a create whose Env alone fills the
 * kernel's default ARG_MAX of 2 MiB is a quarter of it), far below what hurts the daemon.
 */
export const JSON_BODY_LIMIT = 8 * 1024 * 1024;
/** The body of a hijacked request (exec start's `{"Detach":…,"Tty":…}`; attach sends none). */
export const HIJACK_BODY_LIMIT = 64 * 1024;
/** Above this size a body needs a slot to be read. */
export const LARGE_BODY = 1024 * 1024;
export const MAX_LARGE_BODIES = 2;
export const SLOT_WAIT_MS = 10_000;
export const BODY_DEADLINE_MS = 60_000;

/** A body larger than its route takes. The connection is closed after the answer. */
export class PayloadTooLarge extends BerthError {
  override readonly status = 413;
}

/** A body that did not arrive in time. The connection is closed after the answer. */
export class BodyTimeout extends BerthError {
  override readonly status = 408;
}

/** True for the errors after which the rest of the body is not read: the connection must close. */
export function abandonsBody(err: unknown): boolean {
  return err instanceof PayloadTooLarge || err instanceof BodyTimeout;
}

/** A counting semaphore with a bounded wait: the daemon-wide budget of large bodies. */
export class Slots {
  readonly size: number;
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(size: number) { this.size = size; this.free = size; }

  get inUse(): number { return this.size - this.free; }

  /** Resolves to a release function, or throws Unavailable after `waitMs`. */
  async acquire(waitMs: number): Promise<() => void> {
    if (this.free > 0) {
      this.free--;
      return this.releaser();
    }
    await new Promise<void>((resolve, reject) => {
      const grant = (): void => { clearTimeout(timer); resolve(); };
      const timer = setTimeout(() => {
        const i = this.waiting.indexOf(grant);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(new Unavailable(`too many large request bodies are being read (${this.size}): try again later`));
      }, waitMs);
      this.waiting.push(grant);
    });
    return this.releaser();
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.waiting.shift();
      if (next) next(); else this.free++;
    };
  }
}

/** The daemon's one budget of large bodies, shared by every listener. */
export const largeBodies = new Slots(MAX_LARGE_BODIES);

function tooLarge(limit: number, what: string): PayloadTooLarge {
  return new PayloadTooLarge(`${what} is larger than ${limit} bytes`);
}

/** The declared Content-Length, undefined when absent (chunked); a malformed one is a 400. */
export function declaredLength(req: IncomingMessage): number | undefined {
  const raw = req.headers['content-length'];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n)) throw new InvalidParameter('invalid Content-Length');
  return n;
}

export interface BodyOptions {
  limit?: number;
  what?: string;
  slots?: Slots;
  deadlineMs?: number;
  slotWaitMs?: number;
}

/**
 * Reads a whole request body under the limits above. `hold` is called with the slot's release
 * when the body took one, so the caller can keep it until the body is decoded.
 */
export async function readBoundedBody(req: IncomingMessage, o: BodyOptions = {}, hold?: (release: () => void) => void): Promise<Buffer> {
  const limit = o.limit ?? JSON_BODY_LIMIT;
  const what = o.what ?? 'request body';
  const slots = o.slots ?? largeBodies;
  const declared = declaredLength(req);
  if (declared !== undefined && declared > limit) throw tooLarge(limit, what);
  let release: (() => void) | undefined;
  const take = async (): Promise<void> => {
    release = await slots.acquire(o.slotWaitMs ?? SLOT_WAIT_MS);
  };
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; req.destroy(); }, o.deadlineMs ?? BODY_DEADLINE_MS);
  try {
    if (declared !== undefined && declared > LARGE_BODY) await take();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req as AsyncIterable<Buffer>) {
      size += c.length;
      if (size > limit) throw tooLarge(limit, what);
      if (release === undefined && size > LARGE_BODY) await take();
      chunks.push(c);
    }
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
  } catch (err) {
    if (timedOut) throw new BodyTimeout(`${what} did not arrive within ${(o.deadlineMs ?? BODY_DEADLINE_MS) / 1000}s`);
    throw err;
  } finally {
    clearTimeout(timer);
    if (release) {
      if (hold) hold(release); else release();
    }
  }
}

/**
 * The body of an upgraded request: exactly Content-Length bytes, some of which arrived in
 * `head`; what comes after them is the client's first stdin (`rest`). Bounded like any body,
 * read from the raw socket without growing one buffer per chunk.
 */
export async function readSocketBody(req: IncomingMessage, socket: Duplex, head: Buffer, o: BodyOptions = {}): Promise<{ body: Buffer; rest: Buffer }> {
  const limit = o.limit ?? HIJACK_BODY_LIMIT;
  const what = o.what ?? 'request body';
  const len = declaredLength(req) ?? 0;
  if (len > limit) throw tooLarge(limit, what);
  if (head.length >= len) return { body: head.subarray(0, len), rest: head.subarray(len) };
  const chunks: Buffer[] = [head];
  let size = head.length;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { finish(new BodyTimeout(`${what} did not arrive within ${(o.deadlineMs ?? BODY_DEADLINE_MS) / 1000}s`)); }, o.deadlineMs ?? BODY_DEADLINE_MS);
    const onData = (d: Buffer): void => {
      chunks.push(d);
      size += d.length;
      if (size >= len) finish();
    };
    const onEnd = (): void => finish(new InvalidParameter('request body ended early'));
    const finish = (err?: Error): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.pause();
      if (err) reject(err); else resolve();
    };
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.resume();
  });
  const all = Buffer.concat(chunks, size);
  return { body: all.subarray(0, len), rest: all.subarray(len) };
}
