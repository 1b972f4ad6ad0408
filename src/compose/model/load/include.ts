// Top-level `include:`: each entry is a project of its own (its files merged like several -f,
// its own project directory and .env), loaded first and then imported into the including file's
// document. Its relative paths are relative to its project directory, so they are made absolute
// before the import. A resource the including file also defines is an error unless both are the
// same (Compose: "services.x conflicts with imported resource"); a file that includes itself,
// directly or not, is Compose's "include cycle detected".
import { stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { ComposeError } from '../types.ts';
import { readEnvFiles } from './env-file.ts';
import { rebaseDocument } from './paths.ts';
import { isMapping } from './yaml-file.ts';

type Dict = Record<string, unknown>;

export interface IncludeEntry {
  path: string[];
  project_directory?: string;
  env_file?: string[];
}

export interface IncludeContext {
  /** the including project's directory: relative include paths are relative to it */
  baseDir: string;
  /** the including project's interpolation environment (wins over the included .env) */
  env: Record<string, string>;
  /** files being included, outermost first (cycle detection) */
  chain: string[];
  /** loads files as one project: read, interpolate, extends, include, merge */
  loadProject: (files: string[], projectDir: string, env: Record<string, string>, chain: string[]) => Promise<Dict>;
}

const strings = (v: unknown, what: string): string[] => {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  throw new ComposeError(`include.${what} must be a string or a list of strings`);
};

/** The `include:` section in its long form. */
export function parseInclude(v: unknown): IncludeEntry[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ComposeError('include must be a list');
  return v.map((item) => {
    if (typeof item === 'string') return { path: [item] };
    if (!isMapping(item) || item.path === undefined) throw new ComposeError('include entries must be a path or a mapping with a path');
    const e: IncludeEntry = { path: strings(item.path, 'path') };
    if (item.project_directory !== undefined) e.project_directory = String(item.project_directory);
    if (item.env_file !== undefined) e.env_file = strings(item.env_file, 'env_file');
    return e;
  });
}

const KINDS = ['services', 'networks', 'volumes', 'secrets', 'configs'];

/** Loads the document's includes and imports their resources; returns the document without `include`. */
export async function applyInclude(doc: Dict, ctx: IncludeContext): Promise<Dict> {
  const entries = parseInclude(doc.include);
  const out: Dict = { ...doc };
  delete out.include;
  for (const entry of entries) {
    const files = entry.path.map((p) => resolve(ctx.baseDir, p));
    const projectDir = entry.project_directory === undefined ? dirname(files[0]) : resolve(ctx.baseDir, entry.project_directory);
    if (ctx.chain.includes(files[0])) {
      const chain = [...ctx.chain, files[0]];
      throw new ComposeError(`include cycle detected:\n${chain[0]}\n include ${chain.slice(1).join('\n include ')}`);
    }
    let envFiles: string[];
    if (entry.env_file === undefined) {
      const dflt = join(projectDir, '.env');
      envFiles = (await stat(dflt).then((s) => s.isFile(), () => false)) ? [dflt] : [];
    } else {
      envFiles = entry.env_file.filter((f) => f !== '/dev/null').map((f) => (isAbsolute(f) ? f : resolve(ctx.baseDir, f)));
    }
    const values = await readEnvFiles(envFiles, ctx.env, ctx.baseDir);
    const env = { ...values, ...ctx.env };
    const imported = rebaseDocument(await ctx.loadProject(files, projectDir, env, [...ctx.chain, files[0]]), projectDir);
    for (const kind of KINDS) {
      const from = imported[kind];
      if (!isMapping(from)) continue;
      const target: Dict = isMapping(out[kind]) ? { ...out[kind] } : {};
      for (const [name, res] of Object.entries(from)) {
        if (Object.hasOwn(target, name) && !isDeepStrictEqual(target[name], res)) {
          throw new ComposeError(`${kind}.${name} conflicts with imported resource`);
        }
        target[name] = res;
      }
      out[kind] = target;
    }
  }
  return out;
}
