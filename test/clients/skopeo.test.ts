// skopeo 1.9 (Debian's) moving images between a daemon and directories, both ways, against a
// private dockerd and a private berthd (client-pair.ts). skopeo's docker-daemon: transport speaks
// Engine API 1.22: GET /images/{name}/get (docker save's tar) to read, POST /images/load to write.
// berthd must accept that old version for these to pass (moby answers any version from 1.12).
import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DOCKER, runCmd, type Result } from '../helpers/daemon.ts';
import { onBothDaemons, type PairContext } from './client-pair.ts';

const SKOPEO = '/usr/bin/skopeo';

interface Manifest { mediaType?: string; config: { mediaType: string; digest: string }; layers: { mediaType: string; digest: string }[] }

function host(c: PairContext): string {
  return c.d().env.DOCKER_HOST!;
}

function skopeo(c: PairContext, args: string[]): Promise<Result> {
  return runCmd(SKOPEO, args, { env: c.d().env, timeoutMs: 60_000 });
}

function docker(c: PairContext, args: string[]): Promise<Result> {
  return runCmd(DOCKER, args, { env: c.d().env });
}

function must(r: Result, what: string): string {
  assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

onBothDaemons('skopeo docker-daemon: transport', (c) => {
  const skip = existsSync(SKOPEO) ? false : 'skopeo is not installed (scripts/install.sh installs it)';
  let work = '';
  let busybox = { id: '', layers: [] as string[] };

  it('copies docker-daemon:busybox:latest to dir: as the image the daemon has', { skip }, async () => {
    work = mkdtempSync('/var/tmp/berth-skopeo-');
    const [id, layers] = must(await docker(c, ['image', 'inspect', '-f', '{{.Id}} {{json .RootFS.Layers}}', 'busybox:latest']), 'inspect').trim().split(' ');
    busybox = { id, layers: JSON.parse(layers) as string[] };
    must(await skopeo(c, ['copy', '--src-daemon-host', host(c), 'docker-daemon:busybox:latest', `dir:${work}/dir`]), 'copy to dir');
    const files = readdirSync(join(work, 'dir')).sort();
    const m = JSON.parse(readFileSync(join(work, 'dir/manifest.json'), 'utf8')) as Manifest;
    // the daemon's config blob and uncompressed layers travel unchanged: the config digest is the image ID
    assert.equal(m.config.digest, busybox.id);
    assert.deepEqual(m.layers.map((l) => l.digest), busybox.layers);
    assert.deepEqual(files, ['manifest.json', 'version', ...[busybox.id, ...busybox.layers].map((d) => d.slice(7))].sort());
    c.record('dir', { mediaType: m.mediaType, config: m.config.mediaType, layers: m.layers.map((l) => l.mediaType), files: files.length });
  });

  it('copies docker-daemon:busybox:latest to oci: with a ref name', { skip }, async () => {
    must(await skopeo(c, ['copy', '--src-daemon-host', host(c), 'docker-daemon:busybox:latest', `oci:${work}/oci:bb`]), 'copy to oci');
    const index = JSON.parse(readFileSync(join(work, 'oci/index.json'), 'utf8')) as { manifests: { mediaType: string; annotations: Record<string, string> }[] };
    assert.equal(index.manifests.length, 1);
    assert.equal(index.manifests[0].annotations['org.opencontainers.image.ref.name'], 'bb');
    assert.ok(existsSync(join(work, 'oci/oci-layout')));
    c.record('oci', index.manifests.map((x) => [x.mediaType, x.annotations]));
  });

  it('copies dir: back into the daemon under a new name, and it runs', { skip }, async () => {
    must(await skopeo(c, ['copy', '--dest-daemon-host', host(c), `dir:${work}/dir`, 'docker-daemon:copied:dir']), 'copy from dir');
    const id = must(await docker(c, ['image', 'inspect', '-f', '{{.Id}}', 'copied:dir']), 'inspect').trim();
    assert.equal(id, busybox.id, 'the same config, so the same image');
    const out = must(await docker(c, ['run', '--rm', 'copied:dir', 'echo', 'ran from dir']), 'run');
    assert.equal(out, 'ran from dir\n');
    c.record('from dir', out);
  });

  it('copies oci: back into the daemon, and it runs with the same layers', { skip }, async () => {
    must(await skopeo(c, ['copy', '--dest-daemon-host', host(c), `oci:${work}/oci:bb`, 'docker-daemon:copied:oci']), 'copy from oci');
    const [cmd, layers] = must(await docker(c, ['image', 'inspect', '-f', '{{json .Config.Cmd}} {{json .RootFS.Layers}}', 'copied:oci']), 'inspect').trim().split(' ');
    assert.deepEqual(JSON.parse(layers), busybox.layers);
    assert.deepEqual(JSON.parse(cmd), ['sh']);
    const out = must(await docker(c, ['run', '--rm', 'copied:oci', 'sh', '-c', 'echo ran from oci']), 'run');
    assert.equal(out, 'ran from oci\n');
    const tags = must(await docker(c, ['images', '--format', '{{.Repository}}:{{.Tag}}']), 'images').trim().split('\n').sort();
    assert.deepEqual(tags, ['busybox:latest', 'copied:dir', 'copied:oci']);
    c.record('from oci', [out, tags]);
  });

  it('skopeo inspect docker-daemon: reads the image back', { skip }, async () => {
    const info = JSON.parse(must(await skopeo(c, ['inspect', '--daemon-host', host(c), 'docker-daemon:copied:oci']), 'inspect')) as Record<string, unknown>;
    assert.equal(info.Name, 'docker.io/library/copied');
    assert.deepEqual(info.Layers, busybox.layers);
    assert.equal(info.Os, 'linux');
    c.record('inspect', { keys: Object.keys(info).sort(), Name: info.Name, Architecture: info.Architecture, Os: info.Os, RepoTags: info.RepoTags });
  });

  it('a missing image is an error that names the daemon answer', { skip }, async () => {
    const r = await skopeo(c, ['copy', '--src-daemon-host', host(c), 'docker-daemon:missing:tag', `dir:${work}/missing`]);
    assert.equal(r.code, 1);
    const msg = /Error response from daemon: (.*)"/.exec(r.stderr)?.[1];
    assert.equal(msg, 'reference does not exist');
    c.record('missing', [r.code, msg]);
  });

  after(() => { if (work) rmSync(work, { recursive: true, force: true }); });
});
