// Resource limits and stats through the real Docker CLI: memory (OOM kill with 137 and OOMKilled),
// pids, cpus (measured from cgroup usage), ulimits, docker update on a running container,
// docker stats, and dockerd's refusals of impossible limits.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { daemonTag } from '../../../src/engine/engine.ts';
import { TestDaemon, makeBusybox, sleep, type Result, ok } from '../../helpers/daemon.ts';


describe('resource limits against berthd', () => {
  const d = new TestDaemon();
  const docker = (args: string[], timeoutMs?: number): Promise<string> => ok(d.docker(args, { timeoutMs }));
  before(async () => {
    await d.start();
    await makeBusybox(d);
  });
  after(async () => { await d.cleanup(); });

  it('a container allocating past -m 32m dies with 137 and OOMKilled', async () => {
    const r = await d.docker(['run', '--name', 'oom', '-m', '32m', 'busybox', 'sh', '-c', 'x=a; while true; do x=$x$x; done'], { timeoutMs: 60_000 });
    assert.equal(r.code, 137, r.stderr);
    assert.equal((await docker(['inspect', '-f', '{{.State.OOMKilled}} {{.State.ExitCode}} {{.HostConfig.Memory}}', 'oom'])).trim(), `true 137 ${32 * 1024 * 1024}`);
  });

  it('--pids-limit 20 stops a fork bomb at 20 processes while the host stays responsive', async () => {
    await docker(['run', '-d', '--name', 'forks', '--pids-limit', '20', 'busybox', 'sleep', '300']);
    await docker(['exec', '-d', 'forks', 'sh', '-c', 'i=0; while [ $i -lt 200 ]; do sleep 60 & i=$((i+1)); done; wait']);
    await sleep(1500);
    // Read from the host: inside, even `docker exec cat` needs a free pid slot.
    const id = (await docker(['inspect', '-f', '{{.Id}}', 'forks'])).trim();
    const cg = `/sys/fs/cgroup/pids/berth-${daemonTag(d.execRoot)}/${id}`;
    const n = Number(readFileSync(`${cg}/pids.current`, 'utf8').trim());
    assert.ok(n > 10 && n <= 20, `processes in the container: ${n}`);
    assert.equal(readFileSync(`${cg}/pids.max`, 'utf8').trim(), '20');
    assert.match(readFileSync(`${cg}/pids.events`, 'utf8'), /^max [1-9]\d*/m, 'forks were refused');
    const t0 = Date.now();
    assert.equal(await docker(['version', '--format', '{{.Server.Version}}']).then((s) => s.length > 0), true);
    assert.ok(Date.now() - t0 < 5000, 'the daemon still answers quickly');
    await docker(['rm', '-f', 'forks']);
  });

  it('--cpus 0.5 keeps a busy loop near half a CPU (cgroup usage over 3 s), and docker stats shows it', async () => {
    await docker(['run', '-d', '--name', 'busy', '--cpus', '0.5', '-m', '64m', 'busybox', 'sh', '-c', 'while true; do :; done']);
    await sleep(500);
    const usage = async (): Promise<number> => Number((await docker(['exec', 'busy', 'cat', '/sys/fs/cgroup/cpuacct/cpuacct.usage']).catch(async () =>
      String(Number((/usage_usec (\d+)/.exec(await docker(['exec', 'busy', 'cat', '/sys/fs/cgroup/cpu.stat'])) ?? [])[1]) * 1000))).trim());
    const u0 = await usage();
    const t0 = process.hrtime.bigint();
    await sleep(3000);
    const u1 = await usage();
    const elapsed = Number(process.hrtime.bigint() - t0);
    const share = (u1 - u0) / elapsed;
    assert.ok(share > 0.35 && share < 0.65, `CPU share over 3 s: ${share.toFixed(2)}`);
    const line = (await docker(['stats', '--no-stream', '--format', '{{.Name}} {{.CPUPerc}} {{.MemUsage}}', 'busy'])).trim();
    const m = /^busy ([\d.]+)% (\S+) \/ 64MiB$/.exec(line);
    assert.ok(m, line);
    assert.ok(Number(m![1]) > 30 && Number(m![1]) < 70, `stats CPU %: ${m![1]}`);
    assert.match(m![2]!, /^\d+(\.\d+)?(B|KiB|MiB)$/);
    const [raw] = [JSON.parse(await docker(['stats', '--no-stream', '--format', '{{json .}}', 'busy']))];
    assert.equal(raw.PIDs, '1');
    await docker(['rm', '-f', 'busy']);
  });

  it('docker update changes the memory limit of a running container', async () => {
    await docker(['run', '-d', '--name', 'upd', '-m', '64m', 'busybox', 'sleep', '120']);
    const limit = async (): Promise<string> => (await docker(['exec', 'upd', 'sh', '-c', 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max'])).trim();
    assert.equal(await limit(), String(64 * 1024 * 1024));
    await docker(['update', '-m', '128m', '--memory-swap', '256m', 'upd']);
    assert.equal(await limit(), String(128 * 1024 * 1024));
    assert.equal((await docker(['inspect', '-f', '{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}}', 'upd'])).trim(), `${128 * 1024 * 1024} ${256 * 1024 * 1024}`);
    await docker(['update', '--restart', 'on-failure:3', 'upd']);
    assert.equal((await docker(['inspect', '-f', '{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}', 'upd'])).trim(), 'on-failure:3');
    await docker(['rm', '-f', 'upd']);
  });

  it('--ulimit sets the process limits', async () => {
    assert.equal(await docker(['run', '--rm', '--ulimit', 'nofile=1024:2048', 'busybox', 'sh', '-c', 'ulimit -n; ulimit -Hn']), '1024\n2048\n');
  });

  it('impossible limits are refused as dockerd refuses them', async () => {
    const cases: [string[], RegExp][] = [
      [['-m', '1m'], /Minimum memory limit allowed is 6MB/],
      [['-m', '64m', '--memory-swap', '32m'], /Minimum memoryswap limit should be larger than memory limit/],
      [['--cpus', '99'], /Range of CPUs is from 0\.01 to \d+\.00/],
      [['--blkio-weight', '5'], /Range of blkio weight is from 10 to 1000/],
      [['--cpu-period', '500'], /CPU cfs period can not be less than 1ms/],
    ];
    for (const [args, re] of cases) {
      const r = await d.docker(['run', '--rm', ...args, 'busybox', 'true']);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.match(r.stderr, re);
    }
  });
});
