// The registry's bcrypt worker pool: right answers off the main thread, a bounded queue that
// answers 429 beyond it, and a close that fails what is left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import bcrypt from 'bcryptjs';
import { BcryptPool } from '../../../src/registry/bcrypt-pool.ts';
import { RegistryError } from '../../../src/registry/errors.ts';

test('compares in a worker; beyond maxQueued waiting compares get TOOMANYREQUESTS; close fails the rest', async () => {
  const pool = new BcryptPool({ size: 1, maxQueued: 1 });
  try {
    const hash = bcrypt.hashSync('pw', 4);
    assert.equal(await pool.compare('pw', hash), true);
    assert.equal(await pool.compare('nope', hash), false);
    assert.match(await pool.hash('x', 4), /^\$2b\$04\$/);
    // One running, one waiting, the third refused.
    const running = pool.compare('pw', hash);
    const waiting = pool.compare('pw', hash);
    await assert.rejects(pool.compare('pw', hash), (e: unknown) => e instanceof RegistryError && e.status === 429 && e.headers['Retry-After'] === '1');
    assert.deepEqual(await Promise.all([running, waiting]), [true, true]);
    // A malformed hash is a mismatch (htpasswd loading skips them anyway), not a crash of the pool.
    assert.equal(await pool.compare('pw', 'not-a-hash'), false);
    assert.equal(await pool.compare('pw', hash), true);
  } finally {
    await pool.close();
  }
  await assert.rejects(pool.compare('pw', 'x'), /closed/);
});
