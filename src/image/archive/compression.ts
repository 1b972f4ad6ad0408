// Layers and archives arrive plain, gzip or zstd: detected by magic bytes, never by name.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createZstdDecompress } from 'node:zlib';

/** Peeks at the first bytes and returns the stream, decompressed when it carries a known magic. */
export async function decompress(input: Readable): Promise<Readable> {
  const it = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first: Buffer[] = [];
  let head = Buffer.alloc(0);
  while (head.length < 4) {
    const r = await it.next();
    if (r.done) break;
    first.push(r.value);
    head = Buffer.concat([head, r.value]);
  }
  const rest = Readable.from((async function* () {
    yield* first;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  })(), { objectMode: false });
  let codec: NodeJS.ReadWriteStream & Readable | undefined;
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) codec = createGunzip() as never;
  else if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) codec = createZstdDecompress() as never;
  if (!codec) return rest;
  pipeline(rest, codec).catch((e: Error) => codec.destroy(e));
  return codec;
}
