// Layers and archives arrive plain, gzip or zstd: detected by magic bytes, never by name.
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createZstdDecompress } from 'node:zlib';

/** Reads until `n` bytes (or the end) are buffered, then puts them back: the stream is unchanged. */
function peek(input: Readable, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let len = 0;
    const finish = (): void => {
      input.off('readable', onReadable);
      input.off('end', finish);
      input.off('error', onError);
      const head = Buffer.concat(chunks);
      if (head.length) input.unshift(head);
      resolve(head);
    };
    const onError = (e: Error): void => {
      input.off('readable', onReadable);
      input.off('end', finish);
      reject(e);
    };
    const onReadable = (): void => {
      let c: Buffer | null;
      while (len < n && (c = input.read() as Buffer | null) !== null) { chunks.push(c); len += c.length; }
      if (len >= n) finish();
    };
    input.on('readable', onReadable);
    input.once('end', finish);
    input.once('error', onError);
  });
}

const CHUNK = 256 * 1024;

/** Returns the stream, decompressed when its first bytes carry a known magic. */
export async function decompress(input: Readable): Promise<Readable> {
  const head = await peek(input, 4);
  let codec: NodeJS.ReadWriteStream & Readable | undefined;
  // Big output chunks: zlib's default 16 KiB made the per-chunk callbacks the top cost of a pull.
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) codec = createGunzip({ chunkSize: CHUNK }) as never;
  else if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) codec = createZstdDecompress({ chunkSize: CHUNK }) as never;
  if (!codec) return input;
  pipeline(input, codec).catch((e: Error) => codec.destroy(e));
  return codec;
}
