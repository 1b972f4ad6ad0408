// The one path by which Berth writes metadata: temp file → fsync → rename → fsync dir.
// A crash at any point leaves either the old file or the new one, never a torn one; and once it
// returns, a power cut cannot take the new file back (the directory entry is on disk too).
import { open, rm, mkdir } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { nodeIo, type DurableIo } from './durable.ts';

export async function atomicWrite(path: string, data: string | Uint8Array, mode = 0o600, io: DurableIo = nodeIo): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await io.writeFile(tmp, data, mode, true);
    await io.rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await io.fsyncDir(dir);
}

export async function atomicWriteJson(path: string, value: unknown, mode = 0o600, io: DurableIo = nodeIo): Promise<void> {
  await atomicWrite(path, JSON.stringify(value), mode, io);
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
export function serialJsonWriter(io: DurableIo = nodeIo): (path: string, value: () => unknown) => Promise<void> {
  const chains = new Map<string, Promise<void>>();
  return (path, value) => {
    const next = (chains.get(path) ?? Promise.resolve()).catch(() => {}).then(() => atomicWriteJson(path, value(), 0o600, io));
    chains.set(path, next);
    next.finally(() => { if (chains.get(path) === next) chains.delete(path); }).catch(() => {});
    return next;
  };
}
