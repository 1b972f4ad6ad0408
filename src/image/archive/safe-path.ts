// Where a tar entry may land: inside the target directory only. Entry names are normalised,
// `..` escapes are refused, and a path under a symlink the same archive planted is refused,
// so a hostile layer cannot write outside its directory.
import { posix } from 'node:path';
import { InvalidParameter } from '../../errors.ts';

export function cleanEntryName(name: string): string {
  const n = posix.normalize(name.replace(/^\/+/, '') || '.').replace(/\/+$/, '').replace(/^\.$/, '');
  if (n === '..' || n.startsWith('../')) throw new InvalidParameter(`invalid tar entry ${JSON.stringify(name)}: path escapes the archive`);
  return n;
}

export class SymlinkGuard {
  private links = new Set<string>();

  add(path: string): void { this.links.add(path); }
  remove(path: string): void { this.links.delete(path); }

  /** Throws when any parent of `path` is a symlink this archive created. */
  check(path: string): void {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      if (this.links.has(prefix)) {
        throw new InvalidParameter(`invalid tar entry ${JSON.stringify(path)}: refusing to write through symlink ${prefix}`);
      }
    }
  }
}
