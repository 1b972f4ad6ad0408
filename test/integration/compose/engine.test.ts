// The compose engine against a private berthd: a 3-service project created and started in
// dependency order (service_healthy waited for), scaled 1 → 3 → 1, one service changed and only
// it recreated (keeping its anonymous volume), failing dependencies reported in Compose's words,
// and down -v leaving nothing of the project behind. The Project is built by hand, so this test
// does not depend on the loader.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TestDaemon, makeBusybox } from '../../helpers/daemon.ts';
import { EngineClient } from '../../../src/client/engine-client.ts';
import { composeEngine } from '../../../src/compose/engine/service.ts';
import type { ComposeContext, ProgressEvent } from '../../../src/compose/engine/api.ts';
import type { Project, Service } from '../../../src/compose/model/types.ts';

const svc = (name: string, more: Partial<Service>): Service => ({
  name, image: 'busybox:latest', stop_signal: 'SIGKILL', networks: { default: null }, ...more,
});

function shop(): Project {
  return {
    name: 'shop', workingDir: '/tmp', configFiles: ['/tmp/compose.yaml'], disabledServices: {}, extensions: {}, environment: {}, profiles: [],
    networks: { default: { name: 'shop_default' } }, volumes: { data: { name: 'shop_data' } }, secrets: {},
    configs: { motd: { name: 'motd', content: 'hello' } },
    services: {
      db: svc('db', {
        command: ['sh', '-c', 'sleep 1; touch /tmp/ready; exec sleep 3600'],
        healthcheck: { test: ['CMD-SHELL', 'test -f /tmp/ready'], interval: '200ms', retries: 30 },
      }),
      web: svc('web', {
        command: ['sleep', '3600'],
        depends_on: { db: { condition: 'service_healthy', required: true } },
        volumes: [{ type: 'volume', source: 'data', target: '/data' }, { type: 'volume', target: '/anon' }],
        configs: [{ source: 'motd', target: '/etc/motd' }],
      }),
      worker: svc('worker', { command: ['sleep', '3600'], depends_on: { web: { condition: 'service_started', required: true } } }),
    },
  };
}

describe('compose engine against berthd', { timeout: 90_000 }, () => {
  const d = new TestDaemon();
  let client: EngineClient;
  const events: ProgressEvent[] = [];
  const warnings: string[] = [];
  const ctx = (): ComposeContext => ({ client, progress: { event: (e) => events.push(e) }, warn: (t) => warnings.push(t) });

  before(async () => {
    await d.start();
    await makeBusybox(d);
    client = new EngineClient({ socketPath: d.socket }, { address: `unix://${d.socket}` });
  });
  after(async () => {
    client?.close();
    await d.cleanup();
  });

  const list = async (project = 'shop') => composeEngine.containers(client, project, { all: true });
  const inspect = (id: string) => client.containerInspect(id);

  it('up: networks, volumes and containers with Compose labels, started after db is healthy', async () => {
    const p = shop();
    await composeEngine.create(ctx(), p, { services: [], recreate: 'diverged' });
    await composeEngine.start(ctx(), p, { services: [] });
    const cs = await list();
    assert.deepEqual(cs.map((c) => c.name), ['shop-db-1', 'shop-web-1', 'shop-worker-1']);
    for (const c of cs) assert.equal(c.state, 'running');
    const web = await inspect(cs[1]!.id);
    assert.equal(web.Config!.Labels!['com.docker.compose.depends_on'], 'db:service_healthy:false');
    assert.equal(web.Config!.Labels!['com.docker.compose.container-number'], '1');
    assert.ok(web.NetworkSettings!.Networks!.shop_default, 'joined shop_default');
    assert.deepEqual(web.NetworkSettings!.Networks!.shop_default!.Aliases?.includes('web'), true);
    // db became healthy before web started
    const at = (name: string, status: string) => events.findIndex((e) => e.name === name && e.status === status);
    assert.ok(at('shop-db-1', 'Healthy') >= 0 && at('shop-db-1', 'Healthy') < at('shop-web-1', 'Started'), JSON.stringify(events.map((e) => `${e.name} ${e.status}`)));
    const db = await inspect(cs[0]!.id);
    assert.ok(Date.parse(web.State!.StartedAt!) - Date.parse(db.State!.StartedAt!) >= 900, 'web started once db was ready');
    // the inline config was copied in before start
    const nets = await client.networkList();
    assert.ok(nets.some((n) => n.Name === 'shop_default' && n.Labels?.['com.docker.compose.network'] === 'default'));
    assert.equal((await client.volumeInspect('shop_data')).Labels?.['com.docker.compose.volume'], 'data');
    const exec = await client.execCreate(cs[1]!.id, { Cmd: ['cat', '/etc/motd'], AttachStdout: true });
    const res = await client.raw('POST', `/exec/${exec.Id}/start`, Buffer.from('{"Detach":false,"Tty":true}'), { 'Content-Type': 'application/json' });
    let out = '';
    for await (const c of res) out += String(c);
    assert.equal(out, 'hello');
  });

  it('a second up changes nothing; scale 1 → 3 → 1 keeps the lowest numbers', async () => {
    const p = shop();
    const before = (await list()).map((c) => c.id);
    events.length = 0;
    await composeEngine.create(ctx(), p, { services: [], recreate: 'diverged' });
    assert.deepEqual((await list()).map((c) => c.id), before);
    assert.ok(events.every((e) => e.status === 'Running'), JSON.stringify(events));

    await composeEngine.create(ctx(), p, { services: ['worker'], recreate: 'diverged', scale: { worker: 3 } });
    await composeEngine.start(ctx(), p, { services: ['worker'] });
    assert.deepEqual((await list()).filter((c) => c.service === 'worker').map((c) => [c.name, c.state]),
      [['shop-worker-1', 'running'], ['shop-worker-2', 'running'], ['shop-worker-3', 'running']]);
    await composeEngine.create(ctx(), p, { services: ['worker'], recreate: 'diverged', scale: { worker: 1 } });
    assert.deepEqual((await list()).filter((c) => c.service === 'worker').map((c) => c.name), ['shop-worker-1']);
  });

  it('a changed service alone is recreated, under its name, keeping its anonymous volume', async () => {
    const before = await list();
    const oldWeb = await inspect(before.find((c) => c.service === 'web')!.id);
    const anon = oldWeb.Mounts!.find((m) => m.Destination === '/anon')!.Name;
    const p = shop();
    p.services.web!.environment = { CHANGED: '1' };
    events.length = 0;
    await composeEngine.create(ctx(), p, { services: [], recreate: 'diverged' });
    await composeEngine.start(ctx(), p, { services: [] });
    const after = await list();
    assert.deepEqual(after.map((c) => c.name), ['shop-db-1', 'shop-web-1', 'shop-worker-1']);
    const id = (cs: typeof after, s: string) => cs.find((c) => c.service === s)!.id;
    assert.equal(id(after, 'db'), id(before, 'db'));
    assert.equal(id(after, 'worker'), id(before, 'worker'));
    assert.notEqual(id(after, 'web'), id(before, 'web'));
    assert.ok(events.some((e) => e.name === 'shop-web-1' && e.status === 'Recreated'));
    const newWeb = await inspect(id(after, 'web'));
    assert.equal(newWeb.Mounts!.find((m) => m.Destination === '/anon')!.Name, anon);
    assert.equal(newWeb.State!.Status, 'running');
    assert.equal(newWeb.Config!.Labels!['com.docker.compose.replace'], oldWeb.Id);
  });

  it('depends_on failures in Compose words: unhealthy and not completed successfully', async () => {
    const p = shop();
    p.name = 'bad';
    p.networks = { default: { name: 'bad_default' } };
    p.volumes = {};
    p.configs = {};
    p.services = {
      db: svc('db', { command: ['sleep', '3600'], healthcheck: { test: ['CMD', 'false'], interval: '100ms', retries: 1 } }),
      app: svc('app', { command: ['sleep', '3600'], depends_on: { db: { condition: 'service_healthy', required: true } } }),
    };
    await composeEngine.create(ctx(), p, { services: [], recreate: 'diverged' });
    await assert.rejects(composeEngine.start(ctx(), p, { services: [] }), /^Error: dependency failed to start: container bad-db-1 is unhealthy$/);
    p.services = {
      migrate: svc('migrate', { command: ['sh', '-c', 'exit 1'] }),
      app: svc('app', { command: ['sleep', '3600'], depends_on: { migrate: { condition: 'service_completed_successfully', required: true } } }),
    };
    await composeEngine.create(ctx(), p, { services: [], recreate: 'diverged', removeOrphans: true });
    await assert.rejects(composeEngine.start(ctx(), p, { services: [] }), /service "migrate" didn't complete successfully: exit 1/);
    await composeEngine.down(ctx(), p, { volumes: true, removeOrphans: true });
    assert.deepEqual(await list('bad'), []);
  });

  it('down -v leaves nothing of the project', async () => {
    events.length = 0;
    await composeEngine.down(ctx(), shop(), { volumes: true });
    assert.deepEqual(await list(), []);
    assert.deepEqual((await client.containerList({ all: true })).length, 0);
    assert.ok(!(await client.networkList()).some((n) => n.Name?.startsWith('shop_') || n.Name?.startsWith('bad_')));
    assert.deepEqual((await client.volumeList()).Volumes ?? [], []);
    assert.ok(events.some((e) => e.kind === 'Network' && e.name === 'shop_default' && e.status === 'Removed'));
  });
});
