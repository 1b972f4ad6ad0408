// One berthd per pidfile and per data root: a live owner refuses the start, a stale file
// (its pid gone) is replaced.
import { open, readFile, rm, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

export async function takePidfile(path: string, what = 'pid file'): Promise<() => Promise<void>> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o644);
      await fh.writeFile(`${process.pid}`);
      await fh.close();
      return async () => {
        const cur = (await readFile(path, 'utf8').catch(() => '')).trim();
        if (cur === String(process.pid)) await rm(path, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (pid && pid !== process.pid && alive(pid)) {
        throw new Error(`${what} found, ensure berthd is not running or delete ${path}`);
      }
      await rm(path, { force: true });
    }
  }
  throw new Error(`cannot take ${what} ${path}`);
}
