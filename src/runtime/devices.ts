// Host device nodes for `--device` and `--privileged`: what the OCI spec needs to create them in
// the container's /dev and to allow them in the devices cgroup.
import { lstatSync, readdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import type { LinuxDevice } from '../types/oci-runtime.ts';

function major(rdev: number): number { return ((rdev >> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff); }
function minor(rdev: number): number { return (rdev & 0xff) | ((rdev >> 12) & ~0xff); }

/** The device node at `path` on the host (symlinks followed), or undefined if it is none. */
export function hostDevice(path: string, containerPath = path): LinuxDevice | undefined {
  let st;
  try { st = lstatSync(realpathSync(path)); } catch { return undefined; }
  if (!st.isCharacterDevice() && !st.isBlockDevice()) return undefined;
  return {
    path: containerPath, type: st.isCharacterDevice() ? 'c' : 'b', major: major(st.rdev), minor: minor(st.rdev),
    fileMode: st.mode & 0o777, uid: st.uid, gid: st.gid,
  };
}

/** Every device under the host's /dev but the ones a container has of its own (pts, shm, mqueue). */
export function hostDevices(): LinuxDevice[] {
  const out: LinuxDevice[] = [];
  const walk = (dir: string): void => {
    let names: string[];
    try { names = readdirSync(dir); } catch { return; }
    for (const n of names) {
      const p = join(dir, n);
      if (['/dev/pts', '/dev/shm', '/dev/mqueue', '/dev/console', '/dev/ptmx'].includes(p)) continue;
      let st;
      try { st = lstatSync(p); } catch { continue; }
      if (st.isDirectory()) { walk(p); continue; }
      const d = st.isCharacterDevice() || st.isBlockDevice() ? hostDevice(p) : undefined;
      if (d) out.push(d);
    }
  };
  walk('/dev');
  return out;
}
