// What `docker images`, `docker image inspect` and `docker history` show of an image, per API
// version: the image store's records projected onto the wire.
import type { ImageRecord, HistoryRow } from '../../engine/images.ts';
import { versionLess } from '../version.ts';

const emptyConfig = {
  Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: false, AttachStderr: false,
  Tty: false, OpenStdin: false, StdinOnce: false, Env: null, Cmd: null, Image: '', Volumes: null,
  WorkingDir: '', Entrypoint: null, OnBuild: null, Labels: null,
};

function createdUnix(r: ImageRecord): number {
  const t = Date.parse(r.config.created ?? '');
  return Number.isNaN(t) ? 0 : Math.floor(t / 1000);
}

/** A `/images/json` (and `/system/df`) row. */
export function imageSummary(r: ImageRecord, apiVersion: string): Record<string, unknown> {
  const s: Record<string, unknown> = {
    Containers: -1, Created: createdUnix(r), Id: r.id, Labels: r.config.config?.Labels ?? null, ParentId: r.parent ?? '',
    RepoDigests: r.repoDigests, RepoTags: r.repoTags, SharedSize: -1, Size: r.size,
  };
  if (versionLess(apiVersion, '1.44')) {
    s.VirtualSize = r.size;
    if (r.repoTags.length === 0) s.RepoTags = ['<none>:<none>'];
    if (r.repoDigests.length === 0 && r.repoTags.length === 0) s.RepoDigests = ['<none>@<none>'];
    // dockerd 20.10 leaves an image without digests with a nil list (null)
    else if (r.repoDigests.length === 0) s.RepoDigests = null;
  }
  return s;
}

/** `GET /images/{name}/json`; `dirs` are the image's layer directories, top first. */
export function imageInspect(r: ImageRecord, dirs: string[], apiVersion: string): Record<string, unknown> {
  const c = r.config;
  const out: Record<string, unknown> = {
    Id: r.id, RepoTags: r.repoTags, RepoDigests: r.repoDigests, Parent: r.parent ?? '', Comment: c.comment ?? '',
    Created: c.created ?? '', DockerVersion: c.docker_version ?? '', Author: c.author ?? '',
    Config: { ...emptyConfig, ...(c.config ?? {}) }, Architecture: c.architecture, Os: c.os, Size: r.size,
    GraphDriver: {
      Name: 'overlay2',
      Data: dirs.length ? { LowerDir: dirs.slice(1).join(':') || undefined, UpperDir: dirs[0], MergedDir: '', WorkDir: '' } : {},
    },
    RootFS: { Type: 'layers', Layers: c.rootfs?.diff_ids ?? [] },
    Metadata: { LastTagTime: r.lastTagTime ?? '0001-01-01T00:00:00Z' },
  };
  if (versionLess(apiVersion, '1.44')) out.VirtualSize = r.size;
  // The classic builder's (and commit's) step container, kept in the config file as dockerd does.
  if (versionLess(apiVersion, '1.45')) { out.Container = c.container ?? ''; out.ContainerConfig = { ...emptyConfig, ...(c.container_config ?? {}) }; }
  return out;
}

/** A `GET /images/{name}/history` row. */
export function historyView(h: HistoryRow): Record<string, unknown> {
  return {
    Id: h.id, Created: Math.floor(Date.parse(h.created) / 1000) || 0, CreatedBy: h.createdBy, Tags: h.tags,
    Size: h.size, Comment: h.comment,
  };
}
