// The module boundaries of DESIGN.md/STYLE.md, checked on the import lines themselves:
// an arrow pointing the wrong way, or an import cycle, fails the suite.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, dirname, resolve, relative } from 'node:path';

const src = resolve(import.meta.dirname, '../../../src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function layer(path: string): string {
  const rel = relative(src, path);
  return rel.includes('/') ? rel.split('/')[0]! : rel.replace(/\.ts$/, '');
}

// Which layers each layer may import (itself always allowed).
const allowed: Record<string, string[]> = {
  types: [],
  errors: [],
  util: ['errors', 'types'],
  sys: ['errors', 'util', 'types'],
  image: ['sys', 'util', 'types', 'errors'],
  distribution: ['image', 'sys', 'util', 'types', 'errors'],
  registry: ['image', 'sys', 'util', 'types', 'errors'],
  runtime: ['sys', 'util', 'types', 'errors'],
  network: ['sys', 'util', 'types', 'errors'],
  volume: ['sys', 'util', 'types', 'errors'],
  builder: ['image', 'sys', 'util', 'types', 'errors'],
  engine: ['builder', 'image', 'distribution', 'runtime', 'network', 'volume', 'sys', 'util', 'types', 'errors'],
  api: ['engine', 'sys', 'util', 'types', 'errors'],
  daemon: ['api', 'engine', 'sys', 'util', 'types', 'errors'],
  client: ['types', 'errors', 'util'],
  // compose/ (the Compose model and engine) drives a daemon through the client only; cli/compose is its CLI.
  compose: ['client', 'types', 'errors', 'util'],
  cli: ['client', 'types', 'errors', 'util', 'registry', 'compose'],
  proxy: ['network', 'util', 'types', 'errors'],
};

// Single files a layer may import from a layer it otherwise may not: the CLI parses image
// references as the daemon does (the Docker CLI uses the same distribution/reference package),
// and tells the predefined networks from user-defined ones by the same list (both import nothing).
const allowedFiles: Record<string, string[]> = {
  cli: ['image/reference.ts', 'network/predefined.ts'],
};

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]/gm)) {
    out.push(resolve(dirname(file), m[1]!));
  }
  return out;
}

test('imports point the way DESIGN.md allows', () => {
  const bad: string[] = [];
  for (const f of files(src)) {
    const from = layer(f);
    for (const target of imports(f)) {
      const to = layer(target);
      if (to === from) continue;
      if (!(allowed[from] ?? []).includes(to) && !(allowedFiles[from] ?? []).includes(relative(src, target))) bad.push(`${relative(src, f)} → ${relative(src, target)}`);
    }
  }
  assert.deepEqual(bad, []);
});

test('no import cycles between modules', () => {
  const graph = new Map(files(src).map((f) => [f, imports(f)]));
  const state = new Map<string, 'visiting' | 'done'>();
  const cycles: string[] = [];
  const visit = (f: string, stack: string[]): void => {
    if (state.get(f) === 'done') return;
    if (state.get(f) === 'visiting') {
      cycles.push([...stack.slice(stack.indexOf(f)), f].map((p) => relative(src, p)).join(' → '));
      return;
    }
    state.set(f, 'visiting');
    for (const t of graph.get(f) ?? []) visit(t, [...stack, f]);
    state.set(f, 'done');
  };
  for (const f of graph.keys()) visit(f, []);
  assert.deepEqual(cycles, []);
});

// ---- issue 17: the API↔engine boundary -------------------------------------------------------

const rel = (p: string): string => relative(src, p);

/**
 * The HTTP handlers decode (api/decode), call the engine's services and entry points, and project
 * the records they return (api/views). What they may reach besides: the api/ helpers beside
 * them, types/, errors and util/. Never image/, volume/, network/, runtime/ or a store.
 */
const handlerMay = (target: string): boolean => {
  const r = rel(target);
  return r.startsWith('api/') || r.startsWith('engine/') || r.startsWith('types/') || r.startsWith('util/') || r === 'errors.ts';
};

/** Real exceptions to the handler rule, each with its reason. */
const handlerExceptions: Record<string, string> = {
  // /version and /info ask the runtime binary (`runc --version`) themselves; the engine's
  // system info could carry it instead.
  'api/handlers/system.ts → sys/exec.ts': 'runtime version for /version and /info',
};

test('API handlers import only the engine, api/decode, api/views and api helpers', () => {
  const bad: string[] = [];
  for (const f of files(join(src, 'api/handlers'))) {
    for (const target of imports(f)) {
      const edge = `${rel(f)} → ${rel(target)}`;
      if (!handlerMay(target) && !(edge in handlerExceptions)) bad.push(edge);
    }
  }
  assert.deepEqual(bad, []);
});

test('api/ never reaches past a service into its store', () => {
  const bad = files(join(src, 'api')).filter((f) => /\.store\b/.test(readFileSync(f, 'utf8'))).map(rel);
  assert.deepEqual(bad, []);
});

test('api/decode and api/views import no handler, and views decode nothing', () => {
  const bad: string[] = [];
  for (const dir of ['api/decode', 'api/views']) {
    for (const f of files(join(src, dir))) {
      for (const target of imports(f)) {
        const r = rel(target);
        if (r.startsWith('api/handlers/') || (dir === 'api/views' && r.startsWith('api/decode/'))) bad.push(`${rel(f)} → ${r}`);
      }
    }
  }
  assert.deepEqual(bad, []);
});

/**
 * Only sys/ spawns (through sys/exec) or mounts. Real exceptions, with their reasons: processes
 * that live beside berthd and talk over pipes sys/exec does not offer.
 */
const childProcessAllowed: Record<string, string> = {
  'runtime/conmon.ts': 'conmon runs for the container\'s life with its sync, start and attach pipes',
  'runtime/exec.ts': '`runc exec` of a non-TTY exec runs for the process\'s life, its stdio on pipes berthd streams',
  'network/netns-sockets.ts': 'the setns helper lives as long as berthd, on Node\'s IPC channel',
  'cli/commands/container-cp.ts': 'the CLI (a separate program) makes a FIFO with mkfifo when it extracts one',
};
const mountAllowed: Record<string, string> = {
  'volume/store.ts': 'tmpfs and bind volumes are mounted with mount(8); sys/mount.ts has no bind helper yet',
};

test('nothing outside sys/ imports node:child_process or runs mount(8)/umount(8)', () => {
  const spawns: string[] = [];
  const mounts: string[] = [];
  for (const f of files(src)) {
    const r = rel(f);
    if (r.startsWith('sys/')) continue;
    const text = readFileSync(f, 'utf8');
    if (/(?:from\s+|import\()\s*['"](?:node:)?child_process['"]/.test(text) && !(r in childProcessAllowed)) spawns.push(r);
    if (/\brun\(\s*['"]u?mount['"]/.test(text) && !(r in mountAllowed)) mounts.push(r);
  }
  assert.deepEqual(spawns, []);
  assert.deepEqual(mounts, []);
});
