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
const TIME_BUDGET_MS = 15_000;
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
  let id = '';
  let passed = false;

  before(async () => {
    mkdirSync(readCanary);
    writeFileSync(join(readCanary, 'secret.txt'), `${secret}\n`);
    await d.start();
    await makeBusybox(d);
    // Two swapping loops: /w/d flips between a directory and a symlink to / (for copies in),
    // /r/d between a directory and a symlink to the host's canary directory (for copies out; no
    // such directory exists in the container). A static swapper when gcc can build one (the
    // exchange is atomic, so the path is always there), else busybox `mv`s (slower, fewer hits).
    writeFileSync(join(toolDir, 'swap.c'), SWAP_C);
    const built = await runCmd('gcc', ['-O2', '-static', '-o', join(toolDir, 'swap'), join(toolDir, 'swap.c')]).catch(() => ({ code: -1, stderr: 'no gcc' }));
    if (built.code !== 0) console.error(`cp-race: no static swapper (${built.stderr.trim()}); swapping with busybox mv`);
    const swap = (dir: string) => built.code === 0 ? `/tool/swap ${dir} ${SWAP_SECONDS}`
      : `end=$(( $(date +%s) + ${SWAP_SECONDS} )); while [ $(date +%s) -lt $end ]; do i=0; while [ $i -lt 100 ]; do mv ${dir}/d ${dir}/x; mv ${dir}/s ${dir}/d; mv ${dir}/d ${dir}/s; mv ${dir}/x ${dir}/d; i=$((i+1)); done; done`;
    const script = [
      'mkdir -p /w/d /r/d', 'echo inside >/r/d/inside.txt', 'ln -s / /w/s', `ln -s ${readCanary} /r/s`,
      `(${swap('/w')}) &`, `(${swap('/r')}) &`, 'wait',
    ].join('\n');
    id = (await ok(d.docker(['run', '-d', '--name', `cprace-${tag}`, '-v', `${toolDir}:/tool:ro`, 'busybox', 'sh', '-c', script]))).trim();
  });

  after(async () => {
    if (!passed) console.error(`berthd's log:\n${d.logTail(60)}`);
    await d.docker(['rm', '-f', id || `cprace-${tag}`]).catch(() => undefined);
    await d.cleanup();
    await rm(join('/tmp', writeCanary), { recursive: true, force: true });
    await rm(readCanary, { recursive: true, force: true });
    await rm(cliDir, { recursive: true, force: true });
    await rm(toolDir, { recursive: true, force: true });
  });

  it('no copy in writes a host file and no copy out reads one, however the swaps fall', async () => {
    // In: a single file under tmp/<canary>/ (the target resolved once, then written) and a tree
    // under the swapped directory (its parents checked once, then reused by later entries).
    const single = makeTar([{ name: `tmp/${writeCanary}/pwned`, data: 'x' }]);
    // (No entry for d itself: a copy may legitimately replace the symlink with a directory, which
    // would end the swapping.)
    const tree = makeTar([
      ...Array.from({ length: 20 }, (_, i) => ({ name: `d/tmp/${writeCanary}/f${i}`, data: `f${i}` })),
    ]);
    const deadline = Date.now() + TIME_BUDGET_MS;
    let puts = 0;
    let gets = 0;
    let sawInside = 0;
    const leaks: string[] = [];
    const writes: string[] = [];
    // A refused copy (the directory was a symlink or gone at that instant) may also end with the
    // connection closed while its body is still being sent: that is a failed copy, not a failure.
    const api = (method: string, path: string, body?: Buffer) => d.api(method, path, body, body ? { 'Content-Type': 'application/x-tar' } : {})
      .catch(() => ({ status: 0, body: Buffer.alloc(0) }));
    for (let n = 0; n < COPIES && Date.now() < deadline; n++) {
      const put = await api('PUT', `/containers/${id}/archive?path=/w/d`, single);
      if (put.status === 200) puts++;
      const put2 = await api('PUT', `/containers/${id}/archive?path=/w`, tree);
      if (put2.status === 200) puts++;
      const get = await api('GET', `/containers/${id}/archive?path=/r/d`);
      if (get.status === 200) {
        gets++;
        if (get.body.includes('inside.txt')) sawInside++;
        if (get.body.includes(secret) || get.body.includes('secret.txt')) leaks.push(`GET #${n}`);
      }
      if (existsSync(join('/tmp', writeCanary))) {
        writes.push(`PUT #${n}`);
        await rm(join('/tmp', writeCanary), { recursive: true, force: true });
      }
    }
    // The Docker CLI's own sequence (HEAD stat, then the copy), a few times each way.
    writeFileSync(join(cliDir, 'pwned'), 'x');
    for (let n = 0; n < 10 && Date.now() < deadline + 10_000; n++) {
      await d.docker(['cp', cliDir, `${id}:/w/d/tmp/${writeCanary}`]);
      if (existsSync(join('/tmp', writeCanary))) {
        writes.push(`docker cp #${n}`);
        await rm(join('/tmp', writeCanary), { recursive: true, force: true });
      }
      const out = join(cliDir, `out${n}`);
      const r = await d.docker(['cp', `${id}:/r/d`, out]);
      // (A copy that caught the symlink gives a local symlink to the canary, made by the CLI: not a leak.)
      if (r.code === 0 && existsSync(out) && lstatSync(out).isDirectory() && readdirSync(out).includes('secret.txt')) leaks.push(`docker cp #${n}`);
      await rm(out, { recursive: true, force: true });
    }
    // Copies in that wrote the host's /tmp/<canary>, copies out that read the host's secret.
    assert.deepEqual({ writes, leaks }, { writes: [], leaks: [] }, `copies raced into the host (of ${puts} in, ${gets} out)`);
    // The race was run: the copies did go through, and the container was still swapping at the end.
    assert.ok(puts > 10 && gets > 10 && sawInside > 5, `copies that went through: ${puts} in, ${gets} out (${sawInside} with the container's file)`);
    const inspect = JSON.parse(await ok(d.docker(['inspect', id]))) as { State: { Running: boolean; Paused: boolean } }[];
    assert.equal(inspect[0]!.State.Running, true, 'the swapping loops ran for the whole test');
    assert.equal(inspect[0]!.State.Paused, false, 'a copy leaves the container unpaused');
    passed = true;
  });
});
