// `docker diff`: what a container's writable (upper) layer changed against the image's layers.
// Kind 0 = modified, 1 = added, 2 = deleted (overlay marks deletions with 0:0 char devices).
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export interface Change { Path: string; Kind: 0 | 1 | 2 }

/** Mountpoints runc creates for Docker's per-container files: Docker keeps them in an init layer, out of the diff. */
export const initPaths = new Set(['/etc/hostname', '/etc/hosts', '/etc/resolv.conf', '/etc/mtab', '/dev', '/dev/pts', '/dev/shm',
  '/dev/mqueue', '/dev/console', '/proc', '/sys', '/.dockerenv']);

async function inLower(lowers: string[], rel: string): Promise<boolean> {
  for (const l of lowers) {
    if (await lstat(join(l, rel)).then(() => true, () => false)) return true;
  }
  return false;
}

/** The same, relative (no leading slash): what a committed layer leaves out. */
export const initPathsRelative = new Set([...initPaths].map((p) => p.slice(1)));

export async function diffChanges(upper: string, lowers: string[]): Promise<Change[]> {
  const out: Change[] = [];
  const walk = async (rel: string): Promise<{ any: boolean; init: boolean }> => {
    let any = false;
    let init = false;
    const names = await readdir(join(upper, rel)).catch(() => [] as string[]);
    for (const n of names.sort()) {
      const r = `${rel}/${n}`;
      if (initPaths.has(r)) { init = true; continue; }
      const st = await lstat(join(upper, r));
      if (st.isCharacterDevice() && st.rdev === 0) {
        out.push({ Path: r, Kind: 2 });
        any = true;
        continue;
      }
      const existed = await inLower(lowers, r);
      if (st.isDirectory()) {
        const idx = out.length;
        const child = await walk(r);
        // A directory that is only in upper because of init mountpoints is not a change.
        if (child.any || (!existed && !child.init)) {
          out.splice(idx, 0, { Path: r, Kind: existed ? 0 : 1 });
          any = true;
        }
        continue;
      }
      out.push({ Path: r, Kind: existed ? 0 : 1 });
      any = true;
    }
    return { any, init };
  };
  await walk('');
  return out;
}
