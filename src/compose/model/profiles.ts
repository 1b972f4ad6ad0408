// Which services a command works on: a service with `profiles:` is enabled only when one of its
// profiles is active (--profile, COMPOSE_PROFILES; `*` enables every profile); a service named on
// the command line is enabled whatever its profiles, and so are the services it depends on
// (Compose's rule, so `compose run tool` works without `--profile`). An enabled service that
// requires a disabled one is an error; with `required: false` the dependency is dropped.

import { ComposeError, type Project, type Service } from './types.ts';

/** Moves the services left out by profiles to disabledServices; returns the new project. */
export function applyProfiles(project: Project, active: string[], named: string[] = []): Project {
  const all: Record<string, Service> = { ...project.disabledServices, ...project.services };
  for (const name of named) {
    if (all[name] === undefined) throw new ComposeError(`no such service: ${name}`);
  }
  const everyProfile = active.includes('*');
  const enabled = new Set<string>();
  for (const [name, s] of Object.entries(all)) {
    if (s.profiles === undefined || s.profiles.length === 0 || everyProfile || s.profiles.some((p) => active.includes(p))) {
      enabled.add(name);
    }
  }
  // Named services pull in their dependencies, transitively, whatever their profiles.
  const pending = [...named];
  const seen = new Set<string>();
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    enabled.add(name);
    for (const [dep, d] of Object.entries(all[name]?.depends_on ?? {})) {
      if (all[dep] !== undefined || d.required) pending.push(dep);
    }
  }
  const services: Record<string, Service> = {};
  const disabledServices: Record<string, Service> = {};
  for (const [name, s] of Object.entries(all)) (enabled.has(name) ? services : disabledServices)[name] = s;
  for (const name of Object.keys(services)) {
    let s = services[name]!;
    if (s.depends_on === undefined) continue;
    for (const [dep, d] of Object.entries(s.depends_on)) {
      if (services[dep] !== undefined) continue;
      const disabled = disabledServices[dep];
      if (!d.required) {
        const rest = { ...s.depends_on };
        delete rest[dep];
        services[name] = s = { ...s, depends_on: rest };
        continue;
      }
      if (disabled !== undefined) {
        throw new ComposeError(
          `service "${dep}" is required by "${name}" but is disabled. Can be enabled by profiles [${(disabled.profiles ?? []).join(' ')}]`,
        );
      }
    }
  }
  return { ...project, services, disabledServices, profiles: [...active] };
}

/** Every profile named by some service, sorted (what `config --profiles` prints). */
export function allProfiles(project: Project): string[] {
  const names = new Set<string>();
  for (const s of [...Object.values(project.services), ...Object.values(project.disabledServices)]) {
    for (const p of s.profiles ?? []) names.add(p);
  }
  return [...names].sort();
}
