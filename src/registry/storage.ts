// The registry's filesystem layout and every change made to it. Blobs are content-addressed and
// shared by all repositories; a repository only holds links saying which blobs and manifests it
// has and what its tags point to:
//
//   <root>/blobs/sha256/<hex>                                   blob and manifest bytes
//   <root>/repositories/<name>/_layers/sha256/<hex>             "this repo has that blob"
//   <root>/repositories/<name>/_manifests/revisions/sha256/<hex> {"mediaType": …} of a manifest
//   <root>/repositories/<name>/_manifests/tags/<tag>            the digest the tag points to
//   <root>/repositories/<name>/_referrers/sha256/<subject>/<hex> referrer descriptor (OCI 1.1)
//   <root>/uploads/<uuid>/{data,info.json}                      uploads in progress
//
// Name components never start with "_", so a repository's own dirs cannot collide with a nested
// repository's name. Upload lifecycle: start → append* → commit | cancel. Each upload is an
// image/content.ts ContentWriter (the image store's writer: the digest is computed while the
// bytes stream in, the hash state in memory beside the session), and commit verifies it, fsyncs
// the data and renames it into blobs/ (ContentStore) — a mismatch removes the upload and
// nothing becomes visible. Every link is written with atomicWrite (temp → fsync → rename → fsync
// dir), into directories whose own entries are fsynced when made (mkdirDurable), and only after
// the bytes it names are durable: a blob is fsynced, renamed and its directory fsynced before its
// repository link; a manifest's bytes before its revision link, and the revision before the tag.
// So a power cut never leaves a link to an empty blob. An upload that a restart orphans is
// unknown to clients and removed by gc. Failpoints (util/failpoint.ts) mark the steps.
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { atomicWrite } from '../util/atomic-write.ts';
import { mkdirDurable } from '../util/durable.ts';
import { failpoint } from '../util/failpoint.ts';
import { KeyedMutex } from '../util/keyed-mutex.ts';
import { RegistryError, blobUnknown, digestInvalid, manifestUnknown, uploadUnknown } from './errors.ts';
import { isTag } from './names.ts';
import { hexOf } from '../util/ids.ts';
import type { Descriptor } from '../types/oci-distribution.ts';
import { ContentStore, ContentWriter } from '../image/content.ts';

/** Streams move in large pieces: a 4 MiB write costs what a 64 KiB one does. */
export const STREAM_HWM = 4 << 20;

export interface UploadSession {
  uuid: string;
  name: string;
  /** Bytes appended so far (the writer's count). */
  readonly size: number;
  writer: ContentWriter;
  startedAt: number;
  touchedAt: number;
}

export interface StoredManifest {
  digest: string;
  mediaType: string;
  bytes: Buffer;
}

const exists = async (p: string): Promise<boolean> => stat(p).then(() => true, () => false);
const isNotFound = (err: unknown): boolean => (err as NodeJS.ErrnoException).code === 'ENOENT';

export class RegistryStorage {
  readonly root: string;
  private readonly blobs: ContentStore;
  private sessions = new Map<string, UploadSession>();
  private uploadLock = new KeyedMutex();

  constructor(root: string) {
    this.root = root;
    this.blobs = new ContentStore(join(root, 'blobs', 'sha256'));
  }

  async init(): Promise<void> {
    for (const d of ['blobs/sha256', 'repositories', 'uploads']) await mkdirDurable(join(this.root, d), 0o755);
  }

  blobPath(digest: string): string { return join(this.root, 'blobs', 'sha256', hexOf(digest)); }
  repoDir(name: string): string { return join(this.root, 'repositories', ...name.split('/')); }
  private layerLink(name: string, digest: string): string { return join(this.repoDir(name), '_layers', 'sha256', hexOf(digest)); }
  private revisionLink(name: string, digest: string): string { return join(this.repoDir(name), '_manifests', 'revisions', 'sha256', hexOf(digest)); }
  private tagsDir(name: string): string { return join(this.repoDir(name), '_manifests', 'tags'); }
  private referrersDir(name: string, subject: string): string { return join(this.repoDir(name), '_referrers', 'sha256', hexOf(subject)); }
  private uploadDir(uuid: string): string { return join(this.root, 'uploads', uuid); }

  private async link(path: string, content: string): Promise<void> {
    await mkdirDurable(join(path, '..'), 0o755);
    await atomicWrite(path, content, 0o644);
  }

  async repoExists(name: string): Promise<boolean> {
    const dir = this.repoDir(name);
    return (await exists(join(dir, '_manifests'))) || (await exists(join(dir, '_layers')));
  }

  // ---- blobs ----

  /** The size of a blob the repository holds, or a BLOB_UNKNOWN error. */
  async statBlob(name: string, digest: string): Promise<number> {
    if (!(await exists(this.layerLink(name, digest)))) throw blobUnknown(digest);
    try {
      return (await stat(this.blobPath(digest))).size;
    } catch (err) {
      if (isNotFound(err)) throw blobUnknown(digest);
      throw err;
    }
  }

  async hasBlob(name: string, digest: string): Promise<boolean> {
    return this.statBlob(name, digest).then(() => true, () => false);
  }

  /** Unlinks a blob from one repository; the bytes stay until gc finds nothing referring to them. */
  async deleteBlob(name: string, digest: string): Promise<void> {
    await this.statBlob(name, digest);
    await rm(this.layerLink(name, digest), { force: true });
  }

  /** Cross-repository mount: links a blob `from` holds into `name`. False when there is nothing to mount. */
  async mountBlob(name: string, from: string, digest: string): Promise<boolean> {
    if (!(await this.hasBlob(from, digest))) return false;
    await this.link(this.layerLink(name, digest), digest);
    return true;
  }

  // ---- uploads ----

  async startUpload(name: string): Promise<UploadSession> {
    const uuid = randomUUID();
    const dir = this.uploadDir(uuid);
    await mkdir(dir, { recursive: true, mode: 0o755 });
    const now = Date.now();
    await writeFile(join(dir, 'info.json'), JSON.stringify({ name, startedAt: new Date(now).toISOString() }));
    await writeFile(join(dir, 'data'), '');
    const writer = new ContentWriter(join(dir, 'data'), { highWaterMark: STREAM_HWM });
    const s: UploadSession = { uuid, name, get size() { return writer.size; }, writer, startedAt: now, touchedAt: now };
    this.sessions.set(uuid, s);
    return s;
  }

  session(name: string, uuid: string): UploadSession {
    const s = this.sessions.get(uuid);
    if (!s || s.name !== name) throw uploadUnknown(uuid);
    return s;
  }

  /**
   * Appends a body to an upload, hashing it on the way to disk. `start` (from a Content-Range)
   * must be where the upload ends now, or the client gets 416 with the range the server holds.
   * A body that breaks off leaves the hash ahead of the file, so such an upload is dropped.
   */
  async appendUpload(s: UploadSession, body: Readable, start?: number): Promise<void> {
    await this.uploadLock.run(s.uuid, async () => {
      if (this.sessions.get(s.uuid) !== s) throw uploadUnknown(s.uuid);
      if (start !== undefined && start !== s.size) {
        body.resume();
        throw new RegistryError('RANGE_INVALID', 'requested range not satisfiable', {
          detail: { offset: s.size, requested: start }, headers: { Range: `0-${Math.max(0, s.size - 1)}`, 'Docker-Upload-UUID': s.uuid },
        });
      }
      try {
        await s.writer.append(body);
      } catch (err) {
        await this.dropUpload(s.uuid);
        throw err;
      }
      s.touchedAt = Date.now();
      failpoint('registry-upload-appended');
    });
  }

  /**
   * Finishes an upload: appends the last body, checks the streamed digest against the one the
   * client named, and only then makes the blob visible (fsync, rename into blobs/, link in repo).
   */
  async commitUpload(s: UploadSession, digest: string, body?: Readable): Promise<number> {
    if (body) await this.appendUpload(s, body);
    return this.uploadLock.run(s.uuid, async () => {
      if (this.sessions.get(s.uuid) !== s) throw uploadUnknown(s.uuid);
      this.sessions.delete(s.uuid);
      const dir = this.uploadDir(s.uuid);
      try {
        // An intact copy (same digest, so same size) stays; one cut short before writes were durable is replaced.
        await s.writer.commit(this.blobs, { digest }, (got) => digestInvalid('provided digest did not match uploaded content', { expected: digest, actual: got.digest }), 'registry-blob-committed');
        await this.link(this.layerLink(s.name, digest), digest);
        return s.size;
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }

  async cancelUpload(s: UploadSession): Promise<void> {
    await this.uploadLock.run(s.uuid, () => this.dropUpload(s.uuid));
  }

  private async dropUpload(uuid: string): Promise<void> {
    this.sessions.delete(uuid);
    await rm(this.uploadDir(uuid), { recursive: true, force: true });
  }

  /** Drops uploads nobody touched for maxIdleMs (clients that went away mid-push). */
  async expireUploads(maxIdleMs: number): Promise<void> {
    const limit = Date.now() - maxIdleMs;
    for (const s of [...this.sessions.values()]) if (s.touchedAt < limit) await this.cancelUpload(s);
  }

  // ---- manifests and tags ----

  async resolve(name: string, ref: { tag?: string; digest?: string }): Promise<string> {
    if (ref.digest) return ref.digest;
    try {
      return (await readFile(join(this.tagsDir(name), ref.tag!), 'utf8')).trim();
    } catch (err) {
      if (isNotFound(err)) throw manifestUnknown(ref.tag!);
      throw err;
    }
  }

  /** The manifest's media type if the repository holds that revision, else undefined. */
  async manifestMediaType(name: string, digest: string): Promise<string | undefined> {
    try {
      return (JSON.parse(await readFile(this.revisionLink(name, digest), 'utf8')) as { mediaType: string }).mediaType;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async getManifest(name: string, ref: { tag?: string; digest?: string }): Promise<StoredManifest> {
    const digest = await this.resolve(name, ref);
    const mediaType = await this.manifestMediaType(name, digest);
    if (mediaType === undefined) throw manifestUnknown(ref.tag ?? digest);
    try {
      return { digest, mediaType, bytes: await readFile(this.blobPath(digest)) };
    } catch (err) {
      if (isNotFound(err)) throw manifestUnknown(ref.tag ?? digest);
      throw err;
    }
  }

  /** Stores verified manifest bytes, links the revision, then moves the tag (if any) to it. */
  async putManifest(name: string, m: StoredManifest, tag?: string, referrer?: { subject: string; descriptor: Descriptor }): Promise<void> {
    const target = this.blobPath(m.digest);
    // A copy of other bytes under this name (cut short before writes were durable) is replaced.
    const have = await readFile(target).catch(() => undefined);
    if (!have || !have.equals(m.bytes)) await atomicWrite(target, m.bytes, 0o644);
    failpoint('registry-manifest-stored');
    await this.link(this.revisionLink(name, m.digest), JSON.stringify({ mediaType: m.mediaType }));
    if (referrer) await this.link(join(this.referrersDir(name, referrer.subject), hexOf(m.digest)), JSON.stringify(referrer.descriptor));
    failpoint('registry-manifest-linked');
    if (tag) await this.link(join(this.tagsDir(name), tag), m.digest);
  }

  /** Deletes a manifest revision and every tag that points to it (the CNCF registry does the same). */
  async deleteManifest(name: string, digest: string): Promise<void> {
    const { bytes } = await this.getManifest(name, { digest });
    for (const tag of await this.tags(name)) {
      if ((await this.resolve(name, { tag }).catch(() => '')) === digest) await rm(join(this.tagsDir(name), tag), { force: true });
    }
    try {
      const subject = (JSON.parse(bytes.toString('utf8')) as { subject?: { digest?: string } }).subject?.digest;
      if (subject && /^sha256:[a-f0-9]{64}$/.test(subject)) await rm(join(this.referrersDir(name, subject), hexOf(digest)), { force: true });
    } catch { /* stored manifests parsed when pushed; nothing to unlink otherwise */ }
    await rm(this.revisionLink(name, digest), { force: true });
  }

  async deleteTag(name: string, tag: string): Promise<void> {
    await this.resolve(name, { tag });
    await rm(join(this.tagsDir(name), tag), { force: true });
  }

  /** Tags in lexical order (the spec's order for pagination). */
  async tags(name: string): Promise<string[]> {
    try {
      return (await readdir(this.tagsDir(name))).filter(isTag).sort();
    } catch (err) {
      if (isNotFound(err)) return [];
      throw err;
    }
  }

  async referrers(name: string, subject: string): Promise<Descriptor[]> {
    const dir = this.referrersDir(name, subject);
    let entries: string[];
    try { entries = await readdir(dir); } catch (err) { if (isNotFound(err)) return []; throw err; }
    const out: Descriptor[] = [];
    for (const e of entries.filter((n) => /^[a-f0-9]{64}$/.test(n)).sort()) {
      try { out.push(JSON.parse(await readFile(join(dir, e), 'utf8')) as Descriptor); } catch { /* removed meanwhile */ }
    }
    return out;
  }

  /** Every repository name, in lexical order: dirs holding _manifests or _layers. */
  async catalog(): Promise<string[]> {
    const out: string[] = [];
    const walk = async (dir: string, prefix: string): Promise<void> => {
      let entries;
      try { entries = await readdir(dir, { withFileTypes: true }); } catch { return; }
      if (prefix && entries.some((e) => e.name === '_manifests' || e.name === '_layers')) out.push(prefix);
      for (const e of entries) {
        if (e.isDirectory() && !e.name.startsWith('_') && !e.name.startsWith('.')) await walk(join(dir, e.name), prefix ? `${prefix}/${e.name}` : e.name);
      }
    };
    await walk(join(this.root, 'repositories'), '');
    return out.sort();
  }
}
