// Rebasing the relative paths of a document that came from another directory (an included
// project, a service extended from another file). Files given with -f all share the project
// directory, so their paths stay as written and normalization resolves them; an included file's
// or an extended file's paths are relative to *its* directory (Compose's rule), so they are made
// absolute here before the document joins the project. Remote build contexts, named volumes and
// `~` paths are left alone.
import { isAbsolute, resolve } from 'node:path';
import { isMapping } from './yaml-file.ts';

type Dict = Record<string, unknown>;

const isRemote = (s: string): boolean => s.includes('://') || s.startsWith('git@') || s.startsWith('github.com/') || s.startsWith('service:');

function abs(dir: string, p: unknown): unknown {
  if (typeof p !== 'string' || p === '' || isAbsolute(p) || p.startsWith('~') || isRemote(p)) return p;
  return resolve(dir, p);
}

/** A short volume spec `src:dst[:mode]` with a path source (`.`-prefixed) gets an absolute source. */
function shortVolume(dir: string, spec: string): string {
  const i = spec.indexOf(':');
  if (i < 0) return spec;
  const src = spec.slice(0, i);
  if (!src.startsWith('.')) return spec;
  return `${resolve(dir, src)}${spec.slice(i)}`;
}

function service(dir: string, svc: Dict): Dict {
  const s: Dict = { ...svc };
  if (typeof s.build === 'string') s.build = abs(dir, s.build);
  else if (isMapping(s.build)) {
    const b: Dict = { ...s.build };
    b.context = abs(dir, b.context ?? '.');
    if (isMapping(b.additional_contexts)) {
      b.additional_contexts = Object.fromEntries(Object.entries(b.additional_contexts).map(([k, v]) => [k, abs(dir, v)]));
    }
    s.build = b;
  }
  const envFile = (e: unknown): unknown => (isMapping(e) ? { ...e, path: abs(dir, e.path) } : abs(dir, e));
  if (Array.isArray(s.env_file)) s.env_file = s.env_file.map(envFile);
  else if (s.env_file !== undefined) s.env_file = envFile(s.env_file);
  if (Array.isArray(s.label_file)) s.label_file = s.label_file.map((f) => abs(dir, f));
  else if (s.label_file !== undefined) s.label_file = abs(dir, s.label_file);
  if (Array.isArray(s.volumes)) {
    s.volumes = s.volumes.map((v) => {
      if (typeof v === 'string') return shortVolume(dir, v);
      if (isMapping(v) && (v.type === 'bind' || v.type === undefined) && typeof v.source === 'string' && (v.type === 'bind' || v.source.startsWith('.'))) {
        return { ...v, source: abs(dir, v.source) };
      }
      return v;
    });
  }
  if (isMapping(s.extends) && typeof s.extends.file === 'string') s.extends = { ...s.extends, file: abs(dir, s.extends.file) };
  if (isMapping(s.develop) && Array.isArray(s.develop.watch)) {
    s.develop = { ...s.develop, watch: s.develop.watch.map((w) => (isMapping(w) ? { ...w, path: abs(dir, w.path) } : w)) };
  }
  return s;
}

/** One service's paths made absolute against `dir`. */
export function rebaseService(svc: Dict, dir: string): Dict {
  return service(dir, svc);
}

/** A whole document's paths made absolute against `dir`. */
export function rebaseDocument(doc: Dict, dir: string): Dict {
  const out: Dict = { ...doc };
  if (isMapping(doc.services)) {
    out.services = Object.fromEntries(Object.entries(doc.services).map(([k, v]) => [k, isMapping(v) ? service(dir, v) : v]));
  }
  for (const kind of ['secrets', 'configs']) {
    const m = doc[kind];
    if (isMapping(m)) {
      out[kind] = Object.fromEntries(Object.entries(m).map(([k, v]) => [k, isMapping(v) && v.file !== undefined ? { ...v, file: abs(dir, v.file) } : v]));
    }
  }
  return out;
}
