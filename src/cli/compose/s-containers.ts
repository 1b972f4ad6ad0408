// How the stream and inspection commands find a project's containers: by the labels Compose puts on
// them (com.docker.compose.project, .service, .container-number, .oneoff, .config-hash), never by
// name, so containers with a `container_name` and those of a project whose files are gone are found
// alike. The selection rules are Compose v2's (pkg/compose/containers.go): a list filtered by
// label on the daemon, and for commands that act on one container (exec, port, cp) the lowest
// container number of the service, regular containers before one-offs.
import type { EngineClient } from '../../client/engine-client.ts';
import type { ContainerSummary } from '../../types/engine-api.ts';
import { CliError } from '../command.ts';
import { CONFIG_HASH, CONTAINER_NUMBER, ONEOFF, PROJECT, REPLACE, SERVICE } from '../../compose/engine/labels.ts';

/** The engine's label names (compose/engine/labels.ts), by the short names these commands use. */
export const LABEL = {
  project: PROJECT,
  service: SERVICE,
  number: CONTAINER_NUMBER,
  oneoff: ONEOFF,
  configHash: CONFIG_HASH,
  replace: REPLACE,
} as const;

/** A listed container; dockerd and berthd always send Id and Created. */
export type Listed = ContainerSummary & Required<Pick<ContainerSummary, 'Id' | 'Created'>>;

export type OneOff = 'include' | 'exclude' | 'only';

export interface SelectOptions {
  all?: boolean;
  services?: string[];
  oneoff?: OneOff;
  /** com.docker.compose.container-number */
  index?: number;
}

/** The label filters Compose's getDefaultFilters builds (one service is filtered by the daemon, several here). */
export function projectFilters(project: string, o: SelectOptions = {}): string[] {
  const labels = [`${LABEL.project}=${project.toLowerCase()}`, LABEL.configHash];
  if (o.services?.length === 1) labels.push(`${LABEL.service}=${o.services[0]}`);
  if (o.oneoff === 'only') labels.push(`${LABEL.oneoff}=True`);
  else if ((o.oneoff ?? 'exclude') === 'exclude') labels.push(`${LABEL.oneoff}=False`);
  if (o.index && o.index > 0) labels.push(`${LABEL.number}=${o.index}`);
  return labels;
}

/** The project's containers, by label. */
export async function listContainers(client: EngineClient, project: string, o: SelectOptions = {}): Promise<Listed[]> {
  const list = await client.containerList({ all: o.all ?? false, filters: JSON.stringify({ label: projectFilters(project, o) }) }) as Listed[];
  const services = o.services ?? [];
  return services.length > 1 ? list.filter((c) => services.includes(serviceOf(c))) : list;
}

export const serviceOf = (c: ContainerSummary): string => c.Labels?.[LABEL.service] ?? '';
export const numberOf = (c: ContainerSummary): number => Number(c.Labels?.[LABEL.number] ?? 0) || 0;
export const isOneOff = (c: ContainerSummary): boolean => c.Labels?.[LABEL.oneoff] === 'True';

/** Compose's getCanonicalContainerName: the name without "/" that is not a legacy link alias. */
export function canonicalName(c: ContainerSummary): string {
  const names = c.Names ?? [];
  for (const n of names) if (n.split('/').length === 2) return n.slice(1);
  return (names[0] ?? '').replace(/^\//, '') || (c.Id ?? '').slice(0, 12);
}

/**
 * The name logs and `up` show: `web-1` for `shop-web-1`; a `container_name` is shown whole
 * (getContainerNameWithoutProject).
 */
export function shortName(c: ContainerSummary): string {
  const project = c.Labels?.[LABEL.project] ?? '';
  const name = canonicalName(c);
  const deflt = `${project}-${serviceOf(c)}-${c.Labels?.[LABEL.number] ?? ''}`;
  return name === deflt ? name.slice(project.length + 1) : name;
}

/**
 * The one container a per-container command acts on (getSpecifiedContainer): `--index N`, else the
 * lowest number, regular containers before one-offs. Errors are Compose's texts.
 */
export async function pickContainer(client: EngineClient, project: string, service: string, o: { index?: number; oneoff?: OneOff; all?: boolean } = {}): Promise<Listed> {
  const list = await listContainers(client, project, { services: [service], index: o.index, oneoff: o.oneoff ?? 'exclude', all: o.all });
  if (!list.length) {
    throw new CliError(o.index && o.index > 0 ? `service "${service}" is not running container #${o.index}` : `service "${service}" is not running`);
  }
  list.sort((a, b) => {
    if (isOneOff(a) || isOneOff(b)) return Number(isOneOff(a)) - Number(isOneOff(b));
    return numberOf(a) - numberOf(b);
  });
  return list[0]!;
}

/** Compose checks named services against the project's when a file was loaded: `no such service: x`. */
export function checkServices(known: string[] | undefined, services: string[]): void {
  if (!known) return;
  for (const s of services) if (!known.includes(s)) throw new CliError(`no such service: ${s}`);
}
