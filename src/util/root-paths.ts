// Paths inside a container's root filesystem, resolved the way the container would see them:
// symlinks, absolute or relative, are followed within the root and never lead out of it.
import { lstat, readlink } from 'node:fs/promises';
import { posix, join } from 'node:path';
import { InvalidParameter } from '../errors.ts';

const MAX_LINKS = 255;

/**
 * Resolves `path` (absolute in the container) under `root` following symlinks within the root,
 * except a final symlink when `followLast` is false. Returns the container path it ends at.
 */
export async function resolveInRoot(root: string, path: string, followLast: boolean): Promise<string> {
  let todo = posix.normalize(`/${path}`).split('/').filter(Boolean);
  let cur = '/';
  let hops = 0;
  while (todo.length) {
    const part = todo.shift()!;
    if (part === '.') continue;
    if (part === '..') { cur = posix.dirname(cur); continue; }
    const next = posix.join(cur, part);
    const st = await lstat(join(root, next)).catch(() => undefined);
    if (!st?.isSymbolicLink() || (!followLast && todo.length === 0)) { cur = next; continue; }
    if (++hops > MAX_LINKS) throw new InvalidParameter(`too many levels of symbolic links in ${path}`);
    const target = await readlink(join(root, next));
    todo = [...target.split('/').filter(Boolean), ...todo];
    if (target.startsWith('/')) cur = '/';
  }
  return cur;
}

