// compose watch against a private berthd: a service whose develop.watch has sync, sync+exec,
// restart and rebuild rules. A changed file appears in the container, a removed one goes
// (Compose's `rm -rf` exec), a sync+exec hook runs after its files are synced, a restart rule
// restarts the service, and a change to a file of the build context under the rebuild rule rebuilds the image
// and recreates the container from it, with Compose's log lines. The engine verbs the rebuild
// calls (build, create, start) are done here with the Docker CLI on the project's labels, so that
// this test checks the watch session itself, whoever implements compose's engine.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { TestDaemon, makeBusybox, ok, until } from '../../helpers/daemon.ts';
import { EngineClient } from '../../../src/client/engine-client.ts';
import type { Project } from '../../../src/compose/model/types.ts';
import type { ComposeContext } from '../../../src/compose/engine/api.ts';
import { startWatching, type WatchEngine, type WatchSession } from '../../../src/compose/watch/watcher.ts';

const PROJECT = 'bwatch';
const CONTAINER = `${PROJECT}-web-1`;

describe('compose watch: sync, sync+exec, restart and rebuild rules', { timeout: 90_000 }, () => {
  const d = new TestDaemon();
  let dir: string;
  let client: EngineClient;
  let session: WatchSession | undefined;
  const logs: string[] = [];
  const warnings: string[] = [];
  let project: Project;
  let execOutput = '';

  const docker = (args: string[]) => ok(d.docker(args, { env: { DOCKER_BUILDKIT: '0' }, timeoutMs: 20_000 }));
  const inContainer = (cmd: string) => d.docker(['exec', CONTAINER, 'sh', '-c', cmd], { timeoutMs: 10_000 });

  // The engine verbs as compose's engine does them for one replica: image `<project>-<service>`,
  // container `<project>-<service>-1` with Compose's labels, recreated by force.
  const engine: WatchEngine = {
    async build(_ctx, p, services) {
      for (const s of services) await docker(['build', '-q', '-t', `${PROJECT}-${s}`, '--label', `com.docker.compose.project=${PROJECT}`, p.services[s]!.build!.context]);
    },
    async create(_ctx, _p, o) {
      for (const s of o.services) {
        await d.docker(['rm', '-f', `${PROJECT}-${s}-1`]);
        await docker(['create', '--name', `${PROJECT}-${s}-1`, '--label', `com.docker.compose.project=${PROJECT}`,
          '--label', `com.docker.compose.service=${s}`, '--label', 'com.docker.compose.oneoff=False', '--label', 'com.docker.compose.container-number=1',
          `${PROJECT}-${s}`, 'sleep', '300']);
      }
    },
    async start(_ctx, _p, o) {
      for (const s of o.services) await docker(['start', `${PROJECT}-${s}-1`]);
    },
    async restart(_ctx, _p, services) {
      for (const s of services) await docker(['restart', '-t', '0', `${PROJECT}-${s}-1`]);
    },
  };

  before(async () => {
    await d.start();
    await makeBusybox(d);
    dir = await mkdtemp(join(tmpdir(), 'berth-watch-it-'));
    const app = join(dir, 'app');
    await mkdir(join(app, 'src'), { recursive: true });
    await writeFile(join(app, 'Dockerfile'), 'FROM busybox\nCOPY version.txt /version.txt\n');
    await writeFile(join(app, '.dockerignore'), 'src/*.log\n');
    await writeFile(join(app, 'version.txt'), 'v1\n');
    await writeFile(join(app, 'src/index.html'), 'hello\n');
    await mkdir(join(app, 'hook'));
    await writeFile(join(app, 'restart.txt'), '1\n');
    project = {
      name: PROJECT, workingDir: dir, configFiles: [join(dir, 'compose.yaml')],
      services: {
        web: {
          name: 'web', build: { context: app },
          develop: { watch: [
            { action: 'sync', path: join(app, 'src'), target: '/srv/src' },
            { action: 'rebuild', path: join(app, 'version.txt') },
            { action: 'sync+exec', path: join(app, 'hook'), target: '/srv/hook', exec: { command: ['sh', '-c', 'cat /srv/hook/h.txt > /srv/hook.ran; echo hook ran'] } },
            { action: 'restart', path: join(app, 'restart.txt') },
          ] },
        },
      },
      disabledServices: {}, networks: {}, volumes: {}, secrets: {}, configs: {}, extensions: {}, environment: {}, profiles: [],
    };
    client = new EngineClient({ socketPath: d.socket }, { address: `unix://${d.socket}` });
    const ctx: ComposeContext = { client, progress: { event: () => {} }, warn: (t) => warnings.push(t) };
    // up, as watch does before it starts following files
    await engine.build(ctx, project, ['web'], {});
    await engine.create(ctx, project, { services: ['web'], recreate: 'diverged' });
    await engine.start(ctx, project, { services: ['web'] });
    const sink = new PassThrough();
    sink.on('data', (c: Buffer) => { execOutput += c.toString(); });
    session = await startWatching(ctx, engine, project, {
      services: [], prune: true, quiet: true, log: (l) => logs.push(l), warn: (l) => warnings.push(l), out: sink, err: sink,
    });
  });

  after(async () => {
    await session?.stop().catch((e: unknown) => console.error('stopping watch:', e));
    client?.close();
    await d.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('says "Watch enabled" once it follows the files', () => {
    assert.deepEqual(logs, ['Watch enabled']);
  });

  it('a changed and a new file under a sync rule appear in the container; an ignored one does not', async () => {
    await writeFile(join(dir, 'app/src/index.html'), 'hello again\n');
    await writeFile(join(dir, 'app/src/new.txt'), 'new\n');
    await writeFile(join(dir, 'app/src/debug.log'), 'ignored by .dockerignore\n');
    await until(async () => (await inContainer('cat /srv/src/index.html /srv/src/new.txt')).stdout === 'hello again\nnew\n', 20_000, 'the synced files');
    assert.ok(logs.some((l) => /^Syncing service "web" after \d+ changes were detected$/.test(l)), logs.join('\n'));
    assert.equal((await inContainer('test -e /srv/src/debug.log')).code, 1);
  });

  it('a removed file is removed in the container', async () => {
    await unlink(join(dir, 'app/src/new.txt'));
    await until(async () => (await inContainer('test -e /srv/src/new.txt')).code === 1, 20_000, 'the removal');
    assert.equal((await inContainer('cat /srv/src/index.html')).stdout, 'hello again\n');
  });

  it('sync+exec syncs, then runs the command in the container, its output shown', async () => {
    await writeFile(join(dir, 'app/hook/h.txt'), 'synced first\n');
    await until(async () => (await inContainer('cat /srv/hook.ran')).stdout === 'synced first\n', 20_000, 'the hook');
    await until(async () => execOutput === 'hook ran\n', 5_000, 'the hook output');
  });

  it('restart restarts the service after a change, with Compose\'s line', async () => {
    const started = () => d.api('GET', `/containers/${CONTAINER}/json`).then((r) => (r.json() as { State: { StartedAt: string } }).State.StartedAt);
    const first = await started();
    await writeFile(join(dir, 'app/restart.txt'), '2\n');
    await until(async () => logs.includes('service(s) ["web"] restarted'), 20_000, 'the restart line');
    assert.notEqual(await started(), first);
  });

  it('a change under a rebuild rule rebuilds the image and recreates the container from it', async () => {
    const before = (await d.api('GET', `/containers/${CONTAINER}/json`)).json() as { Id: string; Image: string };
    await writeFile(join(dir, 'app/version.txt'), 'v2\n');
    await until(async () => {
      const r = await d.api('GET', `/containers/${CONTAINER}/json`);
      if (r.status !== 200) return false;
      const now = r.json() as { Id: string; Image: string; State: { Running: boolean } };
      return now.Id !== before.Id && now.State.Running;
    }, 20_000, 'the recreated container');
    const now = (await d.api('GET', `/containers/${CONTAINER}/json`)).json() as { Image: string };
    assert.notEqual(now.Image, before.Image, 'the new container runs the new image');
    assert.equal((await inContainer('cat /version.txt')).stdout, 'v2\n');
    await until(async () => logs.includes('service(s) ["web"] successfully built'), 5_000, 'the build log line');
    const i = logs.indexOf('Rebuilding service(s) ["web"] after changes were detected...');
    assert.ok(i > 0 && logs.indexOf('service(s) ["web"] successfully built') > i, logs.join('\n'));
    assert.deepEqual(warnings, []);
  });
});
