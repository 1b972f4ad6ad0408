// The project's containers as the engine lists them (by label: Compose keeps no other state), and
// the single-container steps every verb is made of, each reported to the progress sink with
// Compose's words (` ✔ Container shop-db-1  Stopped`).
import { ApiError, type EngineClient } from '../../client/engine-client.ts';
import type * as Api from '../../types/engine-api.ts';
import type { ComposeContext, ProjectContainer } from './api.ts';
import { CONTAINER_NUMBER, ONEOFF, PROJECT, SERVICE, projectFilter } from './labels.ts';

const enc = encodeURIComponent;
export const notFound = (err: unknown): boolean => err instanceof ApiError && err.status === 404;

export type Summary = Api.ContainerSummary;

export const nameOf = (c: Summary): string => (c.Names?.[0] ?? c.Id ?? '').replace(/^\//, '');
export const serviceOf = (c: Summary): string => c.Labels?.[SERVICE] ?? '';
export const numberOf = (c: Summary): number => Number(c.Labels?.[CONTAINER_NUMBER] ?? 0);

/** The containers of a project (all states), optionally only some services, one-offs by choice. */
export async function listProject(client: EngineClient, project: string, o: { all?: boolean; services?: string[]; oneoff?: 'exclude' | 'include' | 'only' } = {}): Promise<Summary[]> {
  const more = o.oneoff === 'only' ? [`${ONEOFF}=True`] : o.oneoff === 'include' ? [] : [`${ONEOFF}=False`];
  const list = await client.containerList({ all: o.all ?? true, filters: projectFilter(project, more) } as Api.ContainerListQuery);
  const wanted = o.services?.length ? new Set(o.services) : undefined;
  return list.filter((c) => c.Labels?.[PROJECT] === project && (!wanted || wanted.has(serviceOf(c))))
    .sort((a, b) => (serviceOf(a) < serviceOf(b) ? -1 : serviceOf(a) > serviceOf(b) ? 1 : numberOf(a) - numberOf(b)));
}

const healthOf = (status: string): string | undefined => {
  const m = /\((healthy|unhealthy|health: starting)\)/.exec(status);
  return m ? (m[1] === 'health: starting' ? 'starting' : m[1]) : undefined;
};

export function toProjectContainer(c: Summary): ProjectContainer {
  const status = c.Status ?? '';
  const exit = /^Exited \((-?\d+)\)/.exec(status);
  return {
    id: c.Id ?? '', name: nameOf(c), service: serviceOf(c), number: numberOf(c), oneoff: c.Labels?.[ONEOFF] === 'True',
    state: c.State ?? '', status, health: healthOf(status), exitCode: exit ? Number(exit[1]) : undefined,
    image: c.Image ?? '', command: c.Command ?? '', created: c.Created ?? 0,
    ports: (c.Ports ?? []).map((p) => ({ IP: p.IP, PrivatePort: p.PrivatePort, PublicPort: p.PublicPort, Type: p.Type })),
    labels: c.Labels ?? {},
  };
}

/** One container step: `Stopping` then `Stopped`, or `Error` with the daemon's message (and rethrown). */
export async function step(ctx: ComposeContext, name: string, working: string, done: string, fn: () => Promise<unknown>): Promise<void> {
  ctx.progress.event({ kind: 'Container', name, status: working, done: false });
  try {
    await fn();
  } catch (err) {
    ctx.progress.event({ kind: 'Container', name, status: 'Error', done: true, error: true, text: (err as Error).message });
    throw err;
  }
  ctx.progress.event({ kind: 'Container', name, status: done, done: true });
}

const t = (timeout?: number): string => (timeout === undefined ? '' : `?t=${timeout}`);

export function stopContainer(ctx: ComposeContext, c: Summary, timeout?: number): Promise<void> {
  return step(ctx, nameOf(c), 'Stopping', 'Stopped', () => ctx.client.request('POST', `/containers/${enc(c.Id!)}/stop${t(timeout)}`).catch((err) => {
    if (!(err instanceof ApiError && err.status === 304)) throw err;
  }));
}

export function removeContainer(ctx: ComposeContext, c: Summary, o: { volumes?: boolean; force?: boolean } = {}): Promise<void> {
  const q = [o.volumes ? 'v=1' : '', o.force ? 'force=1' : ''].filter(Boolean).join('&');
  return step(ctx, nameOf(c), 'Removing', 'Removed', () => ctx.client.request('DELETE', `/containers/${enc(c.Id!)}${q ? `?${q}` : ''}`).catch((err) => {
    if (!notFound(err)) throw err;
  }));
}

export async function stopAndRemove(ctx: ComposeContext, c: Summary, o: { timeout?: number; volumes?: boolean } = {}): Promise<void> {
  if (c.State === 'running' || c.State === 'restarting' || c.State === 'paused') await stopContainer(ctx, c, o.timeout);
  await removeContainer(ctx, c, { volumes: o.volumes, force: true });
}

export function startContainer(ctx: ComposeContext, c: Summary): Promise<void> {
  return step(ctx, nameOf(c), 'Starting', 'Started', () => ctx.client.containerStart(c.Id!).catch((err) => {
    if (!(err instanceof ApiError && err.status === 304)) throw err;
  }));
}
