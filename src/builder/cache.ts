// The build cache: a step's key (its parent image and what the step does, with the content hash
// of what it copies) → the image it made. Kept in <data-root>/builder/cache.json; an entry whose
// image has gone is ignored (and dropped at the next write).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { atomicWriteJson, ensureDir } from '../util/atomic-write.ts';

export class BuildCache {
  private entries = new Map<string, string>();
  private readonly file: string;
  private dirty = false;

  private constructor(file: string) {
    this.file = file;
  }

  static async open(dir: string): Promise<BuildCache> {
    await ensureDir(dir);
    const c = new BuildCache(join(dir, 'cache.json'));
    try {
      const data = JSON.parse(await readFile(c.file, 'utf8')) as Record<string, string>;
      for (const [k, v] of Object.entries(data)) c.entries.set(k, v);
    } catch { /* no cache yet */ }
    return c;
  }

  static key(parentId: string, step: string): string {
    return createHash('sha256').update(`${parentId}\n${step}`).digest('hex');
  }

  get(key: string, exists: (id: string) => boolean): string | undefined {
    const id = this.entries.get(key);
    if (id && exists(id)) return id;
    if (id) { this.entries.delete(key); this.dirty = true; }
    return undefined;
  }

  set(key: string, imageId: string): void {
    this.entries.set(key, imageId);
    this.dirty = true;
  }

  /** Written once per build, not per step. */
  async flush(exists: (id: string) => boolean): Promise<void> {
    if (!this.dirty) return;
    for (const [k, v] of this.entries) if (!exists(v)) this.entries.delete(k);
    await atomicWriteJson(this.file, Object.fromEntries(this.entries));
    this.dirty = false;
  }

  /** `docker builder prune`: forgets everything; returns how many entries there were. */
  async clear(): Promise<number> {
    const n = this.entries.size;
    this.entries.clear();
    await atomicWriteJson(this.file, {});
    return n;
  }
}
