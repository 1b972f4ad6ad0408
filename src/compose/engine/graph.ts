// The services' dependency graph. An edge runs from a service to each service it needs first:
// depends_on, network_mode "service:x", volumes_from "x" (not "container:x") and links. Compose
// walks it as we do here: create/start visit a service once all its dependencies are done (the
// independent ones in parallel), stop/remove visit it once all its dependents are done.
import { ComposeError, type Project, type Service } from '../model/types.ts';

/** The services `s` needs first, that are part of the project (an optional missing dependency is skipped). */
export function dependenciesOf(project: Project, s: Service): string[] {
  const out = new Set<string>();
  for (const [name, d] of Object.entries(s.depends_on ?? {})) {
    if (project.services[name]) out.add(name);
    else if (d.required !== false && !project.disabledServices[name]) {
      throw new ComposeError(`service "${s.name}" depends on undefined service "${name}": invalid compose project`);
    }
  }
  if (s.network_mode?.startsWith('service:')) out.add(s.network_mode.slice('service:'.length));
  for (const v of s.volumes_from ?? []) {
    if (v.startsWith('container:')) continue;
    out.add(v.split(':')[0]!);
  }
  for (const l of s.links ?? []) out.add(l.split(':')[0]!);
  for (const n of out) {
    if (!project.services[n]) throw new ComposeError(`service "${s.name}" refers to undefined service "${n}": invalid compose project`);
  }
  out.delete(s.name);
  return [...out].sort();
}

/** Fails with Compose's wording on the first cycle found. */
export function checkCycles(project: Project): void {
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]): void => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      const cycle = [...path.slice(path.indexOf(name)), name];
      throw new ComposeError(`dependency cycle detected: ${cycle.join(' -> ')}`);
    }
    state.set(name, 'visiting');
    for (const d of dependenciesOf(project, project.services[name]!)) visit(d, [...path, name]);
    state.set(name, 'done');
  };
  for (const name of Object.keys(project.services).sort()) visit(name, []);
}

/** The named services plus everything they need (transitively); all services when none are named. */
export function withDependencies(project: Project, names: string[]): string[] {
  if (!names.length) return Object.keys(project.services).sort();
  const out = new Set<string>();
  const add = (n: string): void => {
    if (out.has(n)) return;
    const s = project.services[n];
    if (!s) throw new ComposeError(`no such service: ${n}`);
    out.add(n);
    for (const d of dependenciesOf(project, s)) add(d);
  };
  names.forEach(add);
  return [...out].sort();
}

/** The named services plus everything that needs them (transitively): what a stop of `names` must stop first. */
export function withDependents(project: Project, names: string[]): string[] {
  const out = new Set(names);
  let grew = true;
  while (grew) {
    grew = false;
    for (const s of Object.values(project.services)) {
      if (out.has(s.name)) continue;
      if (dependenciesOf(project, s).some((d) => out.has(d))) { out.add(s.name); grew = true; }
    }
  }
  return [...out].sort();
}

/**
 * Runs fn for each of `names` once fn finished for all of its dependencies among `names`
 * (reverse: once it finished for all its dependents), independent services concurrently. The
 * first failure stops further visits and is thrown once the running ones ended, as Compose's
 * errgroup does.
 */
export async function visitInOrder(project: Project, names: string[], fn: (name: string) => Promise<void>, reverse = false): Promise<void> {
  checkCycles(project);
  const set = new Set(names);
  const deps = new Map<string, string[]>();
  for (const n of set) deps.set(n, dependenciesOf(project, project.services[n]!).filter((d) => set.has(d)));
  const waitsFor = new Map<string, string[]>();
  for (const n of set) waitsFor.set(n, reverse ? [...set].filter((m) => deps.get(m)!.includes(n)) : deps.get(n)!);
  const done = new Map<string, Promise<void>>();
  let failed: unknown;
  const run = (n: string): Promise<void> => {
    let p = done.get(n);
    if (p) return p;
    p = (async () => {
      await Promise.all(waitsFor.get(n)!.map(run));
      if (failed === undefined) await fn(n);
    })().catch((err: unknown) => { failed ??= err; });
    done.set(n, p);
    return p;
  };
  await Promise.all([...set].sort().map(run));
  if (failed !== undefined) throw failed;
}
