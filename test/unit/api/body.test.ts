// api/body.ts: the bounds on buffered request bodies (declared and counted size, deadline, the
// daemon-wide budget of large bodies) and the upgraded-request body read from a raw socket.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { readBoundedBody, readSocketBody, Slots, LARGE_BODY, PayloadTooLarge, BodyTimeout } from '../../../src/api/body.ts';
import { decodeJson, stopJsonDecoder, INLINE_DECODE_MAX } from '../../../src/api/json-decoder.ts';
import { GoJsonError } from '../../../src/util/go-json.ts';
import { containerConfigWrapper } from '../../../src/types/go-wire-types.ts';

function fakeReq(headers: Record<string, string>, chunks: Buffer[] | Readable): IncomingMessage {
  const r = (chunks instanceof Readable ? chunks : Readable.from(chunks)) as unknown as IncomingMessage;
  (r as unknown as { headers: Record<string, string> }).headers = headers;
  return r;
}

/** A body that never ends: counts how much was pulled from it. */
function endless(chunk: Buffer): { stream: Readable; pulled: () => number } {
  let n = 0;
  const stream = new Readable({ read() { n += chunk.length; this.push(chunk); } });
  return { stream, pulled: () => n };
}

describe('readBoundedBody', () => {
  it('reads a body within its limit, in one piece', async () => {
    const b = await readBoundedBody(fakeReq({ 'content-length': '6' }, [Buffer.from('abc'), Buffer.from('def')]), { limit: 10 });
    assert.equal(b.toString(), 'abcdef');
  });

  it('refuses a declared length over the limit before reading a byte (413)', async () => {
    const e = endless(Buffer.alloc(1024));
    await assert.rejects(readBoundedBody(fakeReq({ 'content-length': String(600 * 1000 * 1000) }, e.stream), { limit: 1024 }),
      (err: unknown) => err instanceof PayloadTooLarge && err.status === 413 && /larger than 1024 bytes/.test(err.message));
    assert.ok(e.pulled() <= 64 * 1024, `pulled ${e.pulled()} bytes`);
  });

  it('cuts an endless chunked body at the limit', async () => {
    const e = endless(Buffer.alloc(64 * 1024));
    await assert.rejects(readBoundedBody(fakeReq({}, e.stream), { limit: 1024 * 1024 }), PayloadTooLarge);
    assert.ok(e.pulled() < 2 * 1024 * 1024, `pulled ${e.pulled()} bytes`);
  });

  it('refuses a malformed Content-Length (400)', async () => {
    await assert.rejects(readBoundedBody(fakeReq({ 'content-length': '1e3' }, [])), (err: unknown) => (err as { status: number }).status === 400);
  });

  it('a drip-fed body fails at its deadline (408)', async () => {
    const drip = new Readable({ read() { /* never pushes */ } });
    await assert.rejects(readBoundedBody(fakeReq({ 'content-length': '10' }, drip), { deadlineMs: 50 }), BodyTimeout);
  });

  it('a large body waits for a slot; with none free in time it is a 503', async () => {
    const slots = new Slots(1);
    const release = await slots.acquire(10);
    const big = Buffer.alloc(LARGE_BODY + 1);
    await assert.rejects(readBoundedBody(fakeReq({ 'content-length': String(big.length) }, [big]), { slots, slotWaitMs: 30 }),
      (err: unknown) => (err as { status: number }).status === 503);
    const waiting = readBoundedBody(fakeReq({ 'content-length': String(big.length) }, [big]), { slots, slotWaitMs: 5000 });
    setTimeout(release, 20);
    assert.equal((await waiting).length, big.length);
    assert.equal(slots.inUse, 0, 'the slot is given back');
  });

  it('a chunked body takes a slot once it grows past LARGE_BODY', async () => {
    const slots = new Slots(1);
    let held: (() => void) | undefined;
    const body = await readBoundedBody(fakeReq({}, [Buffer.alloc(LARGE_BODY), Buffer.alloc(10)]), { slots }, (r) => { held = r; });
    assert.equal(body.length, LARGE_BODY + 10);
    assert.equal(slots.inUse, 1, 'held until the caller lets it go');
    held!();
    assert.equal(slots.inUse, 0);
  });
});

describe('readSocketBody (upgraded requests)', () => {
  it('takes Content-Length bytes; the rest is the first stdin', async () => {
    const s = new PassThrough();
    const p = readSocketBody(fakeReq({ 'content-length': '5' }, []), s, Buffer.from('ab'));
    s.write('cd');
    s.write('eSTDIN');
    const { body, rest } = await p;
    assert.equal(body.toString(), 'abcde');
    assert.equal(rest.toString(), 'STDIN');
  });

  it('refuses a 600 MB body at once', async () => {
    const s = new PassThrough();
    await assert.rejects(readSocketBody(fakeReq({ 'content-length': String(600 * 1000 * 1000) }, []), s, Buffer.alloc(0)), PayloadTooLarge);
  });

  it('is linear: 64 KiB in 1-byte chunks is quick', async () => {
    const s = new PassThrough();
    const n = 64 * 1024;
    const p = readSocketBody(fakeReq({ 'content-length': String(n) }, []), s, Buffer.alloc(0));
    const t0 = performance.now();
    for (let i = 0; i < n; i++) s.write(Buffer.from('x'));
    assert.equal((await p).body.length, n);
    assert.ok(performance.now() - t0 < 2000);
  });
});

describe('decodeJson', () => {
  it('gives the same value and the same Go errors inline and in the worker', async () => {
    const small = { Image: 'busybox', Env: ['A=1'], Labels: { '__proto__': 'x', a: 'b' } };
    const big = { ...small, Env: Array.from({ length: 5000 }, (_, i) => `V${i}=${'x'.repeat(20)}`) };
    assert.ok(JSON.stringify(big).length > INLINE_DECODE_MAX);
    try {
      for (const v of [small, big]) {
        const got = await decodeJson(Buffer.from(JSON.stringify(v)), containerConfigWrapper);
        assert.deepEqual(got, JSON.parse(JSON.stringify(v)));
      }
      const bad = Buffer.from(JSON.stringify({ ...big, Tty: 'yes' }));
      await assert.rejects(decodeJson(bad, containerConfigWrapper), (e: unknown) =>
        e instanceof GoJsonError && e.kind === 'type' && /cannot unmarshal string into Go struct field .*Tty of type bool/.test(e.message));
      const cut = Buffer.from(JSON.stringify(big).slice(0, INLINE_DECODE_MAX + 10));
      await assert.rejects(decodeJson(cut, containerConfigWrapper), (e: unknown) => e instanceof GoJsonError && e.message === 'unexpected EOF');
    } finally {
      await stopJsonDecoder();
    }
  });
});
