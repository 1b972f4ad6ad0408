// The project's name, by Compose's precedence: -p, then COMPOSE_PROJECT_NAME (process env or
// .env), then the top-level `name:` of the files (after interpolation), then the project
// directory's base name. Names the user gave imperatively (-p, COMPOSE_PROJECT_NAME) must already
// be valid; the others are normalized (lowercased, other characters dropped, leading - and _ cut).
import { basename } from 'node:path';
import { ComposeError } from '../types.ts';

/** compose-go's NormalizeProjectName. */
export function normalizeProjectName(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[_-]+/, '');
}

export function invalidProjectName(name: string): ComposeError {
  return new ComposeError(
    `invalid project name ${JSON.stringify(name)}: must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number`,
  );
}

export function projectName(opts: { flag?: string; env: Record<string, string | undefined>; fromFile: unknown; workingDir: string }): string {
  let name: string;
  const imperative = opts.flag || opts.env.COMPOSE_PROJECT_NAME;
  if (imperative) {
    name = imperative;
  } else {
    if (opts.fromFile !== undefined && opts.fromFile !== null && typeof opts.fromFile !== 'string') throw new ComposeError('project name must be a string');
    const fromFile = normalizeProjectName((opts.fromFile as string | undefined) ?? '');
    name = fromFile || normalizeProjectName(basename(opts.workingDir));
  }
  if (name === '') throw new ComposeError('project name must not be empty');
  if (normalizeProjectName(name) !== name) throw invalidProjectName(name);
  return name;
}
