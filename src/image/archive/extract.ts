// Applies a layer tar to a directory with the OCI image-spec's semantics: regular files,
// dirs, symlinks, hard links, devices and fifos with their modes, owners and mtimes, and
// whiteouts (`.wh.NAME` → overlay's 0:0 char device, `.wh..wh..opq` → trusted.overlay.opaque)
// so that the directory works as an overlay lowerdir. Paths never leave the directory.
import { createWriteStream } from 'node:fs';
import { mkdir, symlink, link, chown, lchown, chmod, utimes, lutimes, rm, lstat } from 'node:fs/promises';
import { join, dirname, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { InvalidParameter } from '../../errors.ts';
import { run } from '../../sys/exec.ts';
import { cleanEntryName, SymlinkGuard } from './safe-path.ts';

export interface ApplyResult { size: number; entries: number }

const WH = '.wh.';
const OPAQUE = '.wh..wh..opq';

/** Extracts an uncompressed tar stream into `dir` (which must exist and be empty or a layer in progress). */
export async function applyLayer(input: Readable, dir: string): Promise<ApplyResult> {
  const extract = tar.extract();
  const guard = new SymlinkGuard();
  const dirTimes: { path: string; mtime: Date }[] = [];
  const special: string[][] = [];
  let size = 0;
  let entries = 0;
  // The feeding side's failure is kept, not rethrown: the loop below may be awaiting a file
  // when it happens, and a rejected promise nobody awaits yet would crash the daemon.
  let feedErr: Error | undefined;
  const feed = pipeline(input, extract).catch((e: Error) => { feedErr = e; extract.destroy(e); });
  try {
    for await (const entry of extract) {
      const h = entry.header;
      entries++;
      let name: string;
      try {
        name = cleanEntryName(h.name);
      } catch (err) {
        entry.resume();
        throw err;
      }
      if (name === '') { entry.resume(); continue; }
      guard.check(name);
      const target = join(dir, name);
      const base = posix.basename(name);
      const parent = dirname(target);
      await mkdir(parent, { recursive: true });
      if (base === OPAQUE) {
        entry.resume();
        special.push(['setfattr', '-n', 'trusted.overlay.opaque', '-v', 'y', parent]);
        continue;
      }
      if (base.startsWith(WH)) {
        entry.resume();
        const hidden = join(parent, base.slice(WH.length));
        await rm(hidden, { recursive: true, force: true });
        special.push(['mknod', hidden, 'c', '0', '0']);
        continue;
      }
      // A later entry replaces an earlier one of the same name (tar semantics), but a
      // directory stays a directory.
      const existing = await lstat(target).catch(() => undefined);
      if (existing && !(existing.isDirectory() && h.type === 'directory')) {
        await rm(target, { recursive: true, force: true });
        guard.remove(name);
      }
      const mode = (h.mode ?? 0o644) & 0o7777;
      const mtime = h.mtime ?? new Date(0);
      switch (h.type) {
        case 'directory':
          entry.resume();
          await mkdir(target, { recursive: true });
          await chown(target, h.uid ?? 0, h.gid ?? 0);
          await chmod(target, mode);
          dirTimes.push({ path: target, mtime });
          break;
        case 'file':
        case 'contiguous-file':
          await pipeline(entry, createWriteStream(target, { mode }));
          await chown(target, h.uid ?? 0, h.gid ?? 0);
          await chmod(target, mode);
          await utimes(target, mtime, mtime);
          size += h.size ?? 0;
          break;
        case 'symlink':
          entry.resume();
          await symlink(h.linkname ?? '', target);
          await lchown(target, h.uid ?? 0, h.gid ?? 0);
          await lutimes(target, mtime, mtime).catch(() => {});
          guard.add(name);
          break;
        case 'link': {
          entry.resume();
          const src = cleanEntryName(h.linkname ?? '');
          guard.check(src);
          await link(join(dir, src), target).catch((e: Error) => {
            throw new InvalidParameter(`invalid hard link ${JSON.stringify(h.name)} → ${JSON.stringify(h.linkname)}: ${e.message}`);
          });
          break;
        }
        case 'character-device':
        case 'block-device':
          entry.resume();
          special.push(['mknod', '-m', mode.toString(8), target, h.type === 'block-device' ? 'b' : 'c', String(h.devmajor ?? 0), String(h.devminor ?? 0)]);
          special.push(['chown', `${h.uid ?? 0}:${h.gid ?? 0}`, target]);
          break;
        case 'fifo':
          entry.resume();
          special.push(['mkfifo', '-m', mode.toString(8), target]);
          special.push(['chown', `${h.uid ?? 0}:${h.gid ?? 0}`, target]);
          break;
        default:
          entry.resume();
      }
    }
    await feed;
    if (feedErr) throw feedErr;
  } catch (err) {
    extract.destroy();
    await feed;
    if (err instanceof InvalidParameter) throw err;
    throw new InvalidParameter(`invalid tar archive: ${(err as Error).message}`, { cause: err });
  }
  // Devices, fifos and whiteouts need syscalls Node lacks: one spawn each, in archive order.
  for (const argv of special) await run(argv[0]!, argv.slice(1));
  for (const d of dirTimes.reverse()) await utimes(d.path, d.mtime, d.mtime).catch(() => {});
  return { size, entries };
}
