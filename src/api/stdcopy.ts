// Docker's multiplexed stream format (moby pkg/stdcopy): an 8-byte header — stream type
// (0 stdin, 1 stdout, 2 stderr, 3 systemerr), three zero bytes, big-endian payload size.
import type { LogBatch } from '../types/log-batch.ts';

export type StreamType = 0 | 1 | 2 | 3;

export function frame(stream: StreamType, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(payload.length, 4);
  return Buffer.concat([h, payload]);
}

/**
 * One buffer for a whole batch of log lines: a frame per line (as dockerd sends them: clients
 * such as docker-py's logs(stream=True) hand out one frame per item), or the bare bytes for a
 * tty container (`raw`); with timestamps each line begins with its stamp and a space.
 * `coalesce` (bytes): consecutive lines of one stream share a frame up to that size — only for
 * clients that concatenate the payloads anyway (the Docker CLI's stdcopy writes each frame
 * with one write(2): a frame per line costs it a syscall per line).
 * `into`: where to write when it is large enough (an EncodeBuffers buffer): a fresh 1 MiB
 * buffer per batch costs its page faults and the GCs its external memory triggers, which
 * was most of the encoder's time.
 */
export function encodeLines(b: LogBatch, o: { raw: boolean; timestamps: boolean; coalesce?: number; /** `details`: the log attributes and a space before each line */ details?: Buffer }, into?: Buffer): Buffer {
  const stamped = o.timestamps && b.stamps !== undefined && b.stamp !== undefined;
  const details = o.details;
  let size = 0;
  for (let i = 0; i < b.count; i++) {
    size += b.end[i]! - b.start[i]! + (o.raw ? 0 : 8) + (details?.length ?? 0);
    if (stamped) size += b.stamps![b.stamp![i]!]!.length + 1;
  }
  const out = into && into.length >= size ? into : Buffer.allocUnsafe(size);
  let pos = 0;
  const src = b.buf;
  const limit = o.coalesce ?? 0;
  /** Where the open frame's header is (-1: none), its stream and payload size so far. */
  let hdr = -1;
  let hdrStream = 0;
  let hdrLen = 0;
  for (let i = 0; i < b.count; i++) {
    const s = b.start[i]!;
    const e = b.end[i]!;
    let len = e - s + (details?.length ?? 0);
    const ts = stamped ? b.stamps![b.stamp![i]!]! : undefined;
    if (ts) len += ts.length + 1;
    if (!o.raw) {
      const stream = b.stream[i]!;
      if (hdr >= 0 && stream === hdrStream && hdrLen + len <= limit) {
        hdrLen += len;
      } else {
        if (hdr >= 0) out.writeUInt32BE(hdrLen, hdr + 4);
        hdr = pos;
        hdrStream = stream;
        hdrLen = len;
        out[pos] = stream;
        out[pos + 1] = 0; out[pos + 2] = 0; out[pos + 3] = 0;
        pos += 8;
      }
    }
    if (ts) {
      pos += ts.copy(out, pos);
      out[pos++] = 0x20;
    }
    if (details) pos += details.copy(out, pos);
    pos += src.copy(out, pos, s, e);
  }
  if (hdr >= 0) out.writeUInt32BE(hdrLen, hdr + 4);
  return out.subarray(0, pos);
}

/**
 * Output buffers for encodeLines, used again once the socket has taken them: take() one, write
 * it, and give() it back in the write's callback (never before: the socket may still hold it).
 * A buffer never given back (the client went) is left to the GC.
 */
export class EncodeBuffers {
  private readonly free: Buffer[] = [];
  private readonly size: number;
  private readonly keep: number;

  constructor(size = 1 << 20, keep = 3) {
    this.size = size;
    this.keep = keep;
  }

  /** A free buffer or a new one (encodeLines allocates its own when a batch needs more). */
  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.size);
  }

  give(b: Buffer): void {
    if (b.length === this.size && this.free.length < this.keep && !this.free.includes(b)) this.free.push(b);
  }
}

/** Splits a multiplexed byte stream back into frames; keeps a partial frame for the next push. */
export class FrameDecoder {
  private buf = Buffer.alloc(0);

  push(chunk: Buffer): { stream: StreamType; data: Buffer }[] {
    this.buf = Buffer.concat([this.buf, chunk]);
    const out: { stream: StreamType; data: Buffer }[] = [];
    while (this.buf.length >= 8) {
      const size = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + size) break;
      out.push({ stream: this.buf[0] as StreamType, data: this.buf.subarray(8, 8 + size) });
      this.buf = this.buf.subarray(8 + size);
    }
    return out;
  }
}
