// sys/exec.ts run(): through berth-spawner (the default) and spawning directly (BERTH_SPAWNER=off,
// the fallback) give the same results and the same errors, and the spawner keeps berthd's
// event loop free while a tool starts.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const repo = join(import.meta.dirname, '../../..');
const node = join(repo, 'node_modules/.bin/node');

// Each mode in a process of its own: the spawner choice is made once per process.
const script = `
import { run } from ${JSON.stringify(join(repo, 'src/sys/exec.ts'))};
const out = [];
const r = (x) => out.push(x);
r(await run('echo', ['hi']));
r(await run('cat', [], { input: 'in\\0put' }));
r(await run('sh', ['-c', 'echo $FOO; pwd; echo err >&2'], { env: { FOO: 'bar', PATH: '/usr/bin:/bin' }, cwd: '/tmp' }));
await run('sh', ['-c', 'echo bad >&2; exit 4']).catch((e) => r({ msg: e.message, code: e.code, stderr: e.stderr }));
await run('berth-no-such-tool', [], { timeoutMs: 1500 }).catch((e) => r({ msg: e.message, code: e.code }));
await run('sleep', ['5'], { timeoutMs: 200 }).catch((e) => r({ timeout: e.code }));
const ac = new AbortController(); setTimeout(() => ac.abort(), 100);
const t = performance.now();
await run('sleep', ['5'], { signal: ac.signal, timeoutMs: 4000 }).catch((e) => r({ aborted: e.code, fast: performance.now() - t < 3000 }));
r((await run('sh', ['-c', 'exit 3'], { okCodes: [3] })).code);
r((await run('head', ['-c', '3000000', '/dev/zero'])).stdout.length);
r((await Promise.all(Array.from({ length: 16 }, (_, i) => run('echo', [String(i)])))).map((x) => x.stdout.trim()).join(','));
process.stdout.write(JSON.stringify(out));
`;

function runMode(env: NodeJS.ProcessEnv): unknown[] {
  const p = spawnSync(node, ['--input-type=module', '-e', script], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
  assert.equal(p.status, 0, p.stderr);
  return JSON.parse(p.stdout) as unknown[];
}

test('run() through the spawner answers exactly as a direct spawn, and the process still exits by itself', () => {
  const direct = runMode({ BERTH_SPAWNER: 'off' });
  const spawned = runMode({ BERTH_SPAWNER: '' });
  assert.deepEqual(spawned, direct);
  assert.deepEqual(direct.slice(0, 3), [
    { code: 0, stdout: 'hi\n', stderr: '' },
    { code: 0, stdout: 'in\0put', stderr: '' },
    { code: 0, stdout: 'bar\n/tmp\n', stderr: 'err\n' },
  ]);
  assert.deepEqual(direct[3], { msg: 'sh -c echo $FOO; pwd; echo err >&2 failed (exit 4): bad'.replace('echo $FOO; pwd; echo err >&2', 'echo bad >&2; exit 4'), code: 4, stderr: 'bad\n' });
  assert.deepEqual(direct[4], { msg: 'berth-no-such-tool failed (exit signal): spawn berth-no-such-tool ENOENT', code: null });
  assert.deepEqual(direct.slice(5), [{ timeout: null }, { aborted: null, fast: true }, 3, 3000000, Array.from({ length: 16 }, (_, i) => i).join(',')]);
});

test('a tool started through the spawner does not block the event loop while it starts', async () => {
  const probe = `
import { run } from ${JSON.stringify(join(repo, 'src/sys/exec.ts'))};
const keep = []; for (let i = 0; i < 64; i++) keep.push(Buffer.alloc(1 << 20, 1));
await run('true', []);
const xs = [];
for (let i = 0; i < 15; i++) { const t = performance.now(); const p = run('true', []); xs.push(performance.now() - t); await p; }
xs.sort((a, b) => a - b);
process.stdout.write(String(xs[7]));`;
  const blocked = (env: NodeJS.ProcessEnv): number => {
    const p = spawnSync(node, ['--input-type=module', '-e', probe], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
    assert.equal(p.status, 0, p.stderr);
    return Number(p.stdout);
  };
  const viaSpawner = blocked({ BERTH_SPAWNER: '' });
  const direct = blocked({ BERTH_SPAWNER: 'off' });
  // A fork of a process with 64 MB of heap takes milliseconds; handing a line to a pipe does not.
  assert.ok(viaSpawner < direct, `spawner ${viaSpawner} ms vs direct ${direct} ms of blocked loop per call`);
  assert.ok(viaSpawner < 2, `the loop was blocked ${viaSpawner} ms per call through the spawner`);
});
