// runtime/pidns-procs.ts: a container's processes found and frozen through its pid namespace,
// where a rootless berthd has no cgroup (issue 20). A real namespace stands in for the container:
// unshare --pid --fork runs sh as its init, with two sleeps. Runs as root; every process is
// killed after each test, also when it fails.
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { continueProcesses, pidnsProcesses, sampleProcesses, stopNamespace } from '../../../src/runtime/pidns-procs.ts';

/** The children of a process, from /proc/PID/task/TID/children of each of its threads. */
async function childrenOf(pid: number): Promise<number[]> {
  const out: number[] = [];
  for (const tid of await readdir(`/proc/${pid}/task`).catch(() => [] as string[])) {
    const text = await readFile(`/proc/${pid}/task/${tid}/children`, 'utf8').catch(() => '');
    out.push(...text.trim().split(/\s+/).filter(Boolean).map(Number));
  }
  return out;
}

/** The state letter of /proc/PID/stat (after the command name's last ')'), '' once gone. */
async function stateOf(pid: number): Promise<string> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}

/** Polls until every pid's state satisfies `ok` (signals take effect asynchronously). */
async function waitStates(pids: number[], ok: (state: string) => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const states = await Promise.all(pids.map(stateOf));
    if (states.every(ok)) return;
    await sleep(10);
  }
  const states = await Promise.all(pids.map(async (p) => `${p}:${await stateOf(p)}`));
  assert.fail(`${what}: ${states.join(' ')}`);
}

const kill = (pid: number, sig: NodeJS.Signals): void => {
  try { process.kill(pid, sig); } catch { /* gone */ }
};

/** A new pid namespace: init (sh, pid 1 inside) and its two sleeps, all killed when the test ends. */
async function namespace(t: TestContext): Promise<{ unshare: number; init: number; sleeps: number[] }> {
  const child = spawn('unshare', ['--pid', '--fork', '--kill-child', 'sh', '-c', 'sleep 60 & sleep 60 & wait'], { stdio: 'ignore' });
  const exited = once(child, 'exit');
  const unshare = child.pid!;
  let init = 0;
  t.after(async () => {
    // SIGKILL to a namespace's init kills every process in it (stopped ones too).
    if (init) kill(init, 'SIGKILL');
    kill(unshare, 'SIGKILL');
    await exited;
  });
  let sleeps: number[] = [];
  for (let i = 0; i < 500 && sleeps.length < 2; i++) {
    await sleep(10);
    init ||= (await childrenOf(unshare))[0] ?? 0;
    if (!init) continue;
    const kids = await childrenOf(init);
    // Both forks have exec'd sleep: nothing of sh's is left to change under the test.
    const comms = await Promise.all(kids.map((p) => readFile(`/proc/${p}/comm`, 'utf8').catch(() => '')));
    if (kids.length === 2 && comms.every((c) => c.trim() === 'sleep')) sleeps = kids;
  }
  assert.ok(init && sleeps.length === 2, `the namespace did not start: init ${init}, sleeps ${sleeps.join(',')}`);
  return { unshare, init, sleeps };
}

test('pidnsProcesses: init first, then the namespace\'s other processes, nothing of the host', async (t) => {
  const ns = await namespace(t);
  const pids = await pidnsProcesses(ns.init);
  assert.equal(pids[0], ns.init);
  assert.deepEqual([...pids].sort((a, b) => a - b), [ns.init, ...ns.sleeps].sort((a, b) => a - b));
  // unshare itself, and this process, live in the host's namespace.
  assert.ok(!pids.includes(ns.unshare));
  assert.ok(!pids.includes(process.pid));
});

test('pidnsProcesses: processes forked later are listed, one that exited is not', async (t) => {
  // sh forks two more sleeps at the first line on its stdin, kills the last one at the second.
  const child = spawn('unshare', ['--pid', '--fork', '--kill-child', 'sh', '-c', 'sleep 60 & read x; sleep 60 & sleep 60 & read y; kill $!; wait'],
    { stdio: ['pipe', 'ignore', 'ignore'] });
  const exited = once(child, 'exit');
  let init = 0;
  t.after(async () => {
    if (init) kill(init, 'SIGKILL');
    kill(child.pid!, 'SIGKILL');
    await exited;
  });
  const sorted = (pids: number[]): number[] => [...pids].sort((a, b) => a - b);
  /** Polls until init has `n` children, which are returned. */
  const children = async (n: number): Promise<number[]> => {
    for (let i = 0; i < 500; i++) {
      init ||= (await childrenOf(child.pid!))[0] ?? 0;
      const kids = init ? await childrenOf(init) : [];
      if (kids.length === n) return kids;
      await sleep(10);
    }
    return assert.fail(`init ${init} did not get ${n} children`);
  };
  const [first] = await children(1) as [number];
  assert.deepEqual(sorted(await pidnsProcesses(init)), sorted([init, first]));
  child.stdin!.write('more\n');
  const three = await children(3);
  assert.deepEqual(sorted(await pidnsProcesses(init)), sorted([init, ...three]));
  child.stdin!.end('less\n');
  const two = await children(2);
  const [gone] = three.filter((p) => !two.includes(p)) as [number];
  assert.ok(gone && two.includes(first));
  const now = await pidnsProcesses(init);
  assert.deepEqual(sorted(now), sorted([init, ...two]));
  assert.ok(!now.includes(gone));
});

test('stopNamespace stops every process of the namespace; continueProcesses lets them run again', async (t) => {
  const ns = await namespace(t);
  const all = [ns.init, ...ns.sleeps];
  const stopped = await stopNamespace(ns.init);
  assert.deepEqual([...stopped].sort((a, b) => a - b), [...all].sort((a, b) => a - b));
  // stopNamespace resolves only once none is left running: no waiting needed here.
  for (const pid of all) assert.equal(await stateOf(pid), 'T', `pid ${pid}`);
  continueProcesses(stopped);
  await waitStates(all, (s) => s !== 'T' && s !== '', 'not continued');
  // The host's processes were left alone.
  assert.notEqual(await stateOf(ns.unshare), 'T');
});

test('a process stopped before the freeze stays stopped at the thaw', async (t) => {
  const ns = await namespace(t);
  const [user, other] = ns.sleeps as [number, number];
  // `docker kill -s STOP` of one process, before a copy freezes the container.
  process.kill(user, 'SIGSTOP');
  await waitStates([user], (s) => s === 'T', 'SIGSTOP did not stop it');
  const stopped = await stopNamespace(ns.init);
  assert.deepEqual([...stopped].sort((a, b) => a - b), [ns.init, other].sort((a, b) => a - b));
  for (const pid of [ns.init, user, other]) assert.equal(await stateOf(pid), 'T', `pid ${pid}`);
  continueProcesses(stopped);
  await waitStates([ns.init, other], (s) => s !== 'T' && s !== '', 'not continued');
  assert.equal(await stateOf(user), 'T');
});

test('continueProcesses: pids that are gone are no error', () => {
  // Far above pid_max (4194304 at most): no such process.
  assert.doesNotThrow(() => continueProcesses([2 ** 30, 2 ** 30 + 1]));
});

test('sampleProcesses: the namespace\'s process count, CPU time and resident memory (docker stats without a cgroup)', async (t) => {
  const { init } = await namespace(t);
  const a = await sampleProcesses(init);
  assert.equal(a.pids, 3, 'sh and its two sleeps');
  assert.ok(a.rssBytes > 0, 'resident memory is counted');
  // the same sums, read by hand from /proc for the three processes
  let rss = 0;
  for (const pid of await pidnsProcesses(init)) rss += Number((await readFile(`/proc/${pid}/statm`, 'utf8')).split(' ')[1]) * 4096;
  assert.equal(a.rssBytes, rss);
  assert.ok(a.cpuUserNs >= 0 && a.cpuSystemNs >= 0);
  assert.equal((await sampleProcesses(999_999_999)).pids, 0, 'a pid that does not exist: nothing, no error');
});

/** Runs `script` as the init of a new pid namespace; resolves with init's pid once `ready(init)` holds. Killed when the test ends. */
async function namespaceRunning(t: TestContext, script: string, ready: (init: number) => Promise<boolean>): Promise<number> {
  const child = spawn('unshare', ['--pid', '--fork', '--kill-child', 'sh', '-c', script], { stdio: 'ignore' });
  const exited = once(child, 'exit');
  let init = 0;
  t.after(async () => {
    if (init) for (const p of await pidnsProcesses(init).catch(() => [] as number[])) kill(p, 'SIGKILL');
    kill(child.pid!, 'SIGKILL');
    await exited;
  });
  for (let i = 0; i < 500; i++) {
    await sleep(10);
    init ||= (await childrenOf(child.pid!))[0] ?? 0;
    if (init && await ready(init)) return init;
  }
  throw new Error('the namespace did not get ready');
}

/** The states of every thread of a process. */
async function threadStates(pid: number): Promise<string[]> {
  const out: string[] = [];
  for (const tid of await readdir(`/proc/${pid}/task`).catch(() => [] as string[])) {
    const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8').catch(() => '');
    out.push(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
  }
  return out;
}

test('a pid namespace nested in the container\'s is the container\'s: listed and stopped', async (t) => {
  const init = await namespaceRunning(t, 'unshare --pid --fork --kill-child sleep 60 & sleep 60 & wait',
    async (i) => (await pidnsProcesses(i)).length >= 4);
  const pids = await pidnsProcesses(init);
  const nested = [];
  for (const p of pids) if ((await readFile(`/proc/${p}/cmdline`, 'utf8')).startsWith('sleep') && (await readlink(`/proc/${p}/ns/pid`)) !== (await readlink(`/proc/${init}/ns/pid`))) nested.push(p);
  assert.equal(nested.length, 1, 'the sleep in the nested namespace is listed');
  const stopped = await stopNamespace(init);
  assert.ok(stopped.includes(nested[0]!));
  await waitStates(nested, (s) => s === 'T', 'the nested sleep is stopped');
  continueProcesses(stopped);
});

test('a process whose main thread has ended (a zombie leader) while another thread runs is stopped thread and all', async (t) => {
  // python3: a busy thread, then pthread_exit in the main thread: the leader shows Z, the thread R.
  const py = 'import ctypes,threading\\nthreading.Thread(target=lambda: [None for _ in iter(int, 1)]).start()\\nctypes.CDLL(None).pthread_exit(None)';
  const init = await namespaceRunning(t, `python3 -c "$(printf '${py}')" & wait`, async (i) => {
    for (const p of await pidnsProcesses(i)) if ((await threadStates(p)).includes('Z') && (await threadStates(p)).some((s) => s === 'R' || s === 'S')) return true;
    return false;
  });
  const target = (await Promise.all((await pidnsProcesses(init)).map(async (p) => ({ p, s: await threadStates(p) })))).find((x) => x.s.includes('Z'))!.p;
  const stopped = await stopNamespace(init);
  assert.ok(stopped.includes(target), 'the zombie-led process was stopped');
  assert.deepEqual((await threadStates(target)).filter((s) => s !== 'Z'), ['T'], 'its running thread is stopped');
  continueProcesses(stopped);
});
