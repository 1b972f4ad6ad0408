// A lock shared by every berthd on the host, for the few read-then-write steps on host-wide
// state (Berth's base iptables chains: two berthds starting together would both find them missing,
// and the second's `:CHAIN - [0:0]` restore flushes what the first put in them). A file created
// with O_EXCL holding the owner's pid; a file whose pid is gone is stale and taken over. Node has
// no flock(2), and the holders are short (one save and one restore).
import { open, readFile, rm, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM'; }
}

export async function withHostLock<T>(path: string, fn: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
  await mkdir(dirname(path), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fh = await open(path, 'wx', 0o600);
      try { await fh.writeFile(`${process.pid}`); } finally { await fh.close(); }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const text = (await readFile(path, 'utf8').catch(() => '')).trim();
      const pid = Number(text);
      // an empty file is a holder between open and write: wait for it like a live one
      if (text && (!pid || !alive(pid))) { await rm(path, { force: true }); continue; }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${path} (held by pid ${text || '?'})`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(path, { force: true });
  }
}
