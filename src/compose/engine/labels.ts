// The com.docker.compose.* labels, spelled and valued as Compose v2 sets them. They are the
// only state Compose keeps: a project's containers, networks and volumes are found again by
// these labels alone (there is no project database), so another Compose (docker compose, or
// docker-compose 1.29 reading the same labels) sees Berth's projects as its own.
//
// Berth follows Compose v2.30's behaviour (labels, hash input, recreate naming); the version
// label says so, as Compose writes its own version there.
import type { Project, Service } from '../model/types.ts';

export const COMPOSE_VERSION = '2.30.0';

export const PROJECT = 'com.docker.compose.project';
export const SERVICE = 'com.docker.compose.service';
export const CONFIG_HASH = 'com.docker.compose.config-hash';
export const CONTAINER_NUMBER = 'com.docker.compose.container-number';
export const ONEOFF = 'com.docker.compose.oneoff';
export const SLUG = 'com.docker.compose.slug';
export const IMAGE = 'com.docker.compose.image';
export const DEPENDS_ON = 'com.docker.compose.depends_on';
export const WORKING_DIR = 'com.docker.compose.project.working_dir';
export const CONFIG_FILES = 'com.docker.compose.project.config_files';
export const ENVIRONMENT_FILE = 'com.docker.compose.project.environment_file';
export const VERSION = 'com.docker.compose.version';
export const NETWORK = 'com.docker.compose.network';
export const VOLUME = 'com.docker.compose.volume';
export const REPLACE = 'com.docker.compose.replace';
export const CONFIG_HASH_NETWORK = 'com.docker.compose.config-hash';

/** `project=<name>` as a label filter for /containers/json, /networks, /volumes. */
export function projectFilter(project: string, more: string[] = []): string {
  return JSON.stringify({ label: [`${PROJECT}=${project}`, ...more] });
}

/**
 * `db:service_healthy:false,cache:service_started:true`: the dependencies with their condition and
 * restart flag, in the order of the model (Compose writes them in map order, which is sorted).
 */
export function dependsOnLabel(s: Service): string {
  return Object.keys(s.depends_on ?? {}).sort()
    .map((k) => `${k}:${s.depends_on![k]!.condition}:${s.depends_on![k]!.restart ? 'true' : 'false'}`).join(',');
}

/** The labels Compose puts on every container of a service (the service's own labels go under them). */
export function containerLabels(project: Project, s: Service, number: number, oneoff: boolean, hash: string, envFiles: string[] = []): Record<string, string> {
  const l: Record<string, string> = {
    ...(s.labels ?? {}),
    [PROJECT]: project.name,
    [SERVICE]: s.name,
    [VERSION]: COMPOSE_VERSION,
    [ONEOFF]: oneoff ? 'True' : 'False',
    [CONFIG_HASH]: hash,
    [WORKING_DIR]: project.workingDir,
    [CONFIG_FILES]: project.configFiles.join(','),
    [DEPENDS_ON]: dependsOnLabel(s),
  };
  if (!oneoff) l[CONTAINER_NUMBER] = String(number);
  if (envFiles.length) l[ENVIRONMENT_FILE] = envFiles.join(',');
  return l;
}

export function networkLabels(project: Project, key: string, own: Record<string, string> = {}): Record<string, string> {
  return { ...own, [NETWORK]: key, [PROJECT]: project.name, [VERSION]: COMPOSE_VERSION };
}

export function volumeLabels(project: Project, key: string, own: Record<string, string> = {}): Record<string, string> {
  return { ...own, [VOLUME]: key, [PROJECT]: project.name, [VERSION]: COMPOSE_VERSION };
}
