// The image use cases the API serves; the store knows nothing of containers, so the usage
// check (which containers hold an image) is given to it here.
import type { Readable } from 'node:stream';
import { InvalidParameter, NotImplemented } from '../errors.ts';
import type { ImageStore, ImageRecord, ImageUsage, DeleteRecord, HistoryRow } from '../image/store.ts';
import { listImages, type Filters } from './filters.ts';
import { parseReference, familiarString, type Reference } from '../image/reference.ts';
import { applyChanges } from '../image/change-instructions.ts';
import type { Logger } from '../util/log.ts';
import type { AuthConfig } from '../types/auth-config.ts';
import { pull, inspectRemote } from '../distribution/pull.ts';
import { push } from '../distribution/push.ts';
import { RegistryClient } from '../distribution/client.ts';
import { isInsecure, loginHost, checkRegistrySettings, type RegistrySettings } from '../distribution/endpoints.ts';

export { checkRegistrySettings };
import type { Progress } from '../distribution/progress.ts';

export type { ImageUsage, ImageRecord, Progress, RegistrySettings, HistoryRow };
import type { EventLog } from './events.ts';

export class ImageService {
  readonly store: ImageStore;
  /** Which containers use an image (deletes and prunes leave those alone). */
  readonly usage: (imageId: string) => ImageUsage;

  private registry: RegistrySettings;
  private readonly log: Logger;
  /** Where image events go (set by the engine). */
  events?: EventLog;

  /** An image event: Actor.ID is the image ID or the reference, `name` the reference. */
  emit(action: string, id: string, name?: string): void {
    this.events?.emit('image', action, id, name ? { name } : {});
  }

  constructor(store: ImageStore, usage: (imageId: string) => ImageUsage, registry: RegistrySettings, log: Logger) {
    this.store = store;
    this.usage = usage;
    this.registry = registry;
    this.log = log;
  }

  /** SIGHUP: insecure-registries and registry-mirrors apply to pulls and pushes started from now on. */
  setRegistrySettings(s: RegistrySettings): void {
    this.registry = s;
  }

  /** `docker pull`: fromImage is a name (tag apart) as the CLI sends it; tag may be a digest. */
  async pull(fromImage: string, tag: string | undefined, o: { platform?: string; auth?: AuthConfig; progress: Progress }): Promise<ImageRecord> {
    let ref = parseReference(fromImage);
    if (tag) {
      if (ref.tag || ref.digest) throw new InvalidParameter('cannot give a tag or digest both in fromImage and tag');
      ref = parseReference(tag.startsWith('sha256:') ? `${fromImage}@${tag}` : `${fromImage}:${tag}`);
    }
    if (!ref.tag && !ref.digest) ref = { ...ref, tag: 'latest' };
    const img = await pull({ ref, platform: o.platform, auth: o.auth, settings: this.registry, store: this.store, progress: o.progress, log: this.log });
    this.emit('pull', familiarString(ref), familiarString(ref));
    return img;
  }

  /** `GET /distribution/{name}/json` (docker buildx imagetools, docker service): asks the registry. */
  inspectRemote(name: string, auth?: AuthConfig): ReturnType<typeof inspectRemote> {
    let ref = parseReference(name);
    if (!ref.tag && !ref.digest) ref = { ...ref, tag: 'latest' };
    return inspectRemote({ ref, auth, settings: this.registry });
  }

  /** `docker push`: name without tag pushes every tag of the repository. */
  async push(name: string, tag: string | undefined, o: { auth?: AuthConfig; progress: Progress }): Promise<void> {
    let ref = parseReference(name);
    if (ref.digest) throw new InvalidParameter('cannot push a digest reference');
    if (tag) {
      if (ref.tag) throw new InvalidParameter('cannot give a tag both in the name and in tag');
      ref = parseReference(`${name}:${tag}`);
    }
    await push({ ref, auth: o.auth, settings: this.registry, store: this.store, progress: o.progress, log: this.log });
    this.emit('push', familiarString(ref), familiarString(ref));
  }

  /** `docker login`: checks the credentials against the registry; Berth stores nothing. */
  async login(auth: AuthConfig): Promise<void> {
    const host = loginHost(auth.serveraddress);
    await new RegistryClient(host, '', { insecure: isInsecure(host, this.registry), certsDir: this.registry.certsDir, auth }).login();
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
    const img = await this.store.importRootfs(body, { config, comment: o.message || 'Imported from -', tag: ref });
    this.emit('import', img.id);
    return img;
  }

  /** An image by ID, unique ID prefix or reference (NotFound: `No such image`). */
  resolve(ref: string): ImageRecord {
    return this.store.resolve(ref);
  }

  /** The images built directly on this one. */
  children(id: string): string[] {
    return this.store.children(id);
  }

  /** `docker images`: newest first, with only the references the filters keep (filters.ts). */
  list(opts: { all: boolean; filters: Filters }): ImageRecord[] {
    return listImages(this.store, opts);
  }

  /** The image's layer directories, top first (inspect's GraphDriver). */
  layerDirs(id: string): string[] {
    return this.store.layerDirs(id);
  }

  /** `docker history`, newest first. */
  history(ref: string): HistoryRow[] {
    return this.store.history(ref);
  }

  /** `docker save`: the archive of these images; a save event for each once the archive is under way. */
  save(refs: string[]): Readable {
    const tar = this.store.save(refs);
    for (const n of refs) this.emit('save', this.store.resolve(n).id, n);
    return tar;
  }

  /** `docker load`: the store's lines (`Loaded image: …`), with a load event for each. */
  async load(body: Readable): Promise<string[]> {
    const { loaded } = await this.store.load(body);
    for (const l of loaded) this.emit('load', l.replace(/^Loaded image( ID)?: /, ''));
    return loaded;
  }

  async tag(source: string, repo: string, tag?: string): Promise<void> {
    const img = this.store.resolve(source);
    if (!repo) throw new InvalidParameter('repository name must have at least one component');
    // moby: the repository parses on its own (it may carry a tag), then the tag replaces it
    let ref = parseReference(repo);
    if (tag) {
      if (!/^[\w][\w.-]{0,127}$/.test(tag)) throw new InvalidParameter('invalid tag format');
      if (ref.digest) throw new InvalidParameter('refusing to create a tag with a digest reference');
      ref = { ...ref, tag };
    }
    await this.store.tag(img.id, ref);
    this.emit('tag', img.id, familiarString(ref));
  }

  async remove(ref: string, force: boolean, noPrune = false): Promise<DeleteRecord[]> {
    const records = await this.store.remove(ref, { force, noPrune, usage: this.usage });
    for (const r of records) {
      if ('Untagged' in r) this.emit('untag', r.Untagged, r.Untagged);
      else if (r.Deleted) this.emit('delete', r.Deleted);
    }
    return records;
  }
}
