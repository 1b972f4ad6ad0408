// The lazy command index must route every command's first word to the family that has it, and
// name no word no family answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FAMILY_NAMES, FIRST_WORDS, loadFamilies } from '../../../src/cli/commands/index.ts';

test('FIRST_WORDS names, for every first word, exactly the families with commands starting with it', async () => {
  const want: Record<string, string[]> = {};
  for (const family of FAMILY_NAMES) {
    for (const spec of await loadFamilies([family])) {
      for (const p of spec.paths) {
        const list = (want[p[0]!] ??= []);
        if (!list.includes(family)) list.push(family);
      }
    }
  }
  const norm = (m: Record<string, string[]>): Record<string, string[]> =>
    Object.fromEntries(Object.entries(m).map(([k, v]): [string, string[]] => [k, [...v].sort()]).sort(([a], [b]) => a.localeCompare(b)));
  assert.deepEqual(norm(FIRST_WORDS), norm(want));
});

test('no two commands share a name', async () => {
  const seen = new Map<string, number>();
  for (const spec of await loadFamilies(FAMILY_NAMES)) for (const p of spec.paths) seen.set(p.join(' '), (seen.get(p.join(' ')) ?? 0) + 1);
  assert.deepEqual([...seen].filter(([, n]) => n > 1), []);
});
