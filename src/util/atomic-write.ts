// The one path by which Berth writes metadata: temp file → fsync → rename → fsync dir.
// A crash at any point leaves either the old file or the new one, never a torn one.
import { open, rename, rm, mkdir } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';

export async function atomicWrite(path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'w', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dir);
}

export async function atomicWriteJson(path: string, value: unknown, mode = 0o600): Promise<void> {
  await atomicWrite(path, JSON.stringify(value), mode);
}

export async function fsyncDir(dir: string): Promise<void> {
  const dh = await open(dir, 'r');
  try { await dh.sync(); } finally { await dh.close(); }
}

export async function ensureDir(dir: string, mode = 0o700): Promise<void> {
  await mkdir(dir, { recursive: true, mode });
}

/**
 * Writes of a file one at a time, each of the value as it is when that write starts. Concurrent
 * atomicWrite calls of one file can rename out of order and leave an older value on disk — lost
 * after a crash although every caller saw its own write succeed.
 */
export function serialJsonWriter(): (path: string, value: () => unknown) => Promise<void> {
  const chains = new Map<string, Promise<void>>();
  return (path, value) => {
    const next = (chains.get(path) ?? Promise.resolve()).catch(() => {}).then(() => atomicWriteJson(path, value()));
    chains.set(path, next);
    next.finally(() => { if (chains.get(path) === next) chains.delete(path); }).catch(() => {});
    return next;
  };
}
