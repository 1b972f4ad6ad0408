// ADD <url>: the file is downloaded into a temp dir first (so its digest keys the cache), named
// after the URL's last path element, with the Last-Modified time as its mtime, as Docker does.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidParameter } from '../errors.ts';

export interface Fetched { dir: string; name: string; digest: string; discard: () => Promise<void> }

export async function fetchUrl(url: string): Promise<Fetched> {
  const u = new URL(url);
  const name = posix.basename(u.pathname);
  if (!name || name === '/') throw new InvalidParameter(`cannot determine filename from url: ${url}`);
  const res = await fetch(url, { redirect: 'follow' }).catch((e: Error) => {
    throw new InvalidParameter(`failed to GET ${url}: ${(e.cause as Error | undefined)?.message ?? e.message}`);
  });
  if (!res.ok || !res.body) throw new InvalidParameter(`failed to GET ${url} with status ${res.status}: ${res.statusText}`);
  const dir = await mkdtemp(join(tmpdir(), 'berth-add-'));
  const discard = (): Promise<void> => rm(dir, { recursive: true, force: true });
  try {
    const h = createHash('sha256');
    await pipeline(Readable.fromWeb(res.body as never), new Transform({ transform(c: Buffer, _e, cb) { h.update(c); cb(null, c); } }), createWriteStream(join(dir, name), { mode: 0o600 }));
    const lm = Date.parse(res.headers.get('last-modified') ?? '');
    if (!Number.isNaN(lm)) await utimes(join(dir, name), new Date(lm), new Date(lm));
    return { dir, name, digest: h.digest('hex'), discard };
  } catch (e) {
    await discard();
    throw e;
  }
}
