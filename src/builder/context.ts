// The build context: the tar the client sends, unpacked (with the archive hardening of image/)
// into a directory of its own, with `.dockerignore` applied. COPY and ADD find their sources
// here by path or glob, and the cache keys on a hash of those files' contents and modes.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { InvalidParameter, NotFound } from '../errors.ts';
import { extractTo, decompress } from '../image/archive/index.ts';
import { parseDockerignore, makeMatcher } from '../util/dockerignore.ts';
import { resolveInRoot } from '../util/root-paths.ts';

/** Reads the first bytes and puts them back (a body may be a tar, or a bare Dockerfile). */
async function head(input: Readable, n: number): Promise<{ bytes: Buffer; stream: Readable }> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  let len = 0;
  const it = input[Symbol.asyncIterator]();
  while (len < n) {
    const r = await it.next();
    if (r.done) break;
    const c = r.value as Buffer;
    chunks.push(c);
    len += c.length;
  }
  const bytes = Buffer.concat(chunks);
  out.write(bytes);
  (async () => {
    try {
      for (;;) {
        const r = await it.next();
        if (r.done) break;
        if (!out.write(r.value)) await new Promise((res) => out.once('drain', res));
      }
      out.end();
    } catch (e) { out.destroy(e as Error); }
  })();
  return { bytes, stream: out };
}

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

export class BuildContext {
  readonly root: string;
  private all?: string[];
  private hashes = new Map<string, string>();

  private constructor(root: string) {
    this.root = root;
  }

  /**
   * Unpacks the request body into `dir`. A body that is not an archive is a Dockerfile sent
   * alone (`docker build - < Dockerfile`): it becomes the only file of the context.
   */
  static async open(body: Readable, dir: string, dockerfileName: string): Promise<BuildContext> {
    const { bytes, stream } = await head(body, 512);
    const gz = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
    const zst = bytes.length >= 4 && bytes.readUInt32LE(0) === 0xfd2fb528;
    const tarMagic = bytes.length >= 262 && bytes.subarray(257, 262).toString() === 'ustar';
    if (bytes.length === 0) {
      await writeFile(join(dir, dockerfileName || 'Dockerfile'), '');
    } else if (gz || zst || tarMagic) {
      await extractTo(await decompress(stream), dir, { whiteouts: false }).catch((e: Error) => {
        throw e instanceof InvalidParameter ? e : new InvalidParameter(`invalid build context: ${e.message}`);
      });
    } else {
      const chunks: Buffer[] = [];
      for await (const c of stream) chunks.push(c as Buffer);
      await writeFile(join(dir, 'Dockerfile'), Buffer.concat(chunks));
    }
    return new BuildContext(dir);
  }

  /** The Dockerfile's text; its path is relative to the context (moby's error wording). */
  async dockerfile(name: string): Promise<string> {
    const rel = posix.normalize(name || 'Dockerfile').replace(/^\/+/, '');
    if (rel.startsWith('..')) throw new InvalidParameter(`the Dockerfile (${name}) must be within the build context`);
    const tryRead = async (p: string): Promise<string | undefined> => {
      const resolved = await resolveInRoot(this.root, p, true);
      return readFile(join(this.root, resolved), 'utf8').catch(() => undefined);
    };
    const text = await tryRead(rel) ?? (name ? undefined : await tryRead('dockerfile'));
    if (text === undefined) throw new NotFound(`Cannot locate specified Dockerfile: ${name || 'Dockerfile'}`);
    return text;
  }

  /** Removes what `.dockerignore` excludes (clients do this too; dockerd does it again). */
  async applyDockerignore(keep: string[]): Promise<void> {
    const text = await readFile(join(this.root, '.dockerignore'), 'utf8').catch(() => undefined);
    if (text === undefined) return;
    const m = makeMatcher(parseDockerignore(text));
    const keepSet = new Set(keep.map((k) => posix.normalize(k).replace(/^\/+/, '')));
    const walk = async (rel: string): Promise<void> => {
      for (const name of await readdir(join(this.root, rel))) {
        const r = rel ? `${rel}/${name}` : name;
        if (keepSet.has(r)) continue;
        const st = await lstat(join(this.root, r));
        if (m.excluded(r, st.isDirectory())) {
          if (st.isDirectory() && m.mayContainExceptions(r)) { await walk(r); continue; }
          await rm(join(this.root, r), { recursive: true, force: true });
        } else if (st.isDirectory()) {
          await walk(r);
        }
      }
    };
    await walk('');
    this.all = undefined;
  }

  /** Every path in the context, relative, sorted. */
  async list(): Promise<string[]> {
    if (this.all) return this.all;
    const out: string[] = [];
    const walk = async (rel: string): Promise<void> => {
      const names = (await readdir(join(this.root, rel), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
      for (const d of names) {
        const r = rel ? `${rel}/${d.name}` : d.name;
        out.push(r);
        if (d.isDirectory()) await walk(r);
      }
    };
    await walk('');
    this.all = out;
    return out;
  }

  /**
   * COPY/ADD sources as context paths: `.` is the whole context, globs match like Go's
   * filepath.Match, and a path leaving the context is refused.
   */
  async sources(patterns: string[], instruction: string): Promise<string[]> {
    const out: string[] = [];
    for (const raw of patterns) {
      const p = posix.normalize(`/${raw}`).slice(1);
      if (posix.normalize(raw).startsWith('../') || posix.normalize(raw) === '..') {
        throw new InvalidParameter(`${instruction} failed: forbidden path outside the build context: ${raw} ()`);
      }
      if (p === '' || p === '.') { out.push(''); continue; }
      if (hasMeta(p)) {
        const re = globRegex(p);
        const hits = (await this.list()).filter((f) => re.test(f));
        if (!hits.length) throw new NotFound(`${instruction} failed: no source files were specified`);
        out.push(...hits);
        continue;
      }
      const st = await lstat(join(this.root, await resolveInRoot(this.root, p, true))).catch(() => undefined);
      if (!st) throw new NotFound(`${instruction} failed: file not found in build context or excluded by .dockerignore: stat ${raw}: file does not exist`);
      out.push(p);
    }
    return out;
  }

  /** A hash of the sources' names, types, modes, link targets and contents (not mtimes). */
  async hash(rels: string[]): Promise<string> {
    const h = createHash('sha256');
    for (const rel of rels) {
      for (const f of await this.under(rel)) h.update(`${f}\0${await this.fileHash(f)}\0`);
    }
    return h.digest('hex');
  }

  /** rel and, when it is a directory, everything under it. */
  private async under(rel: string): Promise<string[]> {
    if (rel === '') return this.list();
    const st = await lstat(join(this.root, rel)).catch(() => undefined);
    if (!st?.isDirectory()) return [rel];
    return [rel, ...(await this.list()).filter((f) => f.startsWith(`${rel}/`))];
  }

  private async fileHash(rel: string): Promise<string> {
    let v = this.hashes.get(rel);
    if (v) return v;
    const path = join(this.root, rel);
    const st = await lstat(path);
    const meta = `${st.mode.toString(8)}:${st.uid}:${st.gid}`;
    if (st.isSymbolicLink()) v = `l:${meta}:${await readlink(path)}`;
    else if (st.isDirectory()) v = `d:${meta}`;
    else if (st.isFile()) {
      const h = createHash('sha256');
      for await (const c of createReadStream(path, { highWaterMark: 1024 * 1024 })) h.update(c as Buffer);
      v = `f:${meta}:${h.digest('hex')}`;
    } else v = `o:${meta}`;
    this.hashes.set(rel, v);
    return v;
  }
}
