// Volumes and mounts through the real Docker CLI: named volumes outlive containers, copy-up of
// image content into a new volume, read-only binds, tmpfs, --mount, --volumes-from, VOLUME in the
// image (anonymous volumes, removed by rm -v and --rm), the local driver's tmpfs and bind options,
// and the volume API's refusals.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TestDaemon, makeBusybox, type Result, ok } from '../../helpers/daemon.ts';


describe('volumes against berthd', () => {
  const d = new TestDaemon();
  const host = mkdtempSync('/tmp/berth-vol-');
  const docker = (args: string[]): Promise<string> => ok(d.docker(args));
  const volumes = async (): Promise<string[]> => (await docker(['volume', 'ls', '-q'])).trim().split('\n').filter(Boolean).sort();
  before(async () => {
    await d.start();
    await makeBusybox(d);
  });
  after(async () => {
    await d.cleanup();
    await rm(host, { recursive: true, force: true });
  });

  it('data in a named volume outlives its container and is seen by the next', async () => {
    await docker(['volume', 'create', '--label', 'app=db', 'data']);
    await docker(['run', '--rm', '-v', 'data:/data', 'busybox', 'sh', '-c', 'echo kept > /data/file; chown 1234:5678 /data/file']);
    assert.equal(await docker(['run', '--rm', '-v', 'data:/other', 'busybox', 'sh', '-c', 'cat /other/file; stat -c %u:%g /other/file']), 'kept\n1234:5678\n');
    const [v] = JSON.parse(await docker(['volume', 'inspect', 'data']));
    assert.equal(v.Driver, 'local');
    assert.equal(v.Labels.app, 'db');
    assert.equal(readFileSync(join(v.Mountpoint, 'file'), 'utf8'), 'kept\n');
    const listed = await docker(['volume', 'ls', '--filter', 'label=app=db', '--format', '{{.Name}}']);
    assert.equal(listed, 'data\n');
  });

  it('a new volume over image content is filled with it first (copy-up); a used one is not', async () => {
    const out = await docker(['run', '--rm', '-v', 'etcvol:/etc', 'busybox', 'sh', '-c', 'cat /etc/passwd | head -1; stat -c %a /etc']);
    assert.match(out, /^root:x:0:0:/);
    await docker(['run', '--rm', '-v', 'etcvol:/etc', 'busybox', 'sh', '-c', 'echo changed > /etc/marker']);
    assert.equal(await docker(['run', '--rm', '-v', 'etcvol:/mnt', 'busybox', 'cat', '/mnt/marker']), 'changed\n');
    // nocopy leaves a new volume empty.
    assert.equal(await docker(['run', '--rm', '-v', 'emptyvol:/etc:nocopy', 'busybox', 'sh', '-c', 'ls -A /etc | wc -l']), '0\n');
  });

  it('bind mounts: read-only ones refuse writes, writable ones write to the host', async () => {
    writeFileSync(join(host, 'in.txt'), 'from host\n');
    const ro = await d.docker(['run', '--rm', '-v', `${host}:/h:ro`, 'busybox', 'sh', '-c', 'cat /h/in.txt; echo x > /h/new']);
    assert.notEqual(ro.code, 0);
    assert.equal(ro.stdout, 'from host\n');
    assert.match(ro.stderr, /Read-only file system/);
    await docker(['run', '--rm', '--mount', `type=bind,source=${host},target=/h`, 'busybox', 'sh', '-c', 'echo from container > /h/out.txt']);
    assert.equal(readFileSync(join(host, 'out.txt'), 'utf8'), 'from container\n');
    const missing = await d.docker(['run', '--rm', '--mount', `type=bind,source=${host}/nope,target=/h`, 'busybox', 'true']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /bind source path does not exist/);
  });

  it('a single host file binds onto a file of the image and onto a missing path (dockerd makes an empty file there)', async () => {
    // The known bug: `-v /srv/app/nginx.conf:/etc/nginx/nginx.conf:ro` failed with EEXIST (mkdir of the file).
    const conf = join(host, 'app.conf');
    writeFileSync(conf, 'listen 80;\n');
    assert.equal(await docker(['run', '--rm', '-v', `${conf}:/etc/passwd:ro`, 'busybox', 'cat', '/etc/passwd']), 'listen 80;\n');
    assert.equal(await docker(['run', '--rm', '-v', `${conf}:/a/b/app.conf`, 'busybox', 'sh', '-c', 'cat /a/b/app.conf; stat -c "%F" /a/b/app.conf /a/b']),
      'listen 80;\nregular file\ndirectory\n');
    // Writable: the container writes through to the host file; read-only refuses.
    await docker(['run', '--rm', '-v', `${conf}:/etc/app.conf`, 'busybox', 'sh', '-c', 'echo more >> /etc/app.conf']);
    assert.equal(readFileSync(conf, 'utf8'), 'listen 80;\nmore\n');
    const ro = await d.docker(['run', '--rm', '--mount', `type=bind,src=${conf},dst=/etc/hostname,readonly`, 'busybox', 'sh', '-c', 'echo x >> /etc/hostname']);
    assert.equal(ro.code, 1);
    assert.match(ro.stderr, /Read-only file system/);
    assert.ok(statSync(conf).isFile(), 'the source stays a file');
    const [c] = JSON.parse(await docker(['inspect', (await docker(['create', '-v', `${conf}:/etc/app.conf:ro`, 'busybox', 'true'])).trim()]));
    assert.deepEqual(c.Mounts, [{ Type: 'bind', Source: conf, Destination: '/etc/app.conf', Mode: 'ro', RW: false, Propagation: 'rprivate' }]);
    await docker(['rm', c.Id]);
    // A file onto a directory of the image: runc's ENOTDIR with moby's hint.
    const dir = await d.docker(['run', '--rm', '-v', `${conf}:/etc`, 'busybox', 'true']);
    assert.equal(dir.code, 125);
    assert.match(dir.stderr, /not a directory.*Are you trying to mount a directory onto a file \(or vice-versa\)\?/);
  });

  it('-v makes a missing source directory at start, not at create; --mount refuses it', async () => {
    const src = join(host, 'made', 'sub');
    const id = (await docker(['create', '-v', `${src}:/d`, 'busybox', 'true'])).trim();
    assert.throws(() => statSync(join(host, 'made')));
    await docker(['start', '-a', id]);
    assert.ok(statSync(src).isDirectory());
    await docker(['rm', id]);
    const r = await d.docker(['run', '--rm', '--mount', `type=bind,src=${join(host, 'nope2')},dst=/d`, 'busybox', 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /invalid mount config for type "bind": bind source path does not exist: /);
  });

  it('--tmpfs and --mount type=tmpfs are tmpfs mounts; --read-only makes the root read-only', async () => {
    const t = await docker(['run', '--rm', '--tmpfs', '/scratch:size=1m', '--mount', 'type=tmpfs,destination=/t2,tmpfs-size=2097152', 'busybox', 'sh', '-c', 'grep -E " /(scratch|t2) " /proc/mounts']);
    assert.match(t, /^tmpfs \/scratch tmpfs .*size=1024k/m);
    assert.match(t, /^tmpfs \/t2 tmpfs .*size=2048k/m);
    const r = await d.docker(['run', '--rm', '--read-only', '--tmpfs', '/tmp', 'busybox', 'sh', '-c', 'touch /tmp/ok && echo tmp-writable; touch /root-file']);
    assert.match(r.stdout, /tmp-writable/);
    assert.match(r.stderr, /Read-only file system/);
  });

  it('the local driver: a tmpfs volume and a bind volume', async () => {
    await docker(['volume', 'create', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', '--opt', 'o=size=3m', 'tv']);
    assert.match(await docker(['run', '--rm', '-v', 'tv:/t', 'busybox', 'grep', ' /t ', '/proc/mounts']), /^tmpfs \/t tmpfs .*size=3072k/);
    await docker(['volume', 'create', '--opt', 'type=none', '--opt', 'o=bind', '--opt', `device=${host}`, 'bv']);
    await docker(['run', '--rm', '-v', 'bv:/b', 'busybox', 'sh', '-c', 'echo via volume > /b/bv.txt']);
    assert.equal(readFileSync(join(host, 'bv.txt'), 'utf8'), 'via volume\n');
    const bad = await d.docker(['volume', 'create', '--opt', 'type=none', '--opt', 'device=relative', 'badv']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /needs o=bind and an absolute device path/);
  });

  it('VOLUME in the image and -v /path make anonymous volumes; rm -v and --rm remove them, named ones stay', async () => {
    await docker(['run', '--name', 'withvol', 'busybox', 'sh', '-c', 'mkdir -p /state && echo seed > /state/seed']);
    await docker(['commit', '-c', 'VOLUME /state', 'withvol', 'app:vol']);
    const before = await volumes();
    const id = (await docker(['create', 'app:vol'])).trim();
    const [c] = JSON.parse(await docker(['inspect', id]));
    assert.equal(c.Mounts.length, 1);
    assert.equal(c.Mounts[0].Type, 'volume');
    assert.equal(c.Mounts[0].Destination, '/state');
    assert.equal((await volumes()).length, before.length + 1);
    await docker(['start', '-a', id]);
    assert.equal(readFileSync(join(c.Mounts[0].Source, 'seed'), 'utf8'), 'seed\n', 'copy-up into the anonymous volume');
    await docker(['rm', '-v', id]);
    assert.deepEqual(await volumes(), before);
    await docker(['run', '--rm', '-v', '/anon', '-v', 'namedkeep:/n', 'busybox', 'true']);
    assert.deepEqual(await volumes(), [...before, 'namedkeep'].sort());
  });

  it('--volumes-from shares another container\'s volumes (read-only on request)', async () => {
    await docker(['run', '--name', 'owner', '-v', 'shared:/shared', 'busybox', 'sh', '-c', 'echo one > /shared/x']);
    assert.equal(await docker(['run', '--rm', '--volumes-from', 'owner', 'busybox', 'cat', '/shared/x']), 'one\n');
    const ro = await d.docker(['run', '--rm', '--volumes-from', 'owner:ro', 'busybox', 'sh', '-c', 'echo two > /shared/x']);
    assert.notEqual(ro.code, 0);
    assert.match(ro.stderr, /Read-only file system/);
  });

  it('a volume in use is not removed (even with -f); prune removes unused anonymous ones, -a named ones too', async () => {
    await docker(['run', '-d', '--name', 'user', '-v', 'data:/data', 'busybox', 'sleep', '120']);
    for (const args of [['volume', 'rm', 'data'], ['volume', 'rm', '-f', 'data']]) {
      const r = await d.docker(args);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /volume is in use/);
    }
    const missing = await d.docker(['volume', 'rm', 'nosuchvol']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /no such volume/);
    assert.equal((await d.docker(['volume', 'rm', '-f', 'nosuchvol'])).code, 0);
    await docker(['rm', '-f', 'user']);
    await docker(['create', '-v', '/loose', 'busybox']).then(async (id) => docker(['rm', id.trim()]));
    const anon = (await volumes()).filter((v) => /^[0-9a-f]{64}$/.test(v));
    assert.ok(anon.length >= 1, 'an anonymous volume left by rm without -v');
    await docker(['volume', 'prune', '-f']);
    assert.ok((await volumes()).includes('data'), 'prune without -a keeps named volumes');
    assert.deepEqual((await volumes()).filter((v) => anon.includes(v)), []);
    await docker(['rm', '-f', 'owner', 'withvol']);
    const pruned = await docker(['volume', 'prune', '-af']);
    assert.match(pruned, /data/);
    assert.deepEqual(await volumes(), []);
    assert.equal(statSync(join(d.dataRoot, 'volumes')).isDirectory(), true);
  });
});
