// Layers and archives arrive plain, gzip or zstd: detected by magic bytes, never by name.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createZstdDecompress } from 'node:zlib';

/**
 * Reads until `n` bytes (or the end) are buffered, then puts them back; returns the stream to read
 * from: the same one, or, when it already ended, a new one of the bytes read (unshift after the
 * end is an error).
 */
export function peek(input: Readable, n: number): Promise<{ head: Buffer; stream: Readable }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let len = 0;
    let ended = false;
    const finish = (): void => {
      input.off('readable', onReadable);
      input.off('end', onEnd);
      input.off('error', onError);
      const head = Buffer.concat(chunks);
      if (ended) { resolve({ head, stream: Readable.from(head.length ? [head] : []) }); return; }
      if (head.length) input.unshift(head);
      resolve({ head, stream: input });
    };
    const onEnd = (): void => { ended = true; finish(); };
    const onError = (e: Error): void => {
      input.off('readable', onReadable);
      input.off('end', onEnd);
      reject(e);
    };
    const onReadable = (): void => {
      let c: Buffer | null;
      while (len < n && (c = input.read() as Buffer | null) !== null) { chunks.push(c); len += c.length; }
      if (len >= n) finish();
    };
    input.on('readable', onReadable);
    input.once('end', onEnd);
    input.once('error', onError);
  });
}

const CHUNK = 256 * 1024;

/** Returns the stream, decompressed when its first bytes carry a known magic. */
export async function decompress(input: Readable): Promise<Readable> {
  const { head, stream } = await peek(input, 4);
  input = stream;
  let codec: NodeJS.ReadWriteStream & Readable | undefined;
  // Big output chunks: zlib's default 16 KiB made the per-chunk callbacks the top cost of a pull.
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) codec = createGunzip({ chunkSize: CHUNK }) as never;
  else if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) codec = createZstdDecompress({ chunkSize: CHUNK }) as never;
  if (!codec) return input;
  pipeline(input, codec).catch((e: Error) => codec.destroy(e));
  return codec;
}
