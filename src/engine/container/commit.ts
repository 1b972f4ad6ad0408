// `docker commit`: a new image made of the container's image plus one layer holding what the
// container changed (its overlay upper dir, whiteouts translated), with the container's config
// and the caller's changes. The container is paused meanwhile (unless asked not to), so the
// layer is a consistent snapshot.
import { Conflict } from '../../errors.ts';
import type { ImageConfigFile, ContainerConfigFields } from '../../types/oci-image.ts';
import { packDirectory, initPathsRelative } from '../../image/archive/index.ts';
import { applyChanges } from '../../image/change-instructions.ts';
import { parseReference, type Reference } from '../../image/reference.ts';
import type { ImageRecord } from '../../image/store.ts';
import type { ContainerService } from '../containers.ts';
import type { ImageService } from '../images.ts';

export interface CommitOptions {
  repo?: string;
  tag?: string;
  author?: string;
  comment?: string;
  pause: boolean;
  changes: string[];
  /** Config fields from the request body; they win over the container's. */
  config?: ContainerConfigFields;
}

/** Container-config keys an image config carries (the rest is per-container: Hostname, Attach*, …). */
const imageKeys = ['User', 'ExposedPorts', 'Env', 'Entrypoint', 'Cmd', 'Volumes', 'WorkingDir', 'Labels', 'StopSignal', 'OnBuild', 'Healthcheck', 'Shell', 'ArgsEscaped'];

function pick(c: Record<string, unknown>): ContainerConfigFields {
  const out: ContainerConfigFields = {};
  for (const k of imageKeys) {
    const v = c[k];
    if (v === undefined || v === null || v === '') continue;
    if (typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0) continue;
    out[k] = v;
  }
  return out;
}

function commitRef(repo?: string, tag?: string): Reference | undefined {
  if (!repo) return undefined;
  return parseReference(tag ? `${repo}:${tag}` : repo);
}

export async function commitContainer(svc: ContainerService, images: ImageService, ref: string, o: CommitOptions): Promise<ImageRecord> {
  const c = svc.get(ref);
  if (c.removing || c.rec.State.Status === 'removing') throw new Conflict(`container ${c.rec.Id} is being removed`);
  const target = commitRef(o.repo, o.tag); // a bad name fails before anything is paused
  const base = images.store.resolve(c.rec.Image);
  const config = applyChanges({ ...pick(c.rec.Config), ...pick(o.config ?? {}) }, o.changes);
  // Rootless without cgroups there is no freezer: the container is committed running, as with --pause=false.
  let pauseIt = o.pause && svc.hasCgroups && c.rec.State.Running && !c.rec.State.Paused;
  if (pauseIt) {
    try {
      await svc.pause(c.rec.Id);
    } catch (err) {
      // it exited since it was looked at (docker-py commits a `touch` right after starting it),
      // or was paused by its user meanwhile: either way nothing runs in it, and it is committed
      // as it is. Its record may still say running: the exit is handled a moment later (the
      // runtime, not the record, said it stopped), so the record is not asked again.
      if (!(err instanceof Conflict)) throw err;
      pauseIt = false;
    }
  }
  try {
    const layer = packDirectory(svc.paths(c).upper, { layer: true, exclude: initPathsRelative, unshift: images.store.shift });
    const img = await images.store.commitLayerImage(base.id, layer, (diffId) => {
      const now = new Date().toISOString();
      const history = [...(base.config.history ?? []), {
        created: now,
        ...(o.author ? { author: o.author } : {}),
        created_by: (c.rec.Config.Cmd ?? []).join(' '),
        ...(o.comment ? { comment: o.comment } : {}),
      }];
      const cfg: ImageConfigFile = {
        architecture: base.config.architecture, os: base.config.os, created: now,
        ...(o.author ? { author: o.author } : {}),
        ...(o.comment ? { comment: o.comment } : {}),
        config, container: c.rec.Id,
        rootfs: { type: 'layers', diff_ids: [...(base.config.rootfs?.diff_ids ?? []), diffId] },
        history,
      };
      return cfg;
    }, target);
    svc.emit(c, 'commit', { comment: o.comment ?? '', imageID: img.id, imageRef: img.repoTags[0] ?? '' });
    return img;
  } finally {
    if (pauseIt) await svc.unpause(c.rec.Id).catch(() => {});
  }
}
