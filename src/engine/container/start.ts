// The start sequence, under the container's lock: the overlay rootfs mounted, its volumes
// prepared, its network attached (etc files written, the embedded DNS started), its namespaces
// and /dev/shm, the OCI spec built (oci-spec.ts → runtime/spec.ts), conmon running `runc
// create`, the attaches that arrived before the start connected, then `runc start`. Each step
// pushes its undo; a failure runs them in reverse and records the error as Docker does (exit
// code 127/126/128), and fails the waiting attaches.
import { InvalidParameter } from '../../errors.ts';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { buildSpec } from '../../runtime/spec.ts';
import { initBinaryPath } from '../../runtime/init-binary.ts';
import { resolveInRoot } from '../../util/root-paths.ts';
import { joinNamespaces, joinNetwork, wantsInit, IN_CONTAINER_INIT, prepareShm, releaseShm } from './namespace-modes.ts';
import type { ContainerContext } from './context.ts';
import { attachNetwork, linkedEnv, type Undo } from './network-glue.ts';
import { containerSpecInput } from './oci-spec.ts';
import { containerPaths } from './rootfs.ts';
import { canStart, refuse, setRunning, setStartError } from './state.ts';
import type { Container } from './store.ts';

/** The architecture the container's image is built for (its seccomp filter's); undefined when the image is gone. */
function imageArch(ctx: ContainerContext, c: Container): string | undefined {
  try { return ctx.images.store.resolve(c.rec.Image).config.architecture; } catch { return undefined; }
}

/** Starts a container; the caller holds its lock. `onStarted`: health checks follow the process. */
export async function startLocked(ctx: ContainerContext, c: Container, onStarted: (c: Container) => void): Promise<void> {
  const { runtime, mounts, volumes, idMap, nsDefaults, logRotator } = ctx;
  const id = c.rec.Id;
  const st = c.rec.State;
  refuse(canStart(c));
  // The last exit's cleanup (runc delete, unmounts) runs outside the lock (exit.ts).
  await c.settling;
  const p = containerPaths(ctx, c);
  const undo: Undo = [];
  /** Work that must finish before the process runs (the embedded DNS). */
  const ready: Promise<unknown>[] = [];
  try {
    if (!(await mounts.isMounted(p.merged))) {
      await mounts.mountOverlay(p.merged, { lowerdirs: p.lower, upperdir: p.upper, workdir: p.work });
      undo.push(() => mounts.unmount(p.merged));
    }
    const cfg = c.rec.Config;
    const hc = c.rec.HostConfig;
    // A create without any HostConfig recorded no Runtime; moby names the default one at the start.
    if (!(hc as Record<string, unknown>).Runtime) (hc as Record<string, unknown>).Runtime = 'runc';
    if (cfg.WorkingDir) await mkdir(join(p.merged, cfg.WorkingDir), { recursive: true }).catch(() => {});
    const volumeMounts = await volumes.prepare(c.rec.Mounts ?? [], (hc.Tmpfs ?? {}) as Record<string, string>, p.merged, (root, path) => resolveInRoot(root, path, true));
    undo.push(() => volumes.releaseAll(c.rec.Mounts ?? []));
    let netnsPath: string | undefined;
    if (hc.NetworkMode.startsWith('container:')) {
      netnsPath = joinNetwork(c.rec, (ref) => ctx.store.get(ref));
    } else if (!idMap) {
      netnsPath = await attachNetwork(ctx, c, undo, undefined, ready);
    }
    const joined = joinNamespaces(c.rec, (ref) => ctx.store.get(ref));
    const ownShm = await prepareShm(mounts, c.rec, c.dir);
    if (ownShm) undo.push(() => releaseShm(mounts, c.dir));
    const init = wantsInit(c.rec, nsDefaults.init) ? { source: initBinaryPath(nsDefaults.initPath), target: IN_CONTAINER_INIT } : undefined;
    const spec = await buildSpec(containerSpecInput(c.rec, {
      rootfs: p.merged, linkEnv: linkedEnv(ctx, c), netnsPath, joined, ownShm, init, volumeMounts,
      imageArch: imageArch(ctx, c), cgroupsPath: ctx.rootless && !ctx.rootless.cgroups ? undefined : `${ctx.cgroupParent}/${id}`, idMap,
    }));
    // Rootless with one id mapped (no /etc/subuid range): group 5 (tty) does not exist in the
    // namespace, and the kernel refuses a devpts mount that names it. Ptys then belong to root's group.
    if (ctx.rootless?.singleId) {
      for (const m of spec.mounts ?? []) if (m.type === 'devpts') m.options = m.options?.filter((o) => !o.startsWith('gid='));
      // Any other id does not exist there: runc would fail with "unable to setup user: invalid argument".
      const u = spec.process?.user;
      if (u && (u.uid !== 0 || u.gid !== 0)) {
        throw new InvalidParameter(`rootless berthd maps only one id (the user has no range in /etc/subuid and /etc/subgid), so a container cannot run as ${u.uid}:${u.gid}`);
      }
    }
    c.runtimeClean = false;
    await logRotator.prepare(c.rec.LogPath, c.rec.HostConfig.LogConfig, join(runtime.bundleDir(id), 'ctl'));
    undo.push(() => logRotator.unwatch(c.rec.LogPath));
    const created = await runtime.create(id, spec, {
      logPath: c.rec.LogPath, tty: cfg.Tty, openStdin: cfg.OpenStdin, stdinOnce: cfg.StdinOnce,
    });
    undo.push(() => runtime.delete(id));
    // userns-remap: the network goes into the namespace runc made inside the user namespace.
    if (idMap && !hc.NetworkMode.startsWith('container:')) await attachNetwork(ctx, c, undo, created.pid, ready);
    // Attaches that arrived before start (docker run, start -a) connect now, before the
    // process runs, so no output is lost.
    const pending = c.pendingAttach.splice(0);
    await Promise.all(pending.map(async (a) => {
      try { a.deliver(await runtime.attach(id, { stdin: a.stdin })); } catch (e) { a.fail(e as Error); }
    }));
    await Promise.all(ready);
    await runtime.start(id);
    setRunning(st, created.pid);
    await ctx.store.persist(c);
    ctx.emit(c, 'start');
    onStarted(c);
  } catch (err) {
    for (const u of undo.reverse()) await u().catch(() => {});
    const msg = err instanceof Error ? err.message : String(err);
    setStartError(st, msg);
    await ctx.store.persist(c).catch(() => {});
    for (const a of c.pendingAttach.splice(0)) a.fail(err as Error);
    throw err;
  }
}
