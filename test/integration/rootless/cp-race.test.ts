// The docker cp race (the CVE-2018-15664 class) against a ROOTLESS berthd (issue 20): a process
// inside the container swaps a directory for a symlink pointing out of it, as fast as it can,
// while the test copies into and out of that directory through the API (PUT and GET
// /containers/{id}/archive) and the Docker CLI as the user (`docker cp`).
//
// Rootless on this cgroup v1 host there is no cgroup freezer: berthd holds the container still by
// SIGSTOP to every process of its pid namespace (runtime/pidns-procs.ts) for the copy. berthd runs
// in RootlessKit's mount namespace, which sees the host's filesystem at the host's paths (no
// pivot_root), with the user's privileges: a raced copy would follow the container's symlink to
// the host's `/` and write the user's files (a canary under /tmp, one in the user's home, the
// user's ~/.ssh/authorized_keys) or read them out (a 0700 directory in the home with a secret).
// None of that may ever happen, the copies must still go through (so that the test cannot pass by
// refusing them), and the container must be left running, none of its processes stopped.
//
// Three more attackers aim at where the SIGSTOP freeze differs from the cgroup freezer: a swapping
// thread whose thread group leader has ended (a zombie), swappers in a pid namespace nested in the
// container's (--privileged), and processes that continue each other (SIGCONT) and then stop
// themselves. Each got through an earlier version of runtime/pidns-procs.ts (the first two wrote
// ~/.ssh/authorized_keys and read the secret in most runs).
//
// The swapping loops are bounded in time (the container's own script) and the copy loops in
// count and time; the user, its daemon, the canaries and the tool dir go in after(), on failure too.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { runCmd, settledWithin, sleep, type Result } from '../../helpers/daemon.ts';
import { makeTar } from '../../helpers/faults.ts';
import { RootlessDaemon, RootlessUser, rootlessSkip } from '../../helpers/rootless.ts';

const COPIES = 100;
const TIME_BUDGET_MS = 8_000;
const SWAP_SECONDS = 60;
/**
 * The swapper: renameat2(RENAME_EXCHANGE) of DIR/d and DIR/s in a tight loop, as the advisory's
 * PoC. With a third argument `thread` the loop runs in a second thread and the main thread ends
 * alone (pthread_exit): the thread group's leader is then a zombie (state Z in /proc/PID/stat)
 * while the loop goes on.
 */
const SWAP_C = `#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
static char a[4096], b[4096];
static time_t end;
static void *loop(void *arg) {
  (void)arg;
  while (time(NULL) < end)
    for (int i = 0; i < 1000; i++)
      if (syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, 2 /* RENAME_EXCHANGE */) != 0) { perror("renameat2"); exit(1); }
  exit(0);
}
int main(int argc, char **argv) {
  if (argc < 3) return 2;
  snprintf(a, sizeof a, "%s/d", argv[1]);
  snprintf(b, sizeof b, "%s/s", argv[1]);
  end = time(NULL) + atoi(argv[2]);
  if (argc > 3 && strcmp(argv[3], "thread") == 0) {
    pthread_t t;
    if (pthread_create(&t, NULL, loop, NULL) != 0) return 3;
    pthread_exit(NULL);
  }
  loop(NULL);
  return 0;
}
`;

const show = (r: Result): string => `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

/** A process's state letter from /proc/PID/stat, or '' once it is gone. */
function stateOf(pid: number): string {
  let stat = '';
  try { stat = readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { return ''; }
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}

/** Host pids of every process in the pid namespace of `initPid` (as pidns-procs.ts lists them). */
function pidnsProcs(initPid: number): number[] {
  const ns = readlinkSync(`/proc/${initPid}/ns/pid`);
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number).filter((pid) => {
    try { return readlinkSync(`/proc/${pid}/ns/pid`) === ns; } catch { return false; }
  });
}

describe('rootless berthd: docker cp raced against a directory swapped for a symlink', { skip: rootlessSkip() }, () => {
  let user: RootlessUser | undefined;
  let d: RootlessDaemon;
  const tag = randomBytes(6).toString('hex');
  const wname = `berth-cp-race-w-${tag}`;
  const secret = `secret-${randomBytes(16).toString('hex')}`;
  const toolDir = mkdtempSync('/tmp/berth-cp-race-tool-');
  // Set once the user exists (its home is /tmp/<name>).
  let homeRel = '';
  let readCanary = '';
  let cliDir = '';
  let swapper = false;
  let passed = 0;

  /** Host paths a raced copy in would create: /tmp (anyone's), the user's home, the user's ~/.ssh. */
  const writeCanaries = (): string[] => [join('/tmp', wname), join(user!.home, wname), join(user!.home, '.ssh')];

  /** The API as root, straight on the user's 0600 socket (root may connect to it). */
  function api(method: string, path: string, body?: Buffer): Promise<{ status: number; body: Buffer }> {
    return new Promise((resolve) => {
      const req = request({
        socketPath: d.socket, method, path, timeout: 30_000,
        headers: body ? { 'Content-Type': 'application/x-tar', 'Content-Length': String(body.length) } : {},
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        // A refused copy may close the connection while the body is still on its way: a failed copy.
        res.on('error', () => resolve({ status: 0, body: Buffer.alloc(0) }));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => resolve({ status: 0, body: Buffer.alloc(0) }));
      req.end(body);
    });
  }

  /** Docker CLI as the user; must succeed; its stdout. */
  async function docker(args: string[]): Promise<string> {
    const r = await d.docker(args, { timeoutMs: 30_000 });
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${show(r)}`);
    return r.stdout;
  }

  before(async () => {
    user = await RootlessUser.make();
    homeRel = user.home.slice(1);
    // The secret: a directory only the user may enter, as ~/.ssh would be.
    readCanary = join(user.home, `berth-cp-race-r-${tag}`);
    mkdirSync(readCanary, { mode: 0o700 });
    writeFileSync(join(readCanary, 'secret.txt'), `${secret}\n`, { mode: 0o600 });
    chownSync(readCanary, user.uid, user.gid);
    chownSync(join(readCanary, 'secret.txt'), user.uid, user.gid);
    cliDir = join(user.home, `berth-cp-race-cli-${tag}`);
    mkdirSync(cliDir);
    writeFileSync(join(cliDir, 'pwned'), 'x');
    chownSync(cliDir, user.uid, user.gid);
    chownSync(join(cliDir, 'pwned'), user.uid, user.gid);
    for (const c of writeCanaries()) assert.equal(existsSync(c), false, `${c} exists before the test`);
    // The swapper, readable by the user (bound read-only into the attackers).
    chmodSync(toolDir, 0o755);
    writeFileSync(join(toolDir, 'swap.c'), SWAP_C);
    const built = await runCmd('gcc', ['-O2', '-static', '-pthread', '-o', join(toolDir, 'swap'), join(toolDir, 'swap.c')]).catch(() => ({ code: -1, stderr: 'no gcc' }));
    if (built.code !== 0) console.error(`cp-race: no static swapper (${built.stderr.trim()}); swapping with busybox mv`);
    swapper = built.code === 0;
    d = new RootlessDaemon(user);
    await d.start();
    await d.importBusybox();
  }, { timeout: 60_000 });

  after(async () => {
    try {
      if (d) {
        if (passed < 2) console.error(`rootless berthd's log:\n${d.logTail(60)}`);
        await settledWithin(d.destroy(), 45_000);
      }
    } finally {
      await user?.remove();
      for (const c of user ? writeCanaries() : []) await rm(c, { recursive: true, force: true });
      await rm(toolDir, { recursive: true, force: true });
    }
  }, { timeout: 75_000 });

  /**
   * Starts an attacker container running two swapping loops under `base`: base/w/d flips between
   * a directory and a symlink to / (for copies in), base/r/d between a directory and a symlink to
   * the user's secret directory (for copies out; no such directory exists in the container).
   */
  async function attacker(name: string, base: string, args: string[], o: { nest?: string; thread?: boolean; continuers?: boolean } = {}): Promise<string> {
    const swap = (dir: string) => swapper ? `${o.nest ?? ''}/tool/swap ${dir} ${SWAP_SECONDS}${o.thread ? ' thread' : ''}`
      : `end=$(( $(date +%s) + ${SWAP_SECONDS} )); while [ $(date +%s) -lt $end ]; do i=0; while [ $i -lt 100 ]; do mv ${dir}/d ${dir}/x; mv ${dir}/s ${dir}/d; mv ${dir}/d ${dir}/s; mv ${dir}/x ${dir}/d; i=$((i+1)); done; done`;
    const script = [
      `mkdir -p ${base}/w/d ${base}/r/d`, `echo inside >${base}/r/d/inside.txt`, `ln -s / ${base}/w/s`, `ln -s ${readCanary} ${base}/r/s`,
      `(${swap(`${base}/w`)}) &`, `(${swap(`${base}/r`)}) &`,
      // Two continuers: each sends SIGCONT to every process it may signal, then stops itself, so
      // each wakes the other (and the swappers) after a scan saw them stopped.
      ...(o.continuers ? Array.from({ length: 2 }, () => `(end=$(( $(date +%s) + ${SWAP_SECONDS} )); while [ $(date +%s) -lt $end ]; do kill -CONT -1 2>/dev/null; kill -STOP $(sh -c 'echo $PPID'); done) &`) : []),
      'wait',
    ].join('\n');
    return (await docker(['run', '-d', '--name', name, '-v', `${toolDir}:/tool:ro`, ...args, 'busybox', 'sh', '-c', script])).trim();
  }

  interface Raced { writes: string[]; leaks: string[]; puts: number; gets: number; sawInside: number }

  /** Copies in and out of `target` under `base` while the swaps run; returns what got through. */
  async function race(target: string, base: string, budgetMs: number, cliCopies: number): Promise<Raced> {
    // In: single files under tmp/<canary>/, <home>/<canary>/ and <home>/.ssh/ (each target
    // resolved once, then written), and a tree under the swapped directory (its parents checked
    // once, then reused by later entries). No entry for d itself: a copy may legitimately replace
    // the symlink with a directory, which would end the swapping.
    const single = makeTar([
      { name: `tmp/${wname}/pwned`, data: 'x' },
      { name: `${homeRel}/${wname}/pwned`, data: 'x' },
      { name: `${homeRel}/.ssh/authorized_keys`, data: 'ssh-ed25519 AAAA pwned\n' },
    ]);
    const tree = makeTar(Array.from({ length: 20 }, (_, i) => ({ name: i % 2 ? `d/tmp/${wname}/f${i}` : `d/${homeRel}/${wname}/f${i}`, data: `f${i}` })));
    const deadline = Date.now() + budgetMs;
    const r: Raced = { writes: [], leaks: [], puts: 0, gets: 0, sawInside: 0 };
    const wrote = async (what: string): Promise<void> => {
      for (const c of writeCanaries()) {
        if (!existsSync(c)) continue;
        r.writes.push(`${what}: ${c}`);
        await rm(c, { recursive: true, force: true });
      }
    };
    for (let n = 0; n < COPIES && Date.now() < deadline; n++) {
      if ((await api('PUT', `/containers/${target}/archive?path=${base}/w/d`, single)).status === 200) r.puts++;
      if ((await api('PUT', `/containers/${target}/archive?path=${base}/w`, tree)).status === 200) r.puts++;
      const get = await api('GET', `/containers/${target}/archive?path=${base}/r/d`);
      if (get.status === 200) {
        r.gets++;
        if (get.body.includes('inside.txt')) r.sawInside++;
        if (get.body.includes(secret) || get.body.includes('secret.txt')) r.leaks.push(`GET #${n}`);
      }
      await wrote(`PUT #${n}`);
    }
    // The Docker CLI's own sequence (HEAD stat, then the copy), as the user, a few times each way.
    for (let n = 0; n < cliCopies && Date.now() < deadline + 1500 * cliCopies; n++) {
      await d.docker(['cp', cliDir, `${target}:${base}/w/d/tmp/${wname}`]);
      await d.docker(['cp', cliDir, `${target}:${base}/w/d/${homeRel}/${wname}`]);
      await wrote(`docker cp #${n}`);
      const out = join(cliDir, `out${n}`);
      const got = await d.docker(['cp', `${target}:${base}/r/d`, out]);
      // (A copy that caught the symlink gives a local symlink to the canary, made by the CLI: not a leak.)
      if (got.code === 0 && existsSync(out) && lstatSync(out).isDirectory() && readdirSync(out).includes('secret.txt')) r.leaks.push(`docker cp #${n}`);
      await rm(out, { recursive: true, force: true });
    }
    return r;
  }

  /**
   * The container is running and none of its processes is left stopped by a freeze: polled a
   * moment, since a GET's thaw comes when berthd has sent the archive's last byte, which may be
   * after the client read it.
   */
  async function runningUnstopped(ref: string, swappers: number): Promise<void> {
    const st = JSON.parse(await docker(['inspect', '-f', '{{json .State}}', ref])) as { Running: boolean; Paused: boolean; Pid: number };
    assert.equal(st.Running, true, `${ref} still runs`);
    assert.equal(st.Paused, false, `${ref} is not paused`);
    let stopped: string[] = [];
    for (let i = 0; i < 40; i++) {
      stopped = pidnsProcs(st.Pid).filter((p) => stateOf(p) === 'T' || stateOf(p) === 't').map((p) => {
        try { return `${p} ${readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ')}`; } catch { return `${p}`; }
      });
      if (!stopped.length) break;
      await sleep(50);
    }
    assert.deepEqual(stopped, [], `processes of ${ref} left stopped after the copies`);
    if (swappers) {
      const alive = pidnsProcs(st.Pid).filter((p) => { try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith('/tool/swap'); } catch { return false; } });
      assert.equal(alive.length, swappers, 'the swapping loops ran for the whole test');
    }
  }

  /** Removes a case's containers, so that their swapping loops leave the CPUs to the next case. */
  const removeAll = async (ids: string[]): Promise<void> => { await d.docker(['rm', '-f', ...ids], { timeoutMs: 30_000 }); };
  const counts = (r: Raced): string => `${r.puts} in, ${r.gets} out (${r.sawInside} with the container's file)`;

  it('a container racing copies of its own files: no copy in writes the user\'s files, no copy out reads them', { timeout: 40_000 }, async (t) => {
    const id = await attacker(`cprace-${tag}`, '', []);
    try {
      const r = await race(id, '', TIME_BUDGET_MS, 4);
      t.diagnostic(`copies that went through: ${counts(r)}`);
      assert.deepEqual({ writes: r.writes, leaks: r.leaks }, { writes: [], leaks: [] }, `copies raced into the user's files (of ${counts(r)})`);
      // The race was run: copies went through, and the container was still swapping at the end.
      assert.ok(r.puts > 0 && r.gets > 0 && r.sawInside > 0, `copies that went through: ${counts(r)}`);
      await runningUnstopped(id, swapper ? 2 : 0);
    } finally {
      await removeAll([id]);
    }
    passed++;
  });

  it('a container racing copies into a volume it shares with the copied one (stopped, then running)', { timeout: 40_000 }, async (t) => {
    const vol = `cprace-${tag}`;
    await docker(['volume', 'create', vol]);
    const victim = (await docker(['create', '--name', `cprace-v-${tag}`, '-v', `${vol}:/v`, 'busybox', 'sleep', '120'])).trim();
    const att = await attacker(`cprace-a-${tag}`, '/v', ['-v', `${vol}:/v`]);
    try {
      const stopped = await race(victim, '/v', TIME_BUDGET_MS / 2, 2);
      await docker(['start', victim]);
      const running = await race(victim, '/v', TIME_BUDGET_MS / 2, 2);
      t.diagnostic(`copies that went through: stopped ${counts(stopped)}; running ${counts(running)}`);
      assert.deepEqual({ stopped: [...stopped.writes, ...stopped.leaks], running: [...running.writes, ...running.leaks] }, { stopped: [], running: [] },
        'copies raced into the user\'s files through the shared volume');
      // Two containers are stopped and continued for each copy of the running one: fewer go through.
      // (A copy out that caught the symlink is refused, so one that saw the container's file is a
      // matter of luck with few copies: one is needed over both halves.)
      assert.ok(stopped.puts > 0 && stopped.gets > 0 && running.puts > 0 && running.gets > 0 && stopped.sawInside + running.sawInside > 0,
        `copies that went through: stopped ${counts(stopped)}; running ${counts(running)}`);
      await runningUnstopped(att, swapper ? 2 : 0);
      await runningUnstopped(victim, 0);
    } finally {
      await removeAll([att, victim]);
      await d.docker(['volume', 'rm', '-f', vol]);
    }
    passed++;
  });

  // Default confinement, no flags. The SIGSTOP freeze reads only each process's /proc/PID/stat and
  // skips a 'Z': a leader that ended with pthread_exit is 'Z' while its other threads run on ('R'
  // in /proc/PID/task/TID/stat), so they are never stopped. The cgroup freezer freezes every thread.
  it('a container whose swapping threads outlive their thread group\'s leader (a zombie, state Z)', {
    timeout: 40_000,
  }, async (t) => {
    if (!swapper) return t.skip('no static swapper (gcc)');
    const id = await attacker(`cprace-z-${tag}`, '', [], { thread: true });
    try {
      const r = await race(id, '', TIME_BUDGET_MS, 2);
      t.diagnostic(`copies that went through: ${counts(r)}; raced: ${JSON.stringify([...r.writes, ...r.leaks])}`);
      assert.deepEqual({ writes: r.writes, leaks: r.leaks }, { writes: [], leaks: [] }, `copies raced into the user's files (of ${counts(r)})`);
      assert.ok(r.puts > 0 && r.gets > 0 && r.sawInside > 0, `copies that went through: ${counts(r)}`);
      await runningUnstopped(id, 0);
    } finally {
      await removeAll([id]);
    }
  });

  // Needs CAP_SYS_ADMIN (--privileged, --cap-add SYS_ADMIN: "trusted as the user asked" in
  // SECURITY.md); without it seccomp refuses the unshare and the swappers never start. The SIGSTOP
  // freeze lists the container's pid namespace only, not namespaces nested in it; the cgroup
  // freezer of a rootful berthd freezes them too.
  it('a --privileged container whose swappers run in a pid namespace nested in its own', {
    timeout: 40_000,
  }, async (t) => {
    const id = await attacker(`cprace-n-${tag}`, '', ['--privileged'], { nest: 'unshare -p -f ' });
    try {
      const r = await race(id, '', TIME_BUDGET_MS, 2);
      t.diagnostic(`copies that went through: ${counts(r)}; raced: ${JSON.stringify([...r.writes, ...r.leaks])}`);
      assert.deepEqual({ writes: r.writes, leaks: r.leaks }, { writes: [], leaks: [] }, `copies raced into the user's files (of ${counts(r)})`);
      assert.ok(r.puts > 0 && r.gets > 0 && r.sawInside > 0, `copies that went through: ${counts(r)}`);
      await runningUnstopped(id, 0);
    } finally {
      await removeAll([id]);
    }
  });

  // Default confinement: processes of the container may signal each other. Each continuer wakes
  // every process (the swappers and the other continuer) and then stops itself, so a scan can
  // find all of them stopped while one of them is about to run again.
  it('a container whose processes continue each other (SIGCONT) and stop themselves', { timeout: 40_000 }, async (t) => {
    if (!swapper) return t.skip('no static swapper (gcc)');
    const id = await attacker(`cprace-c-${tag}`, '', [], { continuers: true });
    try {
      const r = await race(id, '', TIME_BUDGET_MS, 2);
      t.diagnostic(`copies that went through: ${counts(r)}; raced: ${JSON.stringify([...r.writes, ...r.leaks])}`);
      assert.deepEqual({ writes: r.writes, leaks: r.leaks }, { writes: [], leaks: [] }, `copies raced into the user's files (of ${counts(r)})`);
      assert.ok(r.puts > 0 && r.gets > 0, `copies that went through: ${counts(r)}`);
    } finally {
      await removeAll([id]);
    }
  });
});
