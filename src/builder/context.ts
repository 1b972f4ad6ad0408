// The build context: the tar the client sends is kept as one file and indexed while it streams
// in (each entry's name, type, mode, link target and content hash). The cache keys COPY/ADD on
// those hashes, so a build whose steps all hit the cache never writes the context's files to
// disk; the first step that really copies unpacks it (with the archive hardening of image/) into
// a directory of its own, minus the Dockerfile and `.dockerignore` when `.dockerignore` names them.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { InvalidParameter, NotFound } from '../errors.ts';
import { extractTo, decompress, peek, cleanEntryName } from '../image/archive/index.ts';
import { parseDockerignore, makeMatcher } from '../util/dockerignore.ts';
import { resolveInRoot } from '../util/root-paths.ts';

/** Go's filepath.Match for one pattern against a slash path (`*` and `?` stay within a segment). */
export function globRegex(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) throw new InvalidParameter(`syntax error in pattern: ${pattern}`);
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith('^') || cls.startsWith('!')) cls = `^${cls.slice(1)}`;
      re += `[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (ch === '\\' && i + 1 < pattern.length) re += `\\${pattern[++i]}`;
    else re += ch.replace(/[.+^${}()|\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

const hasMeta = (p: string): boolean => /[*?[\\]/.test(p);

/** One path of the context, as the index knows it. */
interface Entry { type: 'file' | 'directory' | 'symlink' | 'other'; mode: number; uid: number; gid: number; linkname: string; hash: string }

/** Files read into memory as they pass (the Dockerfile and .dockerignore), at most this big. */
const KEEP_MAX = 4 * 1024 * 1024;

export class BuildContext {
  private readonly dir: string;
  private readonly tarPath: string;
  private readonly index = new Map<string, Entry>();
  private readonly kept = new Map<string, Buffer>();
  private unpacked?: Promise<string>;
  private sorted?: string[];

  private constructor(dir: string) {
    this.dir = dir;
    this.tarPath = join(dir, 'context.tar');
  }

  /**
   * Takes the request body into `dir`: the (decompressed) tar is written to one file and indexed
   * in the same pass. A body that is not an archive is a Dockerfile sent alone (`docker build -
   * < Dockerfile`): it becomes the only file of the context.
   */
  static async open(body: Readable, dir: string, dockerfileName: string): Promise<BuildContext> {
    const ctx = new BuildContext(dir);
    const want = new Set([norm(dockerfileName || 'Dockerfile'), 'dockerfile', '.dockerignore']);
    // The first block tells: a tar has `ustar` at offset 257.
    const { head, stream: rest } = await peek(await decompress(body), 512);
    const isTar = head.length >= 262 && head.subarray(257, 262).toString() === 'ustar';
    if (!isTar && head.length > 0) {
      // Held in memory whole: bounded, as a Dockerfile is small (a hostile body is not, issue 16).
      const all: Buffer[] = [];
      let size = 0;
      for await (const c of rest) {
        size += (c as Buffer).length;
        if (size > KEEP_MAX) throw new InvalidParameter(`a Dockerfile sent alone as the build context is larger than ${KEEP_MAX} bytes`);
        all.push(c as Buffer);
      }
      const text = Buffer.concat(all);
      await pipeline(tarOf('Dockerfile', text), createWriteStream(ctx.tarPath, { mode: 0o600 }));
      ctx.record('Dockerfile', { type: 'file', mode: 0o644, uid: 0, gid: 0, linkname: '', hash: sha256(text) }, text);
      return ctx;
    }
    if (head.length === 0) {
      await pipeline(tarOf('Dockerfile', Buffer.alloc(0)), createWriteStream(ctx.tarPath, { mode: 0o600 }));
      ctx.record('Dockerfile', { type: 'file', mode: 0o644, uid: 0, gid: 0, linkname: '', hash: sha256(Buffer.alloc(0)) }, Buffer.alloc(0));
      return ctx;
    }
    const file = createWriteStream(ctx.tarPath, { mode: 0o600, highWaterMark: 4 * 1024 * 1024 });
    const extract = tar.extract();
    const tee = new Transform({
      highWaterMark: 1024 * 1024,
      transform(c: Buffer, _e, cb) { if (file.write(c)) cb(null, c); else file.once('drain', () => cb(null, c)); },
    });
    const fed = pipeline(rest, tee, extract as unknown as Writable).catch((e: Error) => { extract.destroy(e); throw e; });
    try {
      for await (const e of extract) {
        const h = e.header;
        const name = cleanEntryName(h.name);
        const type = h.type === 'file' || h.type === 'contiguous-file' ? 'file' : h.type === 'directory' ? 'directory' : h.type === 'symlink' ? 'symlink' : h.type === 'link' ? 'file' : 'other';
        const hash = createHash('sha256');
        const keep = want.has(name) && (h.size ?? 0) <= KEEP_MAX;
        const parts: Buffer[] = [];
        for await (const c of e) { hash.update(c as Buffer); if (keep) parts.push(c as Buffer); }
        if (name === '') continue;
        // A hard link hashes as its target's content.
        const linkHash = h.type === 'link' ? ctx.index.get(cleanEntryName(h.linkname ?? ''))?.hash : undefined;
        ctx.record(name, { type, mode: (h.mode ?? 0) & 0o7777, uid: h.uid ?? 0, gid: h.gid ?? 0, linkname: h.linkname ?? '', hash: linkHash ?? hash.digest('hex') }, keep ? Buffer.concat(parts) : undefined);
      }
      await fed;
    } catch (err) {
      await fed.catch(() => {});
      throw err instanceof InvalidParameter ? err : new InvalidParameter(`invalid build context: ${(err as Error).message}`);
    } finally {
      await new Promise<void>((res) => file.end(() => res()));
    }
    return ctx;
  }

  private record(name: string, e: Entry, content?: Buffer): void {
    this.index.set(name, e);
    if (content) this.kept.set(name, content);
    else this.kept.delete(name);
    // Parents a tar may leave implicit.
    for (let p = posix.dirname(name); p !== '.' && !this.index.has(p); p = posix.dirname(p)) {
      this.index.set(p, { type: 'directory', mode: 0o755, uid: 0, gid: 0, linkname: '', hash: '' });
    }
    this.sorted = undefined;
  }

  /** The Dockerfile's text; its path is relative to the context (moby's error wording). */
  async dockerfile(name: string): Promise<string> {
    const rel = norm(name || 'Dockerfile');
    if (rel.startsWith('..')) throw new InvalidParameter(`the Dockerfile (${name}) must be within the build context`);
    for (const cand of name ? [rel] : [rel, 'dockerfile']) {
      const e = this.index.get(cand);
      if (!e) continue;
      const kept = this.kept.get(cand);
      if (e.type === 'file' && kept) return kept.toString('utf8');
      // A symlinked or very big Dockerfile: read it from the unpacked context.
      const root = await this.root();
      return readFile(join(root, await resolveInRoot(root, cand, true)), 'utf8');
    }
    throw new NotFound(`Cannot locate specified Dockerfile: ${name || 'Dockerfile'}`);
  }

  /**
   * moby's removeDockerfile (builder/remotecontext/detect.go): the daemon trusts the client to
   * have left out what `.dockerignore` excludes and removes only `candidates` (the Dockerfile and
   * `.dockerignore` itself) when the patterns name them. Other excluded paths that a client sent
   * anyway stay, as on dockerd. docker-py relies on this: it sends a Dockerfile from outside the
   * context as `.dockerfile.<random>` and lists that name in the `.dockerignore` it writes, so
   * `COPY . /x` does not copy it.
   */
  async applyDockerignore(candidates: string[]): Promise<void> {
    const text = this.kept.get('.dockerignore')?.toString('utf8');
    if (text === undefined) return;
    const m = makeMatcher(parseDockerignore(text));
    for (const name of candidates.map(norm)) {
      if (!name || !this.index.has(name) || !m.excluded(name)) continue;
      // os.RemoveAll: a directory goes with everything under it
      for (const k of [...this.index.keys()]) if (k === name || k.startsWith(`${name}/`)) this.index.delete(k);
    }
    this.sorted = undefined;
  }

  /** Every path in the context, relative, sorted. */
  list(): string[] {
    this.sorted ??= [...this.index.keys()].sort();
    return this.sorted;
  }

  /**
   * COPY/ADD sources as context paths: `.` is the whole context, globs match like Go's
   * filepath.Match, and a path leaving the context is refused.
   */
  async sources(patterns: string[], instruction: string): Promise<string[]> {
    const out: string[] = [];
    for (const raw of patterns) {
      const cleaned = posix.normalize(raw);
      if (cleaned === '..' || cleaned.startsWith('../')) {
        throw new InvalidParameter(`${instruction} failed: forbidden path outside the build context: ${raw} ()`);
      }
      const p = norm(raw);
      if (p === '' || p === '.') { out.push(''); continue; }
      if (hasMeta(p)) {
        const re = globRegex(p);
        const hits = this.list().filter((f) => re.test(f));
        if (!hits.length) throw new NotFound(`${instruction} failed: no source files were specified`);
        out.push(...hits);
        continue;
      }
      if (!this.index.has(p)) {
        throw new NotFound(`${instruction} failed: file not found in build context or excluded by .dockerignore: stat ${raw}: file does not exist`);
      }
      out.push(p);
    }
    return out;
  }

  /** A hash of the sources' names, types, modes, owners, link targets and contents (not mtimes). */
  async hash(rels: string[]): Promise<string> {
    const h = createHash('sha256');
    const all = this.list();
    for (const rel of rels) {
      const names = rel === '' ? all : this.index.get(rel)?.type === 'directory' ? [rel, ...all.filter((f) => f.startsWith(`${rel}/`))] : [rel];
      for (const f of names) {
        const e = this.index.get(f)!;
        h.update(`${f}\0${e.type}:${e.mode.toString(8)}:${e.uid}:${e.gid}:${e.linkname}:${e.hash}\0`);
      }
    }
    return h.digest('hex');
  }

  /** The context as a directory, unpacked on first use (a step that really copies). */
  root(): Promise<string> {
    this.unpacked ??= (async () => {
      const dir = join(this.dir, 'files');
      await mkdir(dir, { mode: 0o700 });
      await extractTo(createReadStream(this.tarPath, { highWaterMark: 1024 * 1024 }), dir, { whiteouts: false, exclude: (name: string) => !this.index.has(name) });
      return dir;
    })();
    return this.unpacked;
  }
}

function norm(p: string): string {
  return posix.normalize(`/${p}`).slice(1).replace(/\/+$/, '');
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

function tarOf(name: string, body: Buffer): Readable {
  const p = tar.pack();
  p.entry({ name, mode: 0o644, size: body.length, mtime: new Date(0) }, body);
  p.finalize();
  return p as unknown as Readable;
}
