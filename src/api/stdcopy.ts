// Docker's multiplexed stream format (moby pkg/stdcopy): an 8-byte header — stream type
// (0 stdin, 1 stdout, 2 stderr, 3 systemerr), three zero bytes, big-endian payload size.

export type StreamType = 0 | 1 | 2 | 3;

export function frame(stream: StreamType, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(payload.length, 4);
  return Buffer.concat([h, payload]);
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
