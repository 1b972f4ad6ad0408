// The container records: the in-memory map by ID, the name index, and their files
// (`<data-root>/containers/<id>/config.v2.json`). Lookup by full ID, name, legacy link name or
// unique ID prefix happens here and nowhere else (STYLE: one resolver, Docker's 404 and
// "ambiguous" answers). Writes go through atomicWriteJson only; a removed container's record
// is never written again.
import { mkdir, readdir, readFile, chmod, open, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Conflict, InvalidParameter, noSuchContainer } from '../../errors.ts';
import { atomicWriteJson, fsyncDir } from '../../util/atomic-write.ts';
import type { Logger } from '../../util/log.ts';
import type { AttachStream } from '../../runtime/runtime.ts';
import type { ContainerRecord } from './record.ts';
import type { LinkIndex } from './legacy-links.ts';

export interface PendingAttach {
  stdin: boolean;
  deliver: (s: AttachStream) => void;
  fail: (e: Error) => void;
}

/** In-memory view of one container: its record plus what only lives while berthd runs. */
export interface Container {
  rec: ContainerRecord;
  dir: string;
  exitWaiters: Set<(code: number) => void>;
  removeWaiters: Set<(code: number) => void>;
  pendingAttach: PendingAttach[];
  execIds: Set<string>;
  removed: boolean;
  /** A remove is under way in this process (a persisted 'removing' only means: finish it). */
  removing: boolean;
  /** Restart policy: the pending restart, and the back-off before the next one (ms). */
  restartTimer?: NodeJS.Timeout;
  restartDelay: number;
  /** runc state and bundle are known to be gone (saves a `runc delete` spawn on remove). */
  runtimeClean: boolean;
  /**
   * The part of an exit's cleanup that runs after the lock is let go (runc delete, unmount of
   * the rootfs and /dev/shm): a start, a rootfs mount or a remove's teardown awaits it first.
   * Never rejects.
   */
  settling?: Promise<void>;
}

/**
 * The durable mark of a remove that has replied (remove.ts): an empty file in the container's
 * directory, made durable by one fsync of that directory (a record rewrite costs two).
 */
const REMOVING_MARK = 'removing';

/** The name as the index keys it: without the leading `/` records and inspect show. */
const bare = (name: string): string => name.replace(/^\//, '');

/** Docker's answer to a name already taken (create and rename say it the same way). */
export function nameInUse(name: string, id: string): Conflict {
  return new Conflict(`Conflict. The container name "/${name}" is already in use by container "${id}". You have to remove (or rename) that container to be able to reuse that name.`);
}

export class ContainerStore {
  private readonly byId = new Map<string, Container>();
  private readonly names = new Map<string, string>();

  readonly root: string;
  /**
   * Removes whose reply went out and whose teardown (runtime state, mounts, directory) runs in
   * the background (remove.ts); shutdown and tests wait for them.
   */
  readonly teardowns = new Set<Promise<void>>();
  /**
   * Records found marked `removing` at load: a remove replied to before the crash. They are not
   * in the map or the name index (the API had already forgotten them); reconcile finishes them.
   */
  unfinishedRemovals: Container[] = [];
  /** Legacy link names resolve like container names (legacy-links.ts). */
  private readonly links: LinkIndex;
  private readonly log: Logger;

  constructor(root: string, links: LinkIndex, log: Logger) {
    this.root = root;
    this.links = links;
    this.log = log;
  }

  /**
   * Reads every record at start-up; unreadable ones are logged and handed to `sweep`, never
   * fatal. `shared`: userns-remap, where the container's root must pass through to its rootfs.
   */
  async load(shared: boolean, sweep: (id: string, dir: string) => Promise<void>): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: shared ? 0o711 : 0o700 });
    if (shared) await chmod(this.root, 0o711);
    for (const id of await readdir(this.root)) {
      const dir = join(this.root, id);
      try {
        const rec = JSON.parse(await readFile(join(dir, 'config.v2.json'), 'utf8')) as ContainerRecord;
        const marked = await stat(join(dir, REMOVING_MARK)).then(() => true, () => false);
        if (marked || rec.State?.Status === 'removing') this.unfinishedRemovals.push({ ...this.detached(rec), removed: true, removing: true });
        else this.track(rec);
      } catch (err) {
        // A create killed before its first metadata write leaves a bare dir: sweep it.
        this.log.warn({ id, err: String(err) }, 'dropping container dir without readable metadata');
        await sweep(id, dir);
      }
    }
  }

  dirOf(id: string): string {
    return join(this.root, id);
  }

  /** The in-memory view of a record, in neither the map nor the name index. */
  private detached(rec: ContainerRecord): Container {
    return {
      rec, dir: this.dirOf(rec.Id), exitWaiters: new Set(), removeWaiters: new Set(),
      pendingAttach: [], execIds: new Set(), removed: false, removing: false, runtimeClean: false, restartDelay: 0,
    };
  }

  /** Adds a record to the map and its name to the index. */
  track(rec: ContainerRecord): Container {
    const c = this.detached(rec);
    this.byId.set(rec.Id, c);
    this.names.set(bare(rec.Name), rec.Id);
    return c;
  }

  /** Full ID, name (with or without `/`), or unique ID prefix; Docker's 404 otherwise. */
  get(ref: string): Container {
    const byId = this.byId.get(ref);
    if (byId) return byId;
    const byName = this.names.get(bare(ref)) ?? this.links.resolve(ref);
    if (byName && this.byId.has(byName)) return this.byId.get(byName)!;
    if (/^[0-9a-f]+$/.test(ref)) {
      const hits = [...this.byId.keys()].filter((id) => id.startsWith(ref));
      if (hits.length === 1) return this.byId.get(hits[0]!)!;
      if (hits.length > 1) throw new InvalidParameter(`multiple IDs found with provided prefix: ${ref}`);
    }
    throw noSuchContainer(ref);
  }

  /** By full ID only; undefined once removed. */
  byFullId(id: string): Container | undefined {
    return this.byId.get(id);
  }

  all(): Container[] {
    return [...this.byId.values()];
  }

  /** The ID holding a name (without `/`), if any. */
  nameOwner(name: string): string | undefined {
    return this.names.get(name);
  }

  /**
   * Takes a name for `id`, or throws Docker's conflict. Synchronous, so a caller that reserves
   * before its first await cannot lose the name to a concurrent create.
   */
  reserveName(name: string, id: string, conflict: (taken: string) => Error = (taken) => nameInUse(name, taken)): void {
    const taken = this.names.get(name);
    if (taken) throw conflict(taken);
    this.names.set(name, id);
  }

  /** Gives a name back (only while `id` holds it). */
  releaseName(name: string, id: string): void {
    if (this.names.get(bare(name)) === id) this.names.delete(bare(name));
  }

  /** Drops a removed container from the map and its name from the index. */
  forget(c: Container): void {
    this.byId.delete(c.rec.Id);
    this.releaseName(c.rec.Name, c.rec.Id);
  }

  /** Marks a container removed for good, durably: a restart finishes its teardown (load). */
  async markRemoving(c: Container): Promise<void> {
    const fh = await open(join(c.dir, REMOVING_MARK), 'w', 0o600);
    await fh.close();
    await fsyncDir(c.dir);
  }

  /** Takes the mark back (a remove that failed before it replied). */
  async unmarkRemoving(c: Container): Promise<void> {
    await rm(join(c.dir, REMOVING_MARK), { force: true });
    await fsyncDir(c.dir);
  }

  async persist(c: Container): Promise<void> {
    if (c.removed) return;
    await atomicWriteJson(join(c.dir, 'config.v2.json'), c.rec);
  }

  /** The first write of a new record (the container is not tracked yet). */
  async write(dir: string, rec: ContainerRecord): Promise<void> {
    await atomicWriteJson(join(dir, 'config.v2.json'), rec);
  }
}
