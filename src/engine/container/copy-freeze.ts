// Freezing containers while berthd works on their files (`docker cp` in and out, the stat before
// it, `docker export`): the defence against the CVE-2018-15664 class of races.
//
// berthd works on a container's files from the host, as root, by host paths. A process inside a
// running container can swap a directory for a symlink between the moment berthd resolved a path
// inside the root and the moment it opens what is below it, and the host's `/` is then where the
// kernel goes. moby closes this by doing the copy chrooted into the container's root
// (chrootarchive since 19.03.1; in a private mount namespace since 24, daemon/containerfs_linux.go).
// Node has no chroot, and a helper process would have to be started inside the container's root,
// which holds only what the image put there. So Berth freezes the container for the copy instead
// (runc pause, the cgroup freezer):
// a frozen process cannot rename, link or unlink anything, so the tree berthd resolved is the
// tree it reads and writes, and the path checks of container-archive.ts and extract.ts hold for
// the whole copy. Every running container that shares a mount with the copied one is frozen too
// (container-archive.ts), or a neighbour could swap a directory of a shared volume. The archive
// code also never follows a symlink at an entry's own name (extract.ts, pack.ts); that is defence
// in depth: only the freeze keeps the directories above the entry still. Host processes are not
// frozen: they are trusted, as they are for moby.
//
// Protocol. `withFrozen(svc, containers, fn)` is called with the copied container's lock held
// (inside withRootfs), so a user's pause, unpause, stop or restart of that container waits for
// the copy. A container that is not running, or that its user paused, is left alone (nothing runs
// in it, and its user cannot unpause it while the lock is held). Holds are counted per container,
// so copies that overlap on one container (through a shared volume) thaw it only when the last
// ends; pauses and resumes of one container run one after the other. State is never changed: the
// freeze lasts one copy and is not the user's pause. Should berthd die during a copy, the
// container stays frozen and start-up reconcile reads it as paused (runc's state), which a user
// sees and can undo with `docker unpause`.
import { Unavailable } from '../../errors.ts';
import type { Logger } from '../../util/log.ts';
import type { Runtime } from '../../runtime/runtime.ts';
import type { Container } from '../containers.ts';

export interface Freezer { runtime: Pick<Runtime, 'freeze' | 'thaw' | 'state'>; log: Logger }

interface Hold { count: number; frozen: Promise<boolean> }

/**
 * A cgroup v1 freezer gives up ("unable to freeze") when a task stays in the kernel through all
 * of runc's attempts (a tight loop of renames does it); a later attempt usually gets it.
 */
const FREEZE_RETRIES_MS = [10, 50, 100, 200, 0];

/** Per runtime: the holds on each container ID, and the tail of its pause/resume operations. */
const holds = new WeakMap<object, Map<string, Hold>>();
const tails = new WeakMap<object, Map<string, Promise<unknown>>>();

function mapFor<V>(m: WeakMap<object, Map<string, V>>, key: object): Map<string, V> {
  let v = m.get(key);
  if (!v) m.set(key, (v = new Map()));
  return v;
}

/** Runs op after every earlier pause/resume of this container (runc must not see them overlap). */
function serial<T>(f: Freezer, id: string, op: () => Promise<T>): Promise<T> {
  const t = mapFor(tails, f.runtime);
  const run = (t.get(id) ?? Promise.resolve()).then(op, op);
  const tail = run.catch(() => undefined);
  t.set(id, tail);
  void tail.then(() => { if (t.get(id) === tail) t.delete(id); });
  return run;
}

/** Freezes `id` (or joins a freeze already held). Resolves false when there was nothing to freeze. */
function acquire(f: Freezer, id: string): Promise<boolean> {
  const h = mapFor(holds, f.runtime);
  const held = h.get(id);
  if (held) {
    held.count++;
    return held.frozen;
  }
  const frozen = serial(f, id, async () => {
    let last: unknown;
    for (const wait of FREEZE_RETRIES_MS) {
      try {
        await f.runtime.freeze(id);
        return true;
      } catch (err) {
        // It exited meanwhile: nothing left to race.
        const now = await f.runtime.state(id).catch(() => undefined);
        if (!now || now.status === 'stopped') return false;
        last = err;
      }
      await new Promise((r) => setTimeout(r, wait));
    }
    // Never copy unfrozen: the copy fails, and the client may try again.
    throw new Unavailable(`cannot freeze container ${id} for the copy (its processes are busy in the kernel); try again`, { cause: last });
  });
  h.set(id, { count: 1, frozen });
  return frozen;
}

async function release(f: Freezer, id: string): Promise<void> {
  const h = mapFor(holds, f.runtime);
  const held = h.get(id);
  if (!held || --held.count > 0) return;
  h.delete(id);
  if (!(await held.frozen.catch(() => false))) return;
  await serial(f, id, async () => {
    try {
      await f.runtime.thaw(id);
    } catch (err) {
      const now = await f.runtime.state(id).catch(() => undefined);
      if (now && now.status !== 'stopped') f.log.error({ id, err: String(err) }, 'cannot thaw the container after a copy: it stays paused until `docker unpause`');
    }
  });
}

/**
 * Runs fn with every running, unpaused container of `containers` frozen, and thaws them after,
 * whether fn succeeded or not. Call it with the first container's lock held.
 */
export async function withFrozen<T>(f: Freezer, containers: Container[], fn: () => Promise<T>): Promise<T> {
  const ids = [...new Set(containers.filter((c) => c.rec.State.Running && !c.rec.State.Paused).map((c) => c.rec.Id))].sort();
  const got: string[] = [];
  try {
    for (const id of ids) {
      got.push(id);
      await acquire(f, id);
    }
    return await fn();
  } finally {
    for (const id of got.reverse()) await release(f, id);
  }
}
