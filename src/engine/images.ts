// The image use cases the API serves; the store knows nothing of containers, so the usage
// check (which containers hold an image) is given to it here.
import type { Readable } from 'node:stream';
import { InvalidParameter, NotImplemented } from '../errors.ts';
import type { ImageStore, ImageRecord, ImageUsage, DeleteRecord } from '../image/store.ts';
import { parseReference, type Reference } from '../image/reference.ts';
import { applyChanges } from '../image/change-instructions.ts';

export type { ImageUsage, ImageRecord };

export class ImageService {
  readonly store: ImageStore;
  /** Which containers use an image (deletes and prunes leave those alone). */
  readonly usage: (imageId: string) => ImageUsage;

  constructor(store: ImageStore, usage: (imageId: string) => ImageUsage) {
    this.store = store;
    this.usage = usage;
  }

  /** `docker import`: repo may carry the tag (`repo=busybox:1`) or take it from `tag`. */
  async importRootfs(body: Readable, o: { fromSrc: string; repo?: string; tag?: string; changes: string[]; message?: string }): Promise<ImageRecord> {
    if (o.fromSrc !== '-') throw new NotImplemented('importing from a URL is not supported: this daemon has no network; pipe the archive instead');
    let ref: Reference | undefined;
    if (o.repo) {
      ref = parseReference(o.repo);
      if (o.tag) {
        if (ref.tag || ref.digest) throw new InvalidParameter('cannot give a tag both in repo and tag');
        ref = parseReference(`${o.repo}:${o.tag}`);
      }
    }
    const config = applyChanges({}, o.changes);
    return this.store.importRootfs(body, { config, comment: o.message || 'Imported from -', tag: ref });
  }

  async tag(source: string, repo: string, tag?: string): Promise<void> {
    const img = this.store.resolve(source);
    if (!repo) throw new InvalidParameter('repository name must have at least one component');
    const ref = parseReference(tag ? `${repo}:${tag}` : repo);
    await this.store.tag(img.id, ref);
  }

  remove(ref: string, force: boolean): Promise<DeleteRecord[]> {
    return this.store.remove(ref, { force, usage: this.usage });
  }
}
