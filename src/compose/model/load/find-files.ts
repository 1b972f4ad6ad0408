// Which Compose files a project is made of. -f wins; else COMPOSE_FILE (split on
// COMPOSE_PATH_SEPARATOR, default ':'); else the first of Compose v2's default names found in the
// working directory or, failing that, its parents, with the first override file beside it.
// Relative names are relative to the current directory; `-` (stdin) stays `-`.
import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ComposeError } from '../types.ts';

/** Compose v2's order of preference (compose-go cli.DefaultFileNames). */
export const DEFAULT_FILE_NAMES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'];
/** compose-go cli.DefaultOverrideFileNames */
export const DEFAULT_OVERRIDE_NAMES = ['compose.override.yml', 'compose.override.yaml', 'docker-compose.override.yml', 'docker-compose.override.yaml'];

export interface FoundFiles {
  files: string[];
  warnings: string[];
}

const isFile = (p: string): Promise<boolean> => stat(p).then((s) => s.isFile(), () => false);

async function present(dir: string, names: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const n of names) if (await isFile(join(dir, n))) found.push(join(dir, n));
  return found;
}

/**
 * The project's files in load order. `env` is the environment COMPOSE_FILE is read from (the
 * process environment over .env); `startDir` is where the search for default names begins.
 */
export async function findComposeFiles(opts: { files: string[]; env: Record<string, string | undefined>; cwd: string; startDir: string }): Promise<FoundFiles> {
  const abs = (f: string): string => (f === '-' ? f : resolve(opts.cwd, f));
  if (opts.files.length > 0) return { files: opts.files.map(abs), warnings: [] };
  const fromEnv = opts.env.COMPOSE_FILE;
  if (fromEnv) {
    const sep = opts.env.COMPOSE_PATH_SEPARATOR || ':';
    return { files: fromEnv.split(sep).filter((f) => f !== '').map(abs), warnings: [] };
  }
  const warnings: string[] = [];
  let dir = resolve(opts.startDir);
  for (;;) {
    const candidates = await present(dir, DEFAULT_FILE_NAMES);
    if (candidates.length > 0) {
      const winner = candidates[0];
      if (candidates.length > 1) {
        warnings.push(`Found multiple config files with supported names: ${candidates.join(', ')}`, `Using ${winner}`);
      }
      const overrides = await present(dir, DEFAULT_OVERRIDE_NAMES);
      if (overrides.length > 1) {
        warnings.push(`Found multiple override files with supported names: ${overrides.join(', ')}`, `Using ${overrides[0]}`);
      }
      return { files: overrides.length > 0 ? [winner, overrides[0]] : [winner], warnings };
    }
    const parent = dirname(dir);
    if (parent === dir) throw new ComposeError('no configuration file provided: not found');
    dir = parent;
  }
}
