// What the image store knows of a layer's compressed forms, for push to reuse:
//   <data-root>/image/distribution/<diff hex>.json   {tarSize, blobs: [{digest, mediaType, size, repos}]}
// one per layer diff ID: its plain tar size and each compressed blob known for it (pulled, or made
// by a push) with the repositories (`host/path`) seen holding it. The blobs themselves are in the
// content store; a record is written (atomically) only after the blob it names is committed.
import { createReadStream, existsSync } from 'node:fs';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { NotFound } from '../errors.ts';
import { atomicWriteJson } from '../util/atomic-write.ts';
import type { DurableIo } from '../util/durable.ts';
import type { Quarantine } from '../util/quarantine.ts';
import { decompress } from './archive/index.ts';
import type { ContentStore } from './content.ts';
import { hexOf } from '../util/ids.ts';

/** A compressed form of a layer, and the repositories (`host/path`) known to hold it. */
export interface BlobRef { digest: string; mediaType: string; size: number; repos: string[] }

/** distribution/<diff hex>.json */
export interface DiffRecord { tarSize: number; blobs: BlobRef[] }

export class BlobRecords {
  /** `<data-root>/image/distribution` */
  readonly dir: string;
  private readonly content: ContentStore;
  private readonly io: DurableIo;
  private diffs = new Map<string, DiffRecord>();

  constructor(dir: string, content: ContentStore, io: DurableIo) {
    this.dir = dir;
    this.content = content;
    this.io = io;
  }

  /** The record's file. */
  file(diffId: string): string { return join(this.dir, `${hexOf(diffId)}.json`); }

  /** A record as on disk (start-up, before load() has read them). */
  readOnDisk(diffId: string): Promise<DiffRecord | undefined> {
    return readFile(this.file(diffId), 'utf8').then((t) => JSON.parse(t) as DiffRecord, () => undefined);
  }

  /** Reads the records at start-up; blobs no longer in the content store are dropped from them. */
  async load(q: Quarantine): Promise<void> {
    for (const f of await readdir(this.dir)) {
      if (f.startsWith('.') && f.endsWith('.tmp')) { await rm(join(this.dir, f), { force: true }); continue; }
      if (!f.endsWith('.json')) continue;
      try {
        const rec = JSON.parse(await readFile(join(this.dir, f), 'utf8')) as DiffRecord;
        if (!Array.isArray(rec.blobs)) throw new Error('no blobs list');
        rec.blobs = rec.blobs.filter((b) => existsSync(this.content.path(b.digest)));
        this.diffs.set(`sha256:${f.slice(0, -5)}`, rec);
      } catch (err) { await q.move(join(this.dir, f), `blob record unreadable: ${(err as Error).message}`); }
    }
  }

  /** Remembers a compressed form of a layer (pulled, or made for a push) and where it was seen. */
  async record(diffId: string, blob: BlobRef, tarSize?: number): Promise<void> {
    const rec = this.diffs.get(diffId) ?? { tarSize: tarSize ?? (await stat(this.content.path(diffId))).size, blobs: [] };
    const known = rec.blobs.find((b) => b.digest === blob.digest);
    if (known) {
      for (const r of blob.repos) if (!known.repos.includes(r)) known.repos.push(r);
    } else if (blob.digest !== diffId) {
      rec.blobs.push({ ...blob, repos: [...blob.repos] });
    }
    this.diffs.set(diffId, rec);
    await atomicWriteJson(this.file(diffId), rec, 0o600, this.io);
  }

  /** The compressed blobs known for a layer, each with the file that holds it. */
  compressed(diffId: string): (BlobRef & { path: string })[] {
    return (this.diffs.get(diffId)?.blobs ?? []).map((b) => ({ ...b, path: this.content.path(b.digest) }));
  }

  /** A layer as an uncompressed tar: the blob kept for it, or its compressed form decompressed. */
  async layerTar(diffId: string): Promise<{ size: number; open: () => Promise<Readable> }> {
    const plain = this.content.path(diffId);
    if (await this.content.has(diffId)) return { size: (await stat(plain)).size, open: async () => createReadStream(plain, { highWaterMark: 1024 * 1024 }) };
    const rec = this.diffs.get(diffId);
    const blob = rec?.blobs[0];
    if (!rec || !blob) throw new NotFound(`layer ${diffId} has no blob on disk`);
    const path = this.content.path(blob.digest);
    return { size: rec.tarSize, open: () => decompress(createReadStream(path, { highWaterMark: 1024 * 1024 })) };
  }

  /** Removes a layer's blobs (plain and compressed) and its record. */
  async remove(diffId: string): Promise<void> {
    await this.content.remove(diffId);
    for (const b of this.diffs.get(diffId)?.blobs ?? []) await this.content.remove(b.digest);
    this.diffs.delete(diffId);
    await rm(this.file(diffId), { force: true });
  }
}
