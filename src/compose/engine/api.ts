// What the compose engine offers the compose CLI: one function per verb, each taking the loaded
// Project, the Engine API client and the verb's options, and reporting what it does to a
// ProgressSink (the CLI renders it as Compose v2 does: ` ✔ Container shop-db-1  Started`).
// Only types live here; compose/engine/*.ts implement them (service.ts is the entry point).
import type { EngineClient } from '../../client/engine-client.ts';
import type { Project } from '../model/types.ts';

/** One line of Compose's progress: `Container shop-db-1  Started` is {kind: 'Container', name: 'shop-db-1', status: 'Started'}. */
export interface ProgressEvent {
  kind: 'Container' | 'Network' | 'Volume' | 'Image' | 'Service' | 'Secret' | 'Config' | string;
  name: string;
  /** Compose's words: Creating/Created, Recreate/Recreated, Starting/Started, Waiting/Healthy/Exited,
   * Stopping/Stopped, Killing/Killed, Removing/Removed, Pulling/Pulled, Building/Built, Pushing/Pushed,
   * Running, Paused/Unpaused, Restarting/Restarted, Error */
  status: string;
  /** extra text after the status (an error's message, a pull's progress) */
  text?: string;
  /** false while the step runs (Creating), true when it ended (Created) */
  done: boolean;
  error?: boolean;
}

export interface ProgressSink {
  event(e: ProgressEvent): void;
  /** a free line (build output, warnings), printed above the progress */
  line?(text: string): void;
}

export interface ComposeContext {
  client: EngineClient;
  progress: ProgressSink;
  /** warnings for fields the engine cannot honour ("services.web.deploy.placement is not supported: ignored") */
  warn(text: string): void;
  /** aborts a long wait (Ctrl-C during up --wait) */
  signal?: AbortSignal;
  /** the X-Registry-Auth value for pulling or pushing this image (the CLI fills it from its config) */
  registryAuth?(image: string): Promise<string | undefined>;
  /** the --env-file paths as given: Compose records them in com.docker.compose.project.environment_file */
  envFiles?: string[];
}

export interface CreateOptions {
  /** only these services (and, unless noDeps, what they depend on); empty: all */
  services: string[];
  build?: 'always' | 'never' | 'missing';
  recreate: 'diverged' | 'force' | 'never';
  /** for dependencies (not the named services): Compose uses 'diverged' */
  recreateDependencies?: 'diverged' | 'force' | 'never';
  noDeps?: boolean;
  removeOrphans?: boolean;
  /** service → replicas, overrides deploy.replicas / scale */
  scale?: Record<string, number>;
  /** stop timeout for recreate, seconds */
  timeout?: number;
  pull?: 'always' | 'missing' | 'never' | 'build';
  /** up -V: recreated containers get new anonymous volumes instead of the previous containers' */
  renewAnonVolumes?: boolean;
}

export interface StartOptions {
  services: string[];
  /** --wait: until every started service is running/healthy (or completed) */
  wait?: boolean;
  waitTimeoutSeconds?: number;
  /** only the named services; by default their dependencies start too (as Compose selects a project's services) */
  noDeps?: boolean;
}

export interface DownOptions {
  removeOrphans?: boolean;
  /** -v: named volumes of the project and anonymous volumes of its containers */
  volumes?: boolean;
  /** --rmi local|all */
  rmi?: 'local' | 'all';
  timeout?: number;
  services?: string[];
}

/** A container of the project as ps/logs/exec see it. */
export interface ProjectContainer {
  id: string;
  name: string;
  service: string;
  /** com.docker.compose.container-number */
  number: number;
  oneoff: boolean;
  state: string;
  status: string;
  health?: string;
  exitCode?: number;
  image: string;
  command: string;
  created: number;
  ports: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[];
  labels: Record<string, string>;
}

/**
 * The verbs (implemented in compose/engine/service.ts). The CLI composes them: `up` is
 * create + start (+ attach/logs when not -d, done by the CLI); `run` is createOneOff + the CLI's
 * attach; `restart` is stop + start of the same containers.
 */
export interface ComposeEngine {
  create(ctx: ComposeContext, project: Project, opts: CreateOptions): Promise<void>;
  start(ctx: ComposeContext, project: Project, opts: StartOptions): Promise<void>;
  stop(ctx: ComposeContext, project: Project, services: string[], timeout?: number): Promise<void>;
  restart(ctx: ComposeContext, project: Project, services: string[], timeout?: number, noDeps?: boolean): Promise<void>;
  kill(ctx: ComposeContext, project: Project, services: string[], signal?: string, removeOrphans?: boolean): Promise<void>;
  remove(ctx: ComposeContext, project: Project, services: string[], opts: { stop?: boolean; volumes?: boolean; force?: boolean }): Promise<void>;
  pause(ctx: ComposeContext, project: Project, services: string[]): Promise<void>;
  unpause(ctx: ComposeContext, project: Project, services: string[]): Promise<void>;
  down(ctx: ComposeContext, project: Project, opts: DownOptions): Promise<void>;
  /** by project name only (down/ps/logs work without a compose file when -p is given, as Compose does) */
  containers(client: EngineClient, projectName: string, opts: { all?: boolean; services?: string[]; oneoff?: 'exclude' | 'include' | 'only' }): Promise<ProjectContainer[]>;
  build(ctx: ComposeContext, project: Project, services: string[], opts: { noCache?: boolean; pull?: boolean; args?: Record<string, string>; quiet?: boolean }): Promise<void>;
  pull(ctx: ComposeContext, project: Project, services: string[], opts: { ignoreFailures?: boolean; quiet?: boolean; includeDeps?: boolean }): Promise<void>;
  push(ctx: ComposeContext, project: Project, services: string[], opts: { ignoreFailures?: boolean; quiet?: boolean }): Promise<void>;
  /**
   * `run`: networks/volumes ensured, dependencies started unless noDeps, then one one-off
   * container created (`<project>-<service>-run-<12 hex>`, com.docker.compose.oneoff=True) from the
   * service with the overrides; returns its ID (the CLI starts and attaches it).
   */
  createOneOff(ctx: ComposeContext, project: Project, service: string, opts: RunOverrides): Promise<string>;
}

export interface RunOverrides {
  command?: string[];
  entrypoint?: string[];
  env?: string[];
  labels?: string[];
  name?: string;
  user?: string;
  workdir?: string;
  servicePorts?: boolean;
  publish?: string[];
  volumes?: string[];
  noDeps?: boolean;
  tty: boolean;
  interactive: boolean;
  rm?: boolean;
  build?: boolean;
}
