// `docker build` (classic builder): the engine side. The builder (src/builder) decides what each
// Dockerfile step does; this file gives it images, layers made through an overlay mount, and
// containers for RUN, and owns the context's temp dir. Every build leaves nothing behind:
// mounts are undone and temp dirs removed whatever happens.
import { mkdir, mkdtemp, rm, chmod, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { NotFound } from '../errors.ts';
import type { Logger } from '../util/log.ts';
import { mountOverlay, mountOverlayReadOnly, unmount } from '../sys/mount.ts';
import { packDirectory, initPathsRelative } from '../image/archive/index.ts';
import { parseReference } from '../image/reference.ts';
import type { ImageConfigFile } from '../types/oci-image.ts';
import type { ImageRecord } from '../image/store.ts';
import type { BaseImage, BuildBackend, RunSpec } from '../builder/backend.ts';
import { Builder, type BuildRequest, type BuildOutput } from '../builder/build.ts';
import { BuildCache } from '../builder/cache.ts';
import { BuildContext } from '../builder/context.ts';
import type { ImageService } from './images.ts';
import type { ContainerService } from './containers.ts';

export type { BuildRequest, BuildOutput };
export { BuildStepError } from '../builder/build.ts';

export class BuildService {
  private readonly images: ImageService;
  private readonly containers: ContainerService;
  private readonly dir: string;
  private readonly log: Logger;
  private readonly cache: BuildCache;

  private constructor(o: { images: ImageService; containers: ContainerService; dir: string; log: Logger; cache: BuildCache }) {
    this.images = o.images;
    this.containers = o.containers;
    this.dir = o.dir;
    this.log = o.log;
    this.cache = o.cache;
  }

  static async open(o: { images: ImageService; containers: ContainerService; dataRoot: string; log: Logger }): Promise<BuildService> {
    const dir = join(o.dataRoot, 'builder');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // Work of builds a crash interrupted: mounts first, then the files.
    await rm(join(dir, 'tmp'), { recursive: true, force: true }).catch(() => {});
    await mkdir(join(dir, 'tmp'), { mode: 0o700 });
    return new BuildService({ ...o, dir, cache: await BuildCache.open(dir) });
  }

  /** Runs a build from a context body; resolves to the final image ID. */
  async build(body: Readable, req: BuildRequest, out: BuildOutput): Promise<string> {
    const work = await mkdtemp(join(this.dir, 'tmp', 'b-'));
    try {
      const ctxDir = join(work, 'context');
      await mkdir(ctxDir, { mode: 0o700 });
      const ctx = await BuildContext.open(body, ctxDir, req.dockerfile);
      const text = await ctx.dockerfile(req.dockerfile);
      const df = Builder.parse(text);
      await ctx.applyDockerignore([req.dockerfile || 'Dockerfile', '.dockerignore']);
      const builder = new Builder({ backend: this.backend(work), cache: this.cache, context: ctx, request: req, output: out });
      return await builder.build(df);
    } finally {
      // Removed after the answer, not during the build: a big unpacked context takes a while.
      const trash = `${work}.done`;
      await rename(work, trash).catch(() => {});
      void rm(trash, { recursive: true, force: true }).catch((err: unknown) => this.log.warn({ err: String(err) }, 'build temp dir left'));
    }
  }

  /** `docker builder prune`: the cache forgets; intermediate images go with `image prune`. */
  async prune(): Promise<{ CachesDeleted: string[]; SpaceReclaimed: number }> {
    await this.cache.clear();
    return { CachesDeleted: [], SpaceReclaimed: 0 };
  }

  private backend(work: string): BuildBackend {
    const store = this.images.store;
    const record = (id: string): BaseImage => {
      const r = store.resolve(id);
      return { id: r.id, config: r.config };
    };
    let n = 0;
    const scratch = async (): Promise<string> => {
      const d = join(work, `m${n++}`);
      await mkdir(d, { mode: 0o700 });
      return d;
    };
    return {
      image: async (ref, o) => {
        if (!o.pull) {
          try { return record(ref); } catch (err) { if (!(err instanceof NotFound)) throw err; }
        }
        o.output(`Pulling ${ref}\n`);
        const r = await this.images.pull(ref, undefined, {
          platform: o.platform, auth: o.auth,
          progress: (m) => { if (m.status && !m.progressDetail?.total) o.output(`${m.id ? `${m.id}: ` : ''}${m.status}\n`); },
        });
        return { id: r.id, config: r.config };
      },
      configImage: async (parent, config) => {
        const r = await store.createImage(config, parent?.id);
        return { id: r.id, config: r.config };
      },
      layerImage: async (parent, change, config) => {
        const d = await scratch();
        const upper = join(d, 'upper');
        const wk = join(d, 'work');
        const merged = join(d, 'merged');
        const empty = join(d, 'empty');
        for (const p of [upper, wk, merged, empty]) await mkdir(p, { mode: 0o755 });
        await chmod(upper, 0o755);
        const lower = parent ? store.layerDirs(parent.id) : [];
        await mountOverlay(merged, { lowerdirs: lower.length ? lower : [empty], upperdir: upper, workdir: wk });
        try {
          await change(merged, store.shift);
        } finally {
          await unmount(merged);
        }
        const layer = packDirectory(upper, { layer: true, unshift: store.shift });
        const r = await store.commitLayerImage(parent?.id, layer, config);
        await rm(d, { recursive: true, force: true });
        return { id: r.id, config: r.config };
      },
      withImageRoot: async (image, fn) => {
        const d = await scratch();
        const merged = join(d, 'ro');
        const e1 = join(d, 'e1');
        const e2 = join(d, 'e2');
        for (const p of [merged, e1, e2]) await mkdir(p, { mode: 0o755 });
        await mountOverlayReadOnly(merged, store.layerDirs(image.id), [e1, e2]);
        try {
          return await fn(merged);
        } finally {
          await unmount(merged);
          await rm(d, { recursive: true, force: true });
        }
      },
      run: (parent, spec, o) => this.runStep(parent, spec, o),
      tag: async (id, ref) => { await store.tag(id, parseReference(ref)); },
      hasImage: (id) => store.hasImage(id),
      lineage: (ref) => {
        const out: string[] = [];
        try {
          for (let r: ImageRecord | undefined = store.resolve(ref); r && !out.includes(r.id); r = r.parent ? store.resolve(r.parent) : undefined) out.push(r.id);
        } catch (err) {
          if (!(err instanceof NotFound)) throw err;
        }
        return out;
      },
    };
  }

  private async runStep(parent: BaseImage, spec: RunSpec, o: {
    output: (chunk: Buffer, stderr: boolean) => void; onStart: (id: string) => void; config: (diffId: string) => ImageConfigFile; keepOnFailure: boolean;
  }): Promise<{ containerId: string; exitCode: number; image?: BaseImage }> {
    const svc = this.containers;
    const { Id } = await svc.create({
      Image: parent.id, Cmd: spec.cmd, Entrypoint: [], Env: spec.env, User: spec.user, WorkingDir: spec.workingDir,
      AttachStdout: true, AttachStderr: true, Labels: {},
      HostConfig: { NetworkMode: spec.networkMode || 'default', ExtraHosts: spec.extraHosts.length ? spec.extraHosts : null, ...spec.resources },
    }, null);
    let exitCode = -1;
    let image: BaseImage | undefined;
    try {
      o.onStart(Id);
      const attach = svc.attach(Id, { stdin: false });
      const exited = svc.wait(Id, 'next-exit');
      const drained = attach.stream.then((s) => new Promise<void>((resolve) => {
        s.on('data', (fd, chunk) => o.output(chunk, fd === 2));
        s.on('end', () => resolve());
      }));
      await svc.start(Id);
      exitCode = await exited;
      await Promise.race([drained, new Promise((r) => setTimeout(r, 2000))]);
      if (exitCode === 0) {
        const c = svc.get(Id);
        const layer = packDirectory(svc.paths(c).upper, { layer: true, exclude: initPathsRelative, unshift: this.images.store.shift });
        const r = await this.images.store.commitLayerImage(parent.id, layer, o.config);
        image = { id: r.id, config: r.config };
      }
    } finally {
      if (exitCode === 0 || !o.keepOnFailure) await svc.remove(Id, { force: true, volumes: true }).catch((err: unknown) => this.log.warn({ id: Id, err: String(err) }, 'removing a build container failed'));
    }
    return { containerId: Id, exitCode, image };
  }
}
