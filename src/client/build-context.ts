// The build context a client sends: the directory as a tar, minus what `.dockerignore` excludes
// (the Dockerfile and .dockerignore always go), owners 0:0 as the Docker CLI sends them; plus a
// Dockerfile given on stdin or from outside the directory, under a name of its own.
import { createReadStream } from 'node:fs';
import { lstat, readFile, readlink } from 'node:fs/promises';
import { join, posix, relative } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { parseDockerignore, makeMatcher, walkContext } from '../util/dockerignore.ts';

/** A file added to the context that is not in the directory (a Dockerfile from stdin or outside it). */
export interface ExtraFile { name: string; data: Buffer }

export function packContext(dir: string, dockerfile: string, extra: ExtraFile[] = []): Readable {
  const pack = tar.pack();
  const entry = (h: Partial<tar.Header>, body?: Readable): Promise<void> => new Promise((resolve, reject) => {
    const e = pack.entry(h as tar.Header, (err) => (err ? reject(err) : resolve()));
    if (body) pipeline(body, e).catch(reject);
  });
  (async () => {
    const ignore = await readFile(join(dir, '.dockerignore'), 'utf8').catch(() => '');
    const matcher = makeMatcher(parseDockerignore(ignore));
    const always = new Set(['.dockerignore', posix.normalize(relative(dir, join(dir, dockerfile)))]);
    const seen = new Set<string>();
    const add = async (rel: string): Promise<void> => {
      if (seen.has(rel)) return;
      seen.add(rel);
      const path = join(dir, rel);
      const st = await lstat(path).catch(() => undefined);
      if (!st) return;
      const h = { name: rel, mode: st.mode & 0o7777, mtime: st.mtime, uid: 0, gid: 0 };
      if (st.isDirectory()) await entry({ ...h, type: 'directory' });
      else if (st.isSymbolicLink()) await entry({ ...h, type: 'symlink', linkname: await readlink(path) });
      else if (st.isFile()) await entry({ ...h, type: 'file', size: st.size }, createReadStream(path));
    };
    for await (const rel of walkContext(dir, matcher)) await add(rel);
    for (const rel of always) if (!rel.startsWith('..')) await add(rel);
    for (const f of extra) await entry({ name: f.name, mode: 0o600, mtime: new Date(), uid: 0, gid: 0, type: 'file', size: f.data.length }, Readable.from([f.data]));
    pack.finalize();
  })().catch((err: Error) => pack.destroy(err));
  return pack as unknown as Readable;
}

/** A context of these files only (`build -` given a Dockerfile on stdin). */
export function packFiles(files: ExtraFile[]): Readable {
  const pack = tar.pack();
  for (const f of files) pack.entry({ name: f.name, mode: 0o600, mtime: new Date(), uid: 0, gid: 0, type: 'file', size: f.data.length }, f.data);
  pack.finalize();
  return pack as unknown as Readable;
}
