// A container's environment, in the two places Docker builds it:
// - Config.Env at create (moby daemon/commit.go merge): the user's list as given, entries without
//   `=` kept as they are (the API's way to say "unset this"), then the image's entries whose key
//   the user did not name.
// - the process's env at start (moby container.CreateDaemonEnvironment): PATH, HOSTNAME, TERM
//   (with a tty) and the legacy links' variables first, then Config.Env replacing same-named
//   entries in place or appended; an entry without `=` removes a default of that name
//   (ReplaceOrAppendEnvValues). HOME is added later, by the spec, when still missing.

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const keyOf = (e: string): string => e.split('=')[0]!;

/** Config.Env of a new container: the user's entries first, then the image's the user did not override. */
export function mergeConfigEnv(image: readonly string[] | null | undefined, user: readonly string[] | null | undefined): string[] {
  if (!user?.length) return [...(image ?? [])];
  const keys = new Set(user.map(keyOf));
  return [...user, ...(image ?? []).filter((e) => !keys.has(keyOf(e)))];
}

/**
 * moby's ReplaceOrAppendEnvValues: each override with `=` replaces the default of its key in
 * place or is appended; one without `=` removes that default. Only the defaults are looked up
 * (an appended override is not), so two overrides of a new key both stay, as in moby.
 */
export function replaceOrAppendEnv(defaults: readonly string[], overrides: readonly string[]): string[] {
  const out: (string | null)[] = [...defaults];
  const index = new Map<string, number>();
  defaults.forEach((e, i) => index.set(keyOf(e), i));
  for (const v of overrides) {
    const eq = v.indexOf('=');
    const i = index.get(eq < 0 ? v : v.slice(0, eq));
    if (eq < 0) { if (i !== undefined) out[i] = null; continue; }
    if (i !== undefined) out[i] = v; else out.push(v);
  }
  return out.filter((e): e is string => e !== null && e !== '');
}

/** The process env of a container's main process (moby CreateDaemonEnvironment). */
export function daemonEnvironment(o: { hostname: string; tty: boolean; linkEnv: readonly string[]; env: readonly string[] | null | undefined }): string[] {
  const base = [`PATH=${DEFAULT_PATH}`, `HOSTNAME=${o.hostname}`, ...(o.tty ? ['TERM=xterm'] : []), ...o.linkEnv];
  return replaceOrAppendEnv(base, o.env ?? []);
}
