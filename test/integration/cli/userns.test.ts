// userns-remap through the real Docker CLI: root in a container is an unprivileged id range on
// the host (files it makes in a bind mount belong to the remapped uid), and containers still
// run, exec, commit and talk to each other. `default` makes the `berthremap` user and its
// /etc/subuid and /etc/subgid ranges when missing; this test takes them away again if it made them.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, chmodSync, statSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TestDaemon, makeBusybox, runCmd, type Result, ok } from '../../helpers/daemon.ts';


describe('userns-remap against berthd', () => {
  const d = new TestDaemon({ args: ['--userns-remap', 'default'] });
  const host = mkdtempSync('/tmp/berth-userns-');
  const docker = (args: string[]): Promise<string> => ok(d.docker(args));
  let madeUser = false;
  const saved: Record<string, string | undefined> = {};
  before(async () => {
    madeUser = (await runCmd('id', ['-u', 'berthremap'])).code !== 0;
    for (const f of ['/etc/subuid', '/etc/subgid']) saved[f] = existsSync(f) ? readFileSync(f, 'utf8') : undefined;
    chmodSync(host, 0o777);
    await d.start();
    await makeBusybox(d);
  });
  after(async () => {
    await d.cleanup();
    await rm(host, { recursive: true, force: true });
    if (madeUser) {
      await runCmd('userdel', ['berthremap']);
      // only berthremap's lines go: other tests (rootless setup, run beside this file) may add
      // and remove ranges of their own meanwhile, so the files are not written back whole
      for (const [f, content] of Object.entries(saved)) {
        if (!existsSync(f)) continue;
        const now = readFileSync(f, 'utf8');
        const kept = now.split('\n').filter((l) => !l.startsWith('berthremap:')).join('\n');
        if (kept !== now) writeFileSync(f, kept);
        if (content === undefined && !kept.trim()) await rm(f, { force: true });
      }
    }
  });

  const range = (): number => Number(readFileSync('/etc/subuid', 'utf8').split('\n').find((l) => l.startsWith('berthremap:'))!.split(':')[1]);

  it('container root is the remapped uid on the host: a file it makes in a bind mount is owned by it', async () => {
    const start = range();
    assert.ok(start >= 100000);
    const out = await docker(['run', '--rm', '-v', `${host}:/b`, 'busybox', 'sh', '-c', 'id -u; cat /proc/self/uid_map; touch /b/by-root']);
    const [uid, map] = out.split('\n');
    assert.equal(uid, '0');
    assert.deepEqual(map!.trim().split(/\s+/).map(Number), [0, start, 65536]);
    const st = statSync(join(host, 'by-root'));
    assert.equal(st.uid, start);
    assert.equal(st.gid, start);
    // Image files are owned by the range on disk too, and by root inside.
    assert.match(await docker(['run', '--rm', 'busybox', 'ls', '-ln', '/bin/busybox']), /^-\S+\s+\d+\s+0\s+0\s/);
  });

  it('exec, networking between containers and commit work under the remapping', async () => {
    await docker(['run', '-d', '--name', 'web', 'busybox', 'sh', '-c', 'mkdir /www; echo remapped > /www/i; exec httpd -f -p 80 -h /www']);
    assert.equal(await docker(['exec', 'web', 'id', '-u']), '0\n');
    const ip = (await docker(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'web'])).trim();
    assert.equal(await docker(['run', '--rm', 'busybox', 'sh', '-c', `for i in $(seq 1 30); do timeout 5 wget -q -O - http://${ip}/i && exit 0; sleep 0.2; done; exit 1`]), 'remapped\n');
    await docker(['run', '--name', 'mk', 'busybox', 'sh', '-c', 'echo x > /made; chown 7:7 /made']);
    await docker(['commit', 'mk', 'remapped:v1']);
    // The layer in the image says 7:7, as the container saw it, not the host's shifted ids.
    assert.match(await docker(['run', '--rm', 'remapped:v1', 'ls', '-ln', '/made']), /\s7\s+7\s/);
    const tv = await ok(runCmd('sh', ['-c', `${'/usr/local/bin/docker'} cp mk:/made - | tar -tvf -`], { env: d.env }));
    assert.match(tv, /7\/7/);
    await docker(['rm', '-f', 'web', 'mk']);
  });
});
