// sys/rootless.ts: the uid_map readings that tell a berthd inside RootlessKit's user namespace
// from one in the host's, the runc flags the mode gives, and the refusal of --rootless in the
// initial namespace (where these tests run, as root). detectRootless's answer inside a user
// namespace is read from a child process in one of its own (unshare --user --map-root-user: the
// single-id map of a user without a /etc/subuid range).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { detectRootless, inInitialUserNamespace, mappedIds, runcRootlessArgs, kernelMountsOverlayInUserns } from '../../../src/sys/rootless.ts';
import type { RootlessMode } from '../../../src/sys/rootless.ts';

// /proc/PID/uid_map pads its columns with spaces and ends with a newline.
const INITIAL = '         0          0 4294967295\n';
// RootlessKit's map: the user as 0, then the user's /etc/subuid range from 1.
const ROOTLESSKIT = '         0       1000          1\n         1     100000      65536\n';
// Without a subordinate range: the user alone.
const SINGLE = '         0       1000          1\n';

test('inInitialUserNamespace: only the identity map of every id', () => {
  assert.equal(inInitialUserNamespace(INITIAL), true);
  assert.equal(inInitialUserNamespace('0 0 4294967295'), true);
  assert.equal(inInitialUserNamespace(ROOTLESSKIT), false);
  assert.equal(inInitialUserNamespace(SINGLE), false);
  // All ids but shifted, or the identity of fewer ids: a user namespace.
  assert.equal(inInitialUserNamespace('0 1 4294967295\n'), false);
  assert.equal(inInitialUserNamespace('0 0 65536\n'), false);
  // The identity row followed by another is not the initial namespace's map either.
  assert.equal(inInitialUserNamespace(`${INITIAL}         1          1          1\n`), false);
  // An empty map (a namespace whose map was never written).
  assert.equal(inInitialUserNamespace(''), false);
});

test('inInitialUserNamespace: this test process (root of the host) is in the initial namespace', () => {
  assert.equal(inInitialUserNamespace(readFileSync('/proc/self/uid_map', 'utf8')), true);
});

test('mappedIds: the ids of every row added up', () => {
  assert.equal(mappedIds(ROOTLESSKIT), 65537);
  assert.equal(mappedIds(SINGLE), 1);
  assert.equal(mappedIds(INITIAL), 4294967295);
  assert.equal(mappedIds('0 1000 1\n1 100000 65536\n65537 300000 10\n'), 65547);
  assert.equal(mappedIds(''), 0);
});

test('runcRootlessArgs: --rootless=true as one argv element when rootless, nothing otherwise', () => {
  const mode: RootlessMode = { cgroups: false, cgroupsWhy: 'cgroup v1', singleId: false };
  assert.deepEqual(runcRootlessArgs(mode), ['--rootless=true']);
  assert.deepEqual(runcRootlessArgs({ ...mode, cgroups: true, portDriverSocket: '/run/user/1000/api.sock' }), ['--rootless=true']);
  assert.deepEqual(runcRootlessArgs(undefined), []);
});

test('detectRootless: refused in the initial user namespace, naming bin/berthd-rootless', async () => {
  await assert.rejects(detectRootless({ ROOTLESSKIT_STATE_DIR: '/nonexistent/rootlesskit' }), (err: Error) => {
    assert.match(err.message, /bin\/berthd-rootless/);
    assert.match(err.message, /user namespace/);
    return true;
  });
  await assert.rejects(detectRootless({}), /bin\/berthd-rootless/);
});

const repo = join(import.meta.dirname, '../../..');
const node = join(repo, 'node_modules/.bin/node');

/** detectRootless(env) in a new user namespace that maps this process's uid only. */
function detectInUserNamespace(env: Record<string, string>): RootlessMode {
  const script = `import { detectRootless } from ${JSON.stringify(join(repo, 'src/sys/rootless.ts'))};
process.stdout.write(JSON.stringify(await detectRootless(${JSON.stringify(env)})));`;
  const r = spawnSync('unshare', ['--user', '--map-root-user', node, '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, `detectRootless in a user namespace failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as RootlessMode;
}

test('detectRootless: in a user namespace, the mode with the port driver socket from ROOTLESSKIT_STATE_DIR', () => {
  const mode = detectInUserNamespace({ ROOTLESSKIT_STATE_DIR: '/run/user/1000/berth/rootlesskit/s' });
  assert.equal(mode.portDriverSocket, '/run/user/1000/berth/rootlesskit/s/api.sock');
  // One id mapped (no subordinate range): layers' owners are all root.
  assert.equal(mode.singleId, true);
  // Berth puts no rootless container in a cgroup yet, on v1 or v2, and says why.
  assert.equal(mode.cgroups, false);
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) assert.match(mode.cgroupsWhy, /cgroup v2/);
  else assert.match(mode.cgroupsWhy, /cgroup v1/);
  // Without RootlessKit's state dir: no port driver to ask.
  assert.equal(detectInUserNamespace({}).portDriverSocket, undefined);
});

test('kernelMountsOverlayInUserns: 5.11 and later mount overlayfs in a user namespace; older kernels get fuse-overlayfs', () => {
  for (const r of ['5.11.0', '5.15.0-91-generic', '6.1.0-18-amd64', '6.18.44-fc-v1272', '10.0']) assert.equal(kernelMountsOverlayInUserns(r), true, r);
  for (const r of ['5.10.0-28-amd64', '4.19.0', '5.4.0-150-generic', '3.10.0-1160.el7.x86_64']) assert.equal(kernelMountsOverlayInUserns(r), false, r);
});
