// sync: changed host files into every container of a service, as Compose v2's tar syncer does.
// Per batch and service: paths that no longer exist on the host are removed in each container with
// one `rm -rf` exec; the rest go in one tar archive extracted at `/` (PUT /containers/{id}/archive,
// copyUIDGID, so files keep the host's owner as Compose's do). A changed directory is sent whole
// (its ignored files left out). Entries for the same container path are de-duplicated, the last
// wins. Should the engine refuse the archive because a directory header meets a path that is a
// symlink in the container ("cannot overwrite non-directory"), the archive is sent again without
// the directory headers its own entries imply, as Compose retries.
import { Readable } from 'node:stream';
import { lstat, readFile, readdir, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { posix } from 'node:path';
import type { Stats } from 'node:fs';
import { createReadStream } from 'node:fs';
import tar from 'tar-stream';
import { checkOk, readAll, query, type EngineClient } from '../../client/engine-client.ts';
import type { PathMapping } from './rules.ts';
import { execAndWait, serviceContainers } from './containers.ts';

interface Entry {
  hostPath: string;
  /** the name in the archive: the container path without its leading `/` */
  name: string;
  st: Stats;
  linkname?: string;
}

/** Files under this size are read whole before their header is written, so a file growing meanwhile cannot break the archive. */
const BUFFER_LIMIT = 5_000_000;

/**
 * Collects the archive's entries for the mappings that still exist on the host (`skip` leaves out
 * ignored paths inside a synced directory). Returns the entries and the container paths to delete.
 */
export async function collectEntries(mappings: readonly PathMapping[], skip: (hostPath: string) => boolean = () => false): Promise<{ entries: Entry[]; deletions: string[] }> {
  const entries: Entry[] = [];
  const deletions: string[] = [];
  for (const m of mappings) {
    if (m.containerPath === undefined) continue;
    let st: Stats;
    try {
      st = await stat(m.hostPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') {
        if (!deletions.includes(m.containerPath)) deletions.push(m.containerPath);
        continue;
      }
      throw new Error(`stat "${m.hostPath}": ${(err as Error).message}`);
    }
    const base = m.containerPath.replace(/^\/+/, '');
    entries.push({ hostPath: m.hostPath, name: base, st });
    if (st.isDirectory()) await walk(m.hostPath, base, entries, skip);
  }
  // last one wins for the same name, kept at its last position
  const last = new Map<string, number>();
  entries.forEach((e, i) => last.set(posix.normalize(e.name), i));
  return { entries: entries.filter((e, i) => last.get(posix.normalize(e.name)) === i), deletions };
}

async function walk(dir: string, name: string, out: Entry[], skip: (hostPath: string) => boolean): Promise<void> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  for (const n of names) {
    const hostPath = join(dir, n);
    if (skip(hostPath)) continue;
    let st: Stats;
    try {
      st = await lstat(hostPath);
    } catch {
      continue; // gone since readdir
    }
    const entry: Entry = { hostPath, name: posix.join(name, n), st };
    if (st.isSymbolicLink()) entry.linkname = await readlink(hostPath);
    out.push(entry);
    if (st.isDirectory()) await walk(hostPath, entry.name, out, skip);
  }
}

/** Removes the directory headers of directories the archive fills with entries anyway. */
export function withoutImpliedDirectories(entries: readonly Entry[]): Entry[] {
  const parents = new Set(entries.map((e) => posix.dirname(posix.normalize(e.name))));
  return entries.filter((e) => !(e.st.isDirectory() && parents.has(posix.normalize(e.name))));
}

/** The entries as a tar stream, written as it is read. Files that vanished meanwhile are left out. */
export function archive(entries: readonly Entry[]): Readable {
  const pack = tar.pack();
  void (async () => {
    try {
      for (const e of entries) {
        // directories end in `/`, as Go's tar headers (FileInfoHeader) name them
        const common = { name: e.st.isDirectory() ? `${e.name}/` : e.name, mode: e.st.mode & 0o7777, mtime: e.st.mtime, uid: e.st.uid, gid: e.st.gid };
        if (e.st.isDirectory()) await put(pack, { ...common, type: 'directory' });
        else if (e.st.isSymbolicLink()) await put(pack, { ...common, type: 'symlink', linkname: e.linkname ?? '' });
        else if (e.st.isFile()) {
          if (e.st.size < BUFFER_LIMIT) {
            let data: Buffer;
            try {
              data = await readFile(e.hostPath);
            } catch {
              continue; // removed since it was listed
            }
            await put(pack, { ...common, type: 'file', size: data.length }, data);
          } else {
            await new Promise<void>((resolve, reject) => {
              const sink = pack.entry({ ...common, type: 'file', size: e.st.size }, (err) => (err ? reject(err) : resolve()));
              const src = createReadStream(e.hostPath);
              src.on('error', reject);
              src.pipe(sink as unknown as NodeJS.WritableStream);
            });
          }
        }
        // sockets, fifos, devices: not archivable, skipped as Docker does
      }
      pack.finalize();
    } catch (err) {
      pack.destroy(err as Error);
    }
  })();
  return Readable.from(pack as AsyncIterable<Buffer>);
}

function put(pack: tar.Pack, header: tar.Header | (Partial<tar.Header> & { name: string }), data?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
    if (data) pack.entry(header, data, cb);
    else pack.entry(header, cb);
  });
}

async function untar(client: EngineClient, id: string, body: Readable): Promise<void> {
  const res = await client.raw('PUT', `/containers/${encodeURIComponent(id)}/archive${query({ path: '/', copyUIDGID: 'true' })}`, body, { 'Content-Type': 'application/x-tar' });
  await checkOk(res);
  await readAll(res);
}

/**
 * Syncs the mappings into every container of the service (stopped ones too, as Compose: the files
 * are there when it starts). Each container is tried; the failures are thrown together.
 */
export async function syncService(client: EngineClient, project: string, service: string, mappings: readonly PathMapping[], skip?: (hostPath: string) => boolean): Promise<void> {
  const containers = await serviceContainers(client, project, service, true);
  if (containers.length === 0) return;
  const { entries, deletions } = await collectEntries(mappings, skip);
  const errors: string[] = [];
  await Promise.all(containers.map(async (c) => {
    if (deletions.length) {
      try {
        await execAndWait(client, c.id, { cmd: ['rm', '-rf', ...deletions] });
      } catch (err) {
        errors.push(`deleting paths in ${c.id}: ${(err as Error).message}`);
      }
    }
    if (entries.length === 0) return;
    try {
      await untar(client, c.id, archive(entries));
    } catch (err) {
      if (!/cannot overwrite non-directory/.test((err as Error).message)) {
        errors.push(`copying files to ${c.id}: ${(err as Error).message}`);
        return;
      }
      try {
        await untar(client, c.id, archive(withoutImpliedDirectories(entries)));
      } catch (retryErr) {
        errors.push(`copying files to ${c.id}: ${(err as Error).message}\n${(retryErr as Error).message}`);
      }
    }
  }));
  if (errors.length) throw new Error(errors.join('\n'));
}
