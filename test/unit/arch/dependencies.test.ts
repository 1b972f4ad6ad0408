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
  cli: ['client', 'types', 'errors', 'util', 'registry'],
  proxy: ['network', 'util', 'types', 'errors'],
};

// Single files a layer may import from a layer it otherwise may not: the CLI parses image
// references as the daemon does (the Docker CLI uses the same distribution/reference package).
const allowedFiles: Record<string, string[]> = {
  cli: ['image/reference.ts'],
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
