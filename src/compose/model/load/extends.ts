// `extends`: a service takes another service's configuration (from the same file, or from
// `file:`) as its base and merges its own over it with merge.ts's rules. Bases are resolved
// recursively; a chain that comes back to a service already on it is Compose's
// "Circular reference" error. A base from another file is read with the same environment as the
// extending file, its own extends resolved in that file, and its relative paths made absolute
// against that file's directory. `extends` is gone from every service afterwards.
import { dirname, resolve } from 'node:path';
import { ComposeError } from '../types.ts';
import { mergeService } from './merge.ts';
import { rebaseService } from './paths.ts';
import { isMapping } from './yaml-file.ts';

type Dict = Record<string, unknown>;

export interface ExtendsContext {
  /** the file the services come from (for messages and cycle detection) */
  file: string;
  /** what a relative `extends.file` is relative to */
  baseDir: string;
  /** reads, parses and interpolates another Compose file (cached by the caller) */
  readDocument: (file: string) => Promise<Dict>;
}

/** Resolves every service's `extends` in `doc` (a copy is returned). */
export async function applyExtends(doc: Dict, ctx: ExtendsContext): Promise<Dict> {
  if (!isMapping(doc.services)) return doc;
  const services: Dict = { ...doc.services };
  for (const name of Object.keys(services)) {
    services[name] = await resolveService(name, services, ctx, []);
  }
  return { ...doc, services };
}

async function resolveService(name: string, services: Dict, ctx: ExtendsContext, chain: string[]): Promise<unknown> {
  const svc = services[name];
  if (!isMapping(svc) || svc.extends === undefined) return svc;
  const here = `${name} in ${ctx.file}`;
  if (chain.includes(here)) {
    const lines = ['Circular reference:', `  ${chain[0]}`, ...[...chain.slice(1), here].map((s) => `  extends ${s}`)];
    throw new ComposeError(lines.join('\n'));
  }
  const ext = svc.extends;
  let ref: string;
  let file: string | undefined;
  if (typeof ext === 'string') ref = ext;
  else if (isMapping(ext) && typeof ext.service === 'string') {
    ref = ext.service;
    file = typeof ext.file === 'string' ? ext.file : undefined;
  } else {
    throw new ComposeError(`extends.${name}.service is required`);
  }
  let base: unknown;
  if (file !== undefined) {
    const abs = resolve(ctx.baseDir, file);
    const other = await ctx.readDocument(abs);
    if (other.services === undefined) throw new ComposeError(`cannot extend service "${name}" in ${abs}: no services section`);
    if (!isMapping(other.services)) throw new ComposeError(`cannot extend service "${name}" in ${abs}: services must be a mapping`);
    const otherServices: Dict = { ...other.services };
    if (!isMapping(otherServices[ref])) throw new ComposeError(`cannot extend service "${name}" in ${ctx.file}: service "${ref}" not found in ${file}`);
    const otherCtx: ExtendsContext = { ...ctx, file: abs, baseDir: dirname(abs) };
    base = await resolveService(ref, otherServices, otherCtx, [...chain, here]);
    base = rebaseService(base as Dict, dirname(abs));
  } else {
    if (!isMapping(services[ref])) throw new ComposeError(`cannot extend service "${name}" in ${ctx.file}: service "${ref}" not found`);
    base = await resolveService(ref, services, ctx, [...chain, here]);
    // the resolved base is kept so that later services extending it do not resolve it again
    services[ref] = base;
  }
  const own: Dict = { ...svc };
  delete own.extends;
  const merged = mergeService(base as Dict, own);
  delete merged.extends;
  return merged;
}
