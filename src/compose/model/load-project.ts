// The one way a command gets its Project: the loader's merged document (H1's loadRawProject:
// files, .env, interpolation, include, extends, several -f), checked against the spec, brought
// to the normal form, its dependency graph checked, profiles applied, and the resources no
// enabled service uses left out (as Compose's `config` and `up` leave them out).

import { loadRawProject } from './load/load-raw.ts';
import { normalizeProject } from './normalize.ts';
import { applyProfiles } from './profiles.ts';
import { ComposeError, type LoadOptions, type Project, type RawProject } from './types.ts';
import { validateDict, VERSION_OBSOLETE_WARNING } from './validate.ts';

export interface LoadedProject {
  project: Project;
  /** to print on stderr, as Compose prints them (`WARN[0000] <text>`, the CLI decides the prefix) */
  warnings: string[];
}

export async function loadProject(opts: LoadOptions, extra: { services?: string[] } = {}): Promise<LoadedProject> {
  const raw = await loadRawProject(opts);
  const loaded = projectFromRaw(raw, opts.profiles, extra.services ?? []);
  // The loader warns of `version:` per file, with the file's name, as Compose does.
  const own = loaded.warnings.filter((w) => w !== VERSION_OBSOLETE_WARNING);
  return { project: loaded.project, warnings: [...raw.warnings, ...own] };
}

/** The checks and normal form on an already loaded document (tests start here). */
export function projectFromRaw(raw: RawProject, profiles: string[], named: string[] = []): LoadedProject {
  const warnings = validateDict(raw.dict, raw.configFiles[0] ?? raw.workingDir);
  let project = normalizeProject(raw);
  checkDependencies(project);
  project = applyProfiles(project, profiles, named);
  checkReferences(project);
  return { project: withoutUnusedResources(project), warnings };
}

/**
 * depends_on must name services of the project (a `required: false` one may be missing) and
 * must not loop. Checked over all services, before profiles, as a cycle is a fault of the file.
 */
export function checkDependencies(project: Project): void {
  const all = { ...project.disabledServices, ...project.services };
  for (const name of Object.keys(all).sort()) {
    for (const [dep, d] of Object.entries(all[name]!.depends_on ?? {})) {
      if (all[dep] === undefined && d.required) {
        throw new ComposeError(`service "${name}" depends on undefined service "${dep}": invalid compose project`);
      }
    }
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]): void => {
    if (state.get(name) === 'done' || all[name] === undefined) return;
    if (state.get(name) === 'visiting') {
      const loop = [...path.slice(path.indexOf(name)), name];
      throw new ComposeError(`dependency cycle detected: ${loop.join(' -> ')}`);
    }
    state.set(name, 'visiting');
    for (const dep of Object.keys(all[name]!.depends_on ?? {}).sort()) visit(dep, [...path, name]);
    state.set(name, 'done');
  };
  for (const name of Object.keys(all).sort()) visit(name, []);
}

/**
 * The networks, named volumes, secrets and configs an enabled service names must be declared
 * at the top level (compose-go's consistency check, with its wording).
 */
export function checkReferences(project: Project): void {
  const undefinedRef = (service: string, kind: string, name: string) =>
    new ComposeError(`service "${service}" refers to undefined ${kind} ${name}: invalid compose project`);
  for (const name of Object.keys(project.services).sort()) {
    const s = project.services[name]!;
    for (const n of Object.keys(s.networks ?? {})) {
      if (project.networks[n] === undefined) throw undefinedRef(name, 'network', n);
    }
    for (const v of s.volumes ?? []) {
      if (v.type === 'volume' && v.source !== undefined && project.volumes[v.source] === undefined) throw undefinedRef(name, 'volume', v.source);
    }
    for (const r of [...(s.secrets ?? []), ...(s.build?.secrets ?? [])]) {
      if (project.secrets[r.source] === undefined) throw undefinedRef(name, 'secret', r.source);
    }
    for (const r of s.configs ?? []) {
      if (project.configs[r.source] === undefined) throw undefinedRef(name, 'config', r.source);
    }
  }
}

/** Networks, volumes, secrets and configs that no enabled service uses are left out. */
export function withoutUnusedResources(project: Project): Project {
  const nets = new Set<string>();
  const vols = new Set<string>();
  const secrets = new Set<string>();
  const configs = new Set<string>();
  for (const s of Object.values(project.services)) {
    for (const n of Object.keys(s.networks ?? {})) nets.add(n);
    for (const v of s.volumes ?? []) if (v.type === 'volume' && v.source !== undefined) vols.add(v.source);
    for (const r of s.secrets ?? []) secrets.add(r.source);
    for (const r of s.build?.secrets ?? []) secrets.add(r.source);
    for (const r of s.configs ?? []) configs.add(r.source);
  }
  const keep = <T>(m: Record<string, T>, used: Set<string>) => Object.fromEntries(Object.entries(m).filter(([k]) => used.has(k)));
  return {
    ...project,
    networks: keep(project.networks, nets),
    volumes: keep(project.volumes, vols),
    secrets: keep(project.secrets, secrets),
    configs: keep(project.configs, configs),
  };
}
