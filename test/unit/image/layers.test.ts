// The layer store's keys: chain IDs, computed in one place (image/layers.ts) for every user
// (the store, load, pull and the durability checks).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chainId, chainIds } from '../../../src/image/layers.ts';

const sha = (s: string): string => `sha256:${createHash('sha256').update(s).digest('hex')}`;

test('chain IDs follow the OCI image spec: ChainID(L0) = DiffID(L0), ChainID(Ln) = SHA256(ChainID(Ln-1) + " " + DiffID(Ln))', () => {
  const a = `sha256:${'1'.repeat(64)}`;
  const b = `sha256:${'2'.repeat(64)}`;
  const c = `sha256:${'3'.repeat(64)}`;
  const [c0, c1, c2] = chainIds([a, b, c]);
  assert.equal(c0, a);
  assert.equal(c1, sha(`${a} ${b}`));
  assert.equal(c2, sha(`${c1} ${c}`));
  assert.deepEqual(chainIds([]), []);
});

test('chainId of one layer on a parent agrees with chainIds of the whole stack', () => {
  const ds = [1, 2, 3, 4].map((n) => `sha256:${String(n).repeat(64)}`);
  const all = chainIds(ds);
  assert.equal(chainId(undefined, ds[0]!), all[0]);
  for (let i = 1; i < ds.length; i++) assert.equal(chainId(all[i - 1], ds[i]!), all[i]);
});
