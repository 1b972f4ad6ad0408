// Images through the real Docker CLI: import, images, tag, rmi and save/load between daemons.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon, makeBusybox, runCmd, DOCKER } from '../../helpers/daemon.ts';

describe('images against berthd', () => {
  const d = new TestDaemon();
  const other = new TestDaemon();
  let id = '';
  before(async () => {
    await d.start();
    await other.start();
    id = await makeBusybox(d);
  });
  after(async () => {
    await d.cleanup();
    await other.cleanup();
  });

  it('import prints the image ID and images lists it', async () => {
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    const ls = (await d.docker(['images'])).stdout.split('\n');
    assert.match(ls[0]!, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    assert.match(ls[1]!, new RegExp(`^busybox\\s+latest\\s+${id.slice(7, 19)}\\s+`));
    assert.equal((await d.docker(['images', '-q'])).stdout, `${id.slice(7, 19)}\n`);
    const [img] = JSON.parse((await d.docker(['image', 'inspect', 'busybox'])).stdout);
    assert.equal(img.Id, id);
    assert.deepEqual(img.Config.Cmd, ['sh']);
    assert.equal(img.RootFS.Layers.length, 1);
    assert.equal(img.Os, 'linux');
  });

  it('import with changes sets the config; importing the same tar again shares the layer', async () => {
    const tar = await runCmd('bash', ['-c', `bash scripts/busybox-image.sh | ${DOCKER} import -c 'ENV A=1' -c 'WORKDIR /srv' -c 'ENTRYPOINT ["echo"]' - second:v1`], { env: d.env });
    assert.equal(tar.code, 0, tar.stderr);
    const [img] = JSON.parse((await d.docker(['image', 'inspect', 'second:v1'])).stdout);
    assert.deepEqual(img.Config.Entrypoint, ['echo']);
    assert.equal(img.Config.WorkingDir, '/srv');
    assert.ok(img.Config.Env.includes('A=1'));
    assert.equal((await d.docker(['run', '--rm', 'second:v1', 'hi', '$A'])).stdout, 'hi $A\n');
    const layers = readdirSync(join(d.dataRoot, 'image/layers'));
    assert.equal(layers.length, 1, 'one extracted layer for both images');
  });

  it('tag and rmi: untag vs delete, and conflicts with containers', async () => {
    assert.equal((await d.docker(['tag', 'busybox', 'mine/box:2'])).code, 0);
    assert.equal((await d.docker(['images', '--format', '{{.Repository}}:{{.Tag}}', 'mine/box'])).stdout, 'mine/box:2\n');
    const byId = await d.docker(['rmi', id.slice(7, 19)]);
    assert.notEqual(byId.code, 0);
    assert.match(byId.stderr, /unable to delete [0-9a-f]{12} \(must be forced\) - image is referenced in multiple repositories/);
    assert.equal((await d.docker(['rmi', 'mine/box:2'])).stdout, 'Untagged: mine/box:2\n');
    await d.docker(['create', '--name', 'user', 'busybox', 'true']);
    const inUse = await d.docker(['rmi', 'busybox']);
    assert.match(inUse.stderr, /unable to remove repository reference "busybox" \(must force\) - container [0-9a-f]{12} is using its referenced image/);
    await d.docker(['rm', 'user']);
    await d.docker(['run', '-d', '--name', 'runner', 'second:v1', 'x']);
    const second = JSON.parse((await d.docker(['image', 'inspect', 'second:v1'])).stdout)[0].Id as string;
    await d.docker(['rm', '-f', 'runner']);
    const rm = await d.docker(['rmi', 'second:v1']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.match(rm.stdout, /^Untagged: second:v1\nDeleted: sha256:/);
    assert.ok(rm.stdout.includes(`Deleted: ${second}`));
    // The shared layer stays: busybox still uses it.
    assert.equal(readdirSync(join(d.dataRoot, 'image/layers')).length, 1);
    assert.equal((await d.docker(['run', '--rm', 'busybox', 'true'])).code, 0);
    const missing = await d.docker(['rmi', 'nosuch:img']);
    assert.match(missing.stderr, /No such image: nosuch:img/);
  });

  it('save then load into another daemon gives the same image ID and a runnable image', async () => {
    const save = await runCmd('bash', ['-c', `${DOCKER} save busybox:latest | DOCKER_HOST=unix://${other.socket} ${DOCKER} load`], { env: d.env });
    assert.equal(save.code, 0, save.stderr);
    assert.equal(save.stdout, 'Loaded image: busybox:latest\n');
    const [img] = JSON.parse((await other.docker(['image', 'inspect', 'busybox'])).stdout);
    assert.equal(img.Id, id);
    assert.equal((await other.docker(['run', '--rm', 'busybox', 'echo', 'loaded'])).stdout, 'loaded\n');
    const listing = await runCmd('bash', ['-c', `${DOCKER} save busybox | tar -t`], { env: d.env });
    const names = listing.stdout.split('\n');
    assert.ok(names.includes('manifest.json') && names.includes('index.json') && names.includes('oci-layout'));
  });
});
