// Images as layers through the real Docker CLI: commit, history, diff with whiteouts, docker cp
// both ways, save/load in every format, shared layers on disk, df and prune.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, chownSync, chmodSync, statSync, existsSync, readdirSync, mkdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { TestDaemon, makeBusybox, runCmd, runBuffer, DOCKER, ok } from '../../helpers/daemon.ts';


async function du(path: string): Promise<number> {
  const r = await runCmd('du', ['-sb', path]);
  return Number(r.stdout.split('\t')[0]);
}

describe('image layers against berthd', () => {
  const d = new TestDaemon();
  const other = new TestDaemon();
  const work = mkdtempSync('/tmp/berth-layers-');
  const docker = (args: string[]): Promise<string> => ok(d.docker(args));
  before(async () => {
    await d.start();
    await other.start();
    await makeBusybox(d);
  });
  after(async () => {
    await d.cleanup();
    await other.cleanup();
    await rm(work, { recursive: true, force: true });
  });

  it('commit makes an image whose containers see the change; history and inspect show the layers', async () => {
    await docker(['run', '--name', 'c1', 'busybox', 'sh', '-c', 'echo hello > /greeting; mkdir -p /srv/app; echo 12345 > /srv/app/data']);
    const id = (await docker(['commit', '-a', 'Ada <ada@example.com>', '-m', 'first commit', '-c', 'ENV MODE=prod', '-c', 'CMD ["cat", "/greeting"]', 'c1', 'app:v1'])).trim();
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    assert.equal(await docker(['run', '--rm', 'app:v1']), 'hello\n');
    assert.equal(await docker(['run', '--rm', 'app:v1', 'sh', '-c', 'echo $MODE; cat /srv/app/data']), 'prod\n12345\n');
    const [img] = JSON.parse(await docker(['image', 'inspect', 'app:v1']));
    const [base] = JSON.parse(await docker(['image', 'inspect', 'busybox']));
    assert.equal(img.Id, id);
    assert.equal(img.Parent, base.Id);
    assert.equal(img.Author, 'Ada <ada@example.com>');
    assert.equal(img.Comment, 'first commit');
    assert.deepEqual(img.Config.Cmd, ['cat', '/greeting']);
    assert.deepEqual(img.RootFS.Layers.slice(0, 1), base.RootFS.Layers);
    assert.equal(img.RootFS.Layers.length, 2);
    assert.ok(img.Size > base.Size, 'the new layer adds to the size');
    const hist = (await docker(['history', '--no-trunc', '--format', '{{.ID}}|{{.CreatedBy}}|{{.Size}}|{{.Comment}}', 'app:v1'])).trim().split('\n');
    assert.equal(hist.length, 2);
    assert.match(hist[0]!, new RegExp(`^${id}\\|sh -c echo hello > /greeting; mkdir -p /srv/app; echo 12345 > /srv/app/data\\|\\d+B\\|first commit$`));
    assert.match(hist[1]!, new RegExp(`^${base.Id}\\|\\|1\\.98MB\\|Imported from -$`));
  });

  it('deleted files and replaced directories become whiteouts: diff shows D, the committed image lacks them', async () => {
    await docker(['run', '--name', 'c2', 'busybox', 'sh', '-c', 'rm /bin/ls; rm -rf /usr; mkdir -p /usr/fresh; echo f > /usr/fresh/only']);
    const diff = await docker(['diff', 'c2']);
    assert.match(diff, /^D \/bin\/ls$/m);
    assert.match(diff, /^C \/bin$/m);
    await docker(['commit', 'c2', 'app:whiteout']);
    const out = await d.docker(['run', '--rm', 'app:whiteout', 'sh', '-c', 'ls /bin/ls; find /usr']);
    assert.match(out.stderr + out.stdout, /\/bin\/ls: No such file or directory/);
    assert.equal(out.stdout, '/usr\n/usr/fresh\n/usr/fresh/only\n', 'the opaque /usr hides the base image\'s /usr');
    // The layer tar carries OCI whiteouts, as `docker save` shows.
    const saved = await runBuffer(DOCKER, ['-H', d.env.DOCKER_HOST!, 'save', 'app:whiteout']);
    writeFileSync(join(work, 'wh.tar'), saved);
    const dir = join(work, 'wh');
    mkdirSync(dir);
    await ok(runCmd('tar', ['-xf', join(work, 'wh.tar'), '-C', dir]));
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    const top = await ok(runCmd('tar', ['-tf', join(dir, manifest[0].Layers[1])]));
    assert.match(top, /^bin\/\.wh\.ls$/m);
    assert.match(top, /^usr\/\.wh\.\.wh\.\.opq$/m);
  });

  it('commit pauses a running container and leaves it running; --pause=false does not pause', async () => {
    await docker(['run', '-d', '--name', 'c3', 'busybox', 'sh', '-c', 'while true; do date >> /log; sleep 0.05; done']);
    await docker(['commit', 'c3', 'app:live']);
    assert.equal((await docker(['inspect', '-f', '{{.State.Status}} {{.State.Paused}}', 'c3'])).trim(), 'running false');
    await docker(['commit', '--pause=false', 'c3', 'app:live2']);
    assert.equal(await docker(['run', '--rm', 'app:live', 'sh', '-c', 'test -s /log && echo yes']), 'yes\n');
    await docker(['rm', '-f', 'c3']);
  });

  it('docker cp copies into and out of running and stopped containers, keeping owners and modes', async () => {
    const src = join(work, 'src');
    mkdirSync(join(src, 'sub'), { recursive: true });
    writeFileSync(join(src, 'sub', 'file'), 'payload\n');
    chownSync(join(src, 'sub', 'file'), 4321, 8765);
    chmodSync(join(src, 'sub', 'file'), 0o604);
    await docker(['run', '-d', '--name', 'cp1', 'busybox', 'sleep', '300']);
    await docker(['cp', src, 'cp1:/tmp/']);
    assert.equal(await docker(['exec', 'cp1', 'stat', '-c', '%u:%g %a %s', '/tmp/src/sub/file']), '4321:8765 604 8\n');
    await docker(['exec', 'cp1', 'sh', '-c', 'echo secret > /tmp/out; chown 1234:5678 /tmp/out; chmod 640 /tmp/out']);
    // Out: the archive keeps the owner, the copy on disk keeps the mode (like Docker's CLI).
    const tv = await ok(runCmd('sh', ['-c', `${DOCKER} cp cp1:/tmp/out - | tar -tvf -`], { env: d.env }));
    assert.match(tv, /^-rw-r----- 1234\/5678 +7 .* out$/m);
    await docker(['cp', 'cp1:/tmp/out', join(work, 'out')]);
    assert.equal(readFileSync(join(work, 'out'), 'utf8'), 'secret\n');
    assert.equal(statSync(join(work, 'out')).mode & 0o777, 0o640);
    // A directory comes out under its own name.
    await docker(['cp', 'cp1:/tmp/src', join(work, 'back')]);
    assert.equal(readFileSync(join(work, 'back', 'sub', 'file'), 'utf8'), 'payload\n');
    // Stopped container, both ways.
    await docker(['stop', '-t', '0', 'cp1']);
    await docker(['cp', join(work, 'out'), 'cp1:/etc/copied']);
    await docker(['cp', 'cp1:/etc/copied', join(work, 'copied')]);
    assert.equal(readFileSync(join(work, 'copied'), 'utf8'), 'secret\n');
    await docker(['start', 'cp1']);
    assert.equal(await docker(['exec', 'cp1', 'cat', '/etc/copied']), 'secret\n');
    // Errors are clear, and nothing is left mounted for a stopped container.
    const missing = await d.docker(['cp', 'cp1:/no/such/file', join(work, 'x')]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /Could not find the file \/no\/such\/file in container cp1/);
    await docker(['rm', '-f', 'cp1']);
  });

  it('docker cp resolves symlinks inside the container, never on the host', async () => {
    const tag = randomBytes(4).toString('hex');
    const hostPath = `/tmp/berth-escape-${tag}`;
    await docker(['run', '-d', '--name', 'cp2', 'busybox', 'sh', '-c', `mkdir -p ${hostPath}; ln -s ../../../../../..${hostPath} /esc; sleep 300`]);
    for (let i = 0; i < 50 && (await d.docker(['exec', 'cp2', 'test', '-L', '/esc'])).code !== 0; i++) await new Promise((r) => setTimeout(r, 100));
    writeFileSync(join(work, 'probe'), 'inside\n');
    await docker(['cp', join(work, 'probe'), 'cp2:/esc/']);
    assert.equal(existsSync(hostPath), false, 'nothing written on the host');
    assert.equal(await docker(['exec', 'cp2', 'cat', `${hostPath}/probe`]), 'inside\n');
    await docker(['rm', '-f', 'cp2']);
  });

  it('xattrs survive commit and save/load', async () => {
    await docker(['run', '--name', 'x1', 'busybox', 'sh', '-c', 'echo x > /tagged']);
    const cid = (await docker(['inspect', '-f', '{{.Id}}', 'x1'])).trim();
    await ok(runCmd('setfattr', ['-n', 'user.berth', '-v', 'layered', join(d.dataRoot, 'containers', cid, 'upper', 'tagged')]));
    await docker(['commit', 'x1', 'app:xattr']);
    const upper = (await docker(['image', 'inspect', '-f', '{{.GraphDriver.Data.UpperDir}}', 'app:xattr'])).trim();
    assert.match(await ok(runCmd('getfattr', ['-n', 'user.berth', join(upper, 'tagged')])), /user\.berth="layered"/);
    const tar = join(work, 'xattr.tar');
    await docker(['save', '-o', tar, 'app:xattr']);
    await ok(other.docker(['load', '-i', tar]));
    const upper2 = (await ok(other.docker(['image', 'inspect', '-f', '{{.GraphDriver.Data.UpperDir}}', 'app:xattr']))).trim();
    assert.match(await ok(runCmd('getfattr', ['-n', 'user.berth', join(upper2, 'tagged')])), /user\.berth="layered"/);
  });

  it('save | load keeps image IDs, in the docker-archive, OCI-layout and legacy formats', async () => {
    const ids = (await docker(['images', '--no-trunc', '-q', 'app'])).trim().split('\n').sort();
    const tar = join(work, 'all.tar');
    await docker(['save', '-o', tar, 'app:v1', 'app:whiteout', 'busybox']);
    const names = (await ok(runCmd('tar', ['-tf', tar]))).split('\n');
    const base = JSON.parse(await docker(['image', 'inspect', 'busybox']))[0].RootFS.Layers[0].slice(7);
    assert.equal(names.filter((n) => n === `blobs/sha256/${base}`).length, 1, 'the shared base layer is stored once');
    const fresh = new TestDaemon();
    try {
      await fresh.start();
      const out = await ok(fresh.docker(['load', '-i', tar]));
      assert.match(out, /Loaded image: app:v1/);
      for (const ref of ['app:v1', 'app:whiteout', 'busybox:latest']) {
        assert.equal(await ok(fresh.docker(['image', 'inspect', '-f', '{{.Id}}', ref])), await docker(['image', 'inspect', '-f', '{{.Id}}', ref]));
      }
      assert.equal(await ok(fresh.docker(['run', '--rm', 'app:v1'])), 'hello\n');
      // OCI layout alone (no manifest.json): tags come from the index annotations.
      const dir = join(work, 'oci');
      mkdirSync(dir);
      await ok(runCmd('tar', ['-xf', tar, '-C', dir]));
      const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
      await rm(join(dir, 'manifest.json'));
      await rm(join(dir, 'repositories'), { force: true });
      await ok(runCmd('tar', ['-cf', join(work, 'oci.tar'), '-C', dir, '.']));
      await ok(fresh.docker(['rmi', 'app:v1', 'app:whiteout']));
      assert.match(await ok(fresh.docker(['load', '-i', join(work, 'oci.tar')])), /Loaded image: app:v1/);
      assert.equal(await ok(fresh.docker(['image', 'inspect', '-f', '{{.Id}}', 'app:whiteout'])), await docker(['image', 'inspect', '-f', '{{.Id}}', 'app:whiteout']));
      // The layout Docker 20.10 writes: <id>.json configs and <layer>/layer.tar.
      const legacy = join(work, 'legacy');
      mkdirSync(legacy);
      const m = manifest.find((e: { RepoTags: string[] }) => e.RepoTags?.includes('app:v1'));
      const cfgHex = m.Config.split('/').pop() as string;
      writeFileSync(join(legacy, `${cfgHex}.json`), readFileSync(join(dir, m.Config)));
      const layers = m.Layers.map((l: string) => {
        const hex = l.split('/').pop() as string;
        mkdirSync(join(legacy, hex));
        writeFileSync(join(legacy, hex, 'VERSION'), '1.0');
        writeFileSync(join(legacy, hex, 'layer.tar'), readFileSync(join(dir, l)));
        return `${hex}/layer.tar`;
      });
      writeFileSync(join(legacy, 'manifest.json'), JSON.stringify([{ Config: `${cfgHex}.json`, RepoTags: ['legacy:v1'], Layers: layers }]));
      await ok(runCmd('tar', ['-cf', join(work, 'legacy.tar'), '-C', legacy, '.']));
      assert.match(await ok(fresh.docker(['load', '-i', join(work, 'legacy.tar')])), /Loaded image: legacy:v1/);
      assert.equal(await ok(fresh.docker(['image', 'inspect', '-f', '{{.Id}}', 'legacy:v1'])), await docker(['image', 'inspect', '-f', '{{.Id}}', 'app:v1']));
    } finally {
      await fresh.cleanup();
    }
    assert.deepEqual((await docker(['images', '--no-trunc', '-q', 'app'])).trim().split('\n').sort(), ids);
  });

  it('a corrupted archive is refused and stores nothing', async () => {
    const tar = join(work, 'all.tar');
    const dir = join(work, 'bad');
    mkdirSync(dir);
    await ok(runCmd('tar', ['-xf', tar, '-C', dir]));
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    const layer = join(dir, manifest[0].Layers.at(-1));
    const bytes = readFileSync(layer);
    bytes[600] = bytes[600]! ^ 0xff;
    writeFileSync(layer, bytes);
    await ok(runCmd('tar', ['-cf', join(work, 'bad.tar'), '-C', dir, '.']));
    const fresh = new TestDaemon();
    try {
      await fresh.start();
      const r = await fresh.docker(['load', '-i', join(work, 'bad.tar')]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /does not match its digest/);
      assert.equal(await ok(fresh.docker(['images', '-q'])), '');
      assert.deepEqual(readdirSync(join(fresh.dataRoot, 'image', 'layers')), []);
      assert.deepEqual(readdirSync(join(fresh.dataRoot, 'image', 'content', 'sha256')), []);
      assert.deepEqual(readdirSync(join(fresh.dataRoot, 'image', 'tmp')), []);
    } finally {
      await fresh.cleanup();
    }
  });

  it('images on one base share its layer on disk; df reports shared and unique sizes', async () => {
    const layers = join(d.dataRoot, 'image', 'layers');
    const baseBytes = JSON.parse(await docker(['image', 'inspect', 'busybox']))[0].Size as number;
    const before = await du(layers);
    await docker(['run', '--name', 's1', 'busybox', 'sh', '-c', 'echo one > /one']);
    await docker(['run', '--name', 's2', 'busybox', 'sh', '-c', 'echo two > /two']);
    await docker(['commit', 's1', 'shared:one']);
    await docker(['commit', 's2', 'shared:two']);
    const grown = (await du(layers)) - before;
    assert.ok(grown < baseBytes / 4, `two images on busybox added ${grown} bytes of layers (the base is ${baseBytes})`);
    const df = (await ok(d.api('GET', '/system/df').then((r) => ({ code: r.status === 200 ? 0 : 1, stdout: r.body.toString(), stderr: r.body.toString() }))));
    const parsed = JSON.parse(df);
    const one = parsed.Images.find((i: { RepoTags: string[] }) => i.RepoTags.includes('shared:one'));
    assert.equal(one.SharedSize, baseBytes);
    assert.ok(one.Size - one.SharedSize < 100, 'unique size is the small top layer');
    assert.ok(parsed.LayersSize < 2 * baseBytes, 'each layer counted once');
    const v = await docker(['system', 'df', '-v']);
    assert.match(v, /shared\s+one\s+[0-9a-f]{12}\s+.*\s1\.98MB\s+1\.984MB\s+4B\s+0\n/);
  });

  it('prune removes stopped containers and dangling images, never a layer in use; rmi frees disk', async () => {
    await docker(['run', '--name', 'p1', 'busybox', 'sh', '-c', 'head -c 300000 /dev/urandom > /blob']);
    const dangling = (await docker(['commit', 'p1'])).trim();
    await docker(['run', '-d', '--name', 'keep', 'busybox', 'sleep', '300']);
    const cp = await docker(['container', 'prune', '-f']);
    assert.match(cp, /Deleted Containers:/);
    const left = (await docker(['ps', '-a', '--format', '{{.Names}}'])).trim().split('\n');
    assert.deepEqual(left, ['keep']);
    const layerDir = (await docker(['image', 'inspect', '-f', '{{.GraphDriver.Data.UpperDir}}', dangling])).trim();
    assert.ok(existsSync(layerDir));
    const ip = await docker(['image', 'prune', '-f']);
    assert.match(ip, new RegExp(`deleted: ${dangling}`));
    assert.match(ip, /Total reclaimed space: 30\dkB/);
    assert.equal(existsSync(layerDir), false, 'the pruned layer is gone from disk');
    assert.equal(await docker(['run', '--rm', 'busybox', 'echo', 'base intact']), 'base intact\n');
    // prune -a keeps what a container uses; rmi of the rest frees their top layers.
    const appLayer = (await docker(['image', 'inspect', '-f', '{{.GraphDriver.Data.UpperDir}}', 'shared:one'])).trim();
    await docker(['rmi', 'shared:one']);
    assert.equal(existsSync(appLayer), false);
    await docker(['image', 'prune', '-a', '-f']);
    assert.match(await docker(['images', '--format', '{{.Repository}}']), /^busybox$/m);
    assert.equal(await docker(['exec', 'keep', 'echo', 'still running']), 'still running\n');
    await docker(['rm', '-f', 'keep']);
  });
});
