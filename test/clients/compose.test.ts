// docker-compose 1.29 (Debian's, docker-py 5 underneath) as its users drive it, against a private
// dockerd and a private berthd (client-pair.ts). Two projects under test/clients/compose/:
//   shop   (file format 2.4) build:, depends_on with condition: service_healthy, healthchecks,
//          two custom networks with an alias, service-name DNS, a named volume, scale up and
//          down, run, exec, logs, ps, top, stop/start, labels, down -v;
//   notes  (compose spec, no version) a named volume with labels shared read-only, run with the
//          one-off's exit code, pause/unpause, kill, rm, down -v.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DOCKER, repo, runCmd, type Result } from '../helpers/daemon.ts';
import { onBothDaemons, type PairContext } from './client-pair.ts';

const COMPOSE = '/usr/bin/docker-compose';
const PROJECTS = join(repo, 'test/clients/compose');

function env(c: PairContext): NodeJS.ProcessEnv {
  // the classic builder through docker-py (not `docker build`), exec and run through docker-py's
  // API calls rather than the docker CLI, and no colours or TTY in the output
  return { ...c.d().env, COMPOSE_DOCKER_CLI_BUILD: '0', DOCKER_BUILDKIT: '0', COMPOSE_INTERACTIVE_NO_CLI: '1', NO_COLOR: '1' };
}

function compose(c: PairContext, project: string, args: string[], timeoutMs = 60_000): Promise<Result> {
  return runCmd(COMPOSE, ['--ansi', 'never', '-p', project, '-f', join(PROJECTS, project, 'docker-compose.yml'), ...args], { env: env(c), timeoutMs });
}

function docker(c: PairContext, args: string[]): Promise<Result> {
  return runCmd(DOCKER, args, { env: c.d().env });
}

function must(r: Result, what: string): string {
  assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** `docker-compose ps` rows as "name state" (columns are padded to the widest cell; the command and ports vary). */
function psRows(out: string): string[] {
  return out.split('\n').slice(2).filter((l) => l.trim()).map((l) => {
    const name = l.split(/\s+/)[0];
    const state = /\s(Up(?: \((?:healthy|unhealthy|health: starting)\))?|Exit -?\d+|Paused|Restarting)(\s|$)/.exec(l)?.[1] ?? `? ${l}`;
    return `${name} ${state}`;
  }).sort();
}

onBothDaemons('docker-compose 1.29', (c) => {
  const skip = existsSync(COMPOSE) ? false : 'docker-compose is not installed (scripts/install.sh installs it)';

  it('shop: up -d builds web, waits for db to be healthy and scales worker to 2', { skip }, async () => {
    must(await compose(c, 'shop', ['up', '-d', '--scale', 'worker=2'], 120_000), 'up');
    const rows = psRows(must(await compose(c, 'shop', ['ps']), 'ps'));
    assert.deepEqual(rows, ['shop_db_1 Up (healthy)', 'shop_web_1 Up', 'shop_worker_1 Up', 'shop_worker_2 Up']);
    c.record('shop ps', rows);
    // service_healthy: db touches its ready file a second after it starts, and web must not
    // start before (the health log keeps only the last 5 checks, so it cannot tell when)
    const started = must(await docker(c, ['inspect', '-f', '{{.State.StartedAt}}', 'shop_db_1', 'shop_web_1']), 'inspect').trim().split('\n').map((t) => Date.parse(t));
    assert.ok(started[1] - started[0] >= 1000, `web started ${started[1] - started[0]} ms after db, before db was healthy`);
    const images = must(await docker(c, ['images', '--format', '{{.Repository}}:{{.Tag}}']), 'images').trim().split('\n').sort();
    assert.deepEqual(images, ['busybox:latest', 'shop_web:latest']);
    c.record('shop images', images);
  });

  it('shop: service names and aliases resolve on the custom networks', { skip }, async () => {
    const byAlias = await compose(c, 'shop', ['exec', '-T', 'web', 'wget', '-qO-', 'http://database:8080/item']);
    assert.equal(must(byAlias, 'wget database'), 'stored\n');
    const byService = await compose(c, 'shop', ['exec', '-T', 'web', 'wget', '-qO-', 'http://db:8080/item']);
    assert.equal(must(byService, 'wget db'), 'stored\n');
    const toWeb = await compose(c, 'shop', ['exec', '-T', '--index=2', 'worker', 'wget', '-qO-', 'http://web/']);
    assert.equal(must(toWeb, 'wget web'), 'welcome\n');
    // a name no service has is not answered (nslookup fails)
    const nowhere = await compose(c, 'shop', ['exec', '-T', 'worker', 'nslookup', 'no-such-service']);
    assert.notEqual(nowhere.code, 0);
    c.record('shop dns', [byAlias.stdout, byService.stdout, toWeb.stdout, nowhere.code]);
  });

  it('shop: containers, networks and volumes carry compose labels; db has its alias', { skip }, async () => {
    const labels = must(await docker(c, ['inspect', '-f',
      '{{index .Config.Labels "com.docker.compose.project"}} {{index .Config.Labels "com.docker.compose.service"}} '
      + '{{index .Config.Labels "com.docker.compose.container-number"}} {{index .Config.Labels "com.docker.compose.oneoff"}} {{index .Config.Labels "shop.role"}}',
      'shop_worker_2']), 'inspect labels').trim();
    assert.equal(labels, 'shop worker 2 False worker');
    const net = must(await docker(c, ['network', 'inspect', '-f', '{{.Driver}} {{index .Labels "com.docker.compose.project"}} {{index .Labels "com.docker.compose.network"}}', 'shop_back']), 'network').trim();
    assert.equal(net, 'bridge shop back');
    const vol = must(await docker(c, ['volume', 'inspect', '-f', '{{.Driver}} {{index .Labels "com.docker.compose.project"}} {{index .Labels "com.docker.compose.volume"}}', 'shop_data']), 'volume').trim();
    assert.equal(vol, 'local shop data');
    const aliases = JSON.parse(must(await docker(c, ['inspect', '-f', '{{json .NetworkSettings.Networks.shop_back.Aliases}}', 'shop_db_1']), 'aliases')) as string[];
    // dockerd 20.10 also lists the container's short ID (API < 1.44); the names are what compose set
    const names = aliases.filter((a) => !/^[0-9a-f]{12}$/.test(a)).sort();
    assert.deepEqual(names, ['database', 'db']);
    c.record('shop labels', [labels, net, vol, names]);
  });

  it('shop: logs, run --rm and exec give output and exit codes', { skip }, async () => {
    const logs = must(await compose(c, 'shop', ['logs', '--no-color', 'db']), 'logs');
    const lines = logs.split('\n').filter((l) => l.includes('|')).map((l) => l.replace(/\s+\|/, ' |'));
    assert.deepEqual(lines, ['db_1 | db started']);
    // compose 1.29's `run` through docker-py starts the one-off, then attaches, then starts it
    // again (events: start die attach attach attach start die, on dockerd too): a one-off that
    // ends at once races that second start on either daemon, so it waits a little first.
    const oneOff = await compose(c, 'shop', ['run', '--rm', '-T', 'worker', 'sh', '-c', 'sleep 0.5; echo one-off; exit 3']);
    assert.equal(oneOff.code, 3, oneOff.stderr);
    assert.equal(oneOff.stdout, 'one-off\n', oneOff.stderr);
    const ex = await compose(c, 'shop', ['exec', '-T', 'worker', 'sh', '-c', 'echo to-err >&2; exit 4']);
    assert.equal(ex.code, 4);
    // exec without the docker CLI (COMPOSE_INTERACTIVE_NO_CLI): docker-py writes both streams to stdout
    assert.equal(ex.stdout, 'to-err\n');
    const envOut = must(await compose(c, 'shop', ['exec', '-T', 'web', 'env']), 'exec env');
    assert.match(envOut, /^SHOP_MODE=test$/m);
    const left = must(await docker(c, ['ps', '-aq', '--filter', 'label=com.docker.compose.oneoff=True']), 'ps oneoff');
    assert.equal(left, '', 'run --rm removed its container');
    c.record('shop logs/run/exec', [lines, oneOff.code, oneOff.stdout, ex.code, ex.stdout]);
  });

  it('shop: top names the service process', { skip }, async () => {
    const top = must(await compose(c, 'shop', ['top', 'db']), 'top');
    assert.match(top, /^shop_db_1$/m);
    assert.match(top, /httpd -f -p 8080 -h \/data/);
  });

  it('shop: stop and start one service; scale worker back to 1', { skip }, async () => {
    must(await compose(c, 'shop', ['stop', '-t', '1', 'web']), 'stop');
    const stopped = psRows(must(await compose(c, 'shop', ['ps', 'web']), 'ps web'));
    must(await compose(c, 'shop', ['start', 'web']), 'start');
    const started = psRows(must(await compose(c, 'shop', ['ps', 'web']), 'ps web'));
    assert.deepEqual(started, ['shop_web_1 Up']);
    must(await compose(c, 'shop', ['up', '-d', '-t', '1', '--scale', 'worker=1']), 'scale down');
    const workers = must(await compose(c, 'shop', ['ps', '-q', 'worker']), 'ps -q').trim().split('\n');
    assert.equal(workers.length, 1);
    const names = must(await docker(c, ['ps', '--format', '{{.Names}}', '--filter', 'label=com.docker.compose.service=worker']), 'ps').trim();
    assert.equal(names, 'shop_worker_1');
    c.record('shop stop/start/scale', [stopped, started, names]);
  });

  it('shop: down -v removes containers, networks and the named volume', { skip }, async () => {
    must(await compose(c, 'shop', ['down', '-v', '-t', '1']), 'down');
    const ps = must(await docker(c, ['ps', '-aq', '--filter', 'label=com.docker.compose.project=shop']), 'ps');
    assert.equal(ps, '');
    const nets = must(await docker(c, ['network', 'ls', '--format', '{{.Name}}']), 'networks').trim().split('\n').sort();
    assert.deepEqual(nets, ['bridge', 'host', 'none']);
    const vols = must(await docker(c, ['volume', 'ls', '-q']), 'volumes');
    assert.equal(vols, '');
    c.record('shop down', [ps, nets, vols]);
  });

  it('notes: a labelled named volume shared read-only, run on the same volume', { skip }, async () => {
    must(await compose(c, 'notes', ['up', '-d']), 'up');
    const writerHost = must(await compose(c, 'notes', ['exec', '-T', 'writer', 'hostname']), 'hostname').trim();
    let note = '';
    for (let i = 0; i < 50 && !note; i++) {
      const r = await compose(c, 'notes', ['exec', '-T', 'reader', 'cat', '/notes/last']);
      if (r.code === 0) note = r.stdout;
      else await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(note, `note ${writerHost}\n`);
    const ro = await compose(c, 'notes', ['exec', '-T', 'reader', 'sh', '-c', 'echo x > /notes/y']);
    assert.notEqual(ro.code, 0);
    assert.match(ro.stdout, /Read-only file system/);
    const oneOff = await compose(c, 'notes', ['run', '--rm', '-T', 'reader', 'sh', '-c', 'sleep 0.5; cat /notes/last']);
    assert.equal(must(oneOff, 'run'), note);
    const vol = JSON.parse(must(await docker(c, ['volume', 'inspect', '-f', '{{json .Labels}}', 'notes_notes']), 'volume')) as Record<string, string>;
    assert.deepEqual(vol, { 'com.docker.compose.project': 'notes', 'com.docker.compose.version': vol['com.docker.compose.version'], 'com.docker.compose.volume': 'notes', 'notes.kind': 'shared' });
    c.record('notes volume', [ro.code, ro.stdout.replace(/[0-9a-f]{64}/g, 'ID'), Object.keys(vol).sort()]);
  });

  it('notes: pause/unpause, kill, rm and down -v', { skip }, async () => {
    must(await compose(c, 'notes', ['pause', 'writer']), 'pause');
    const paused = psRows(must(await compose(c, 'notes', ['ps', 'writer']), 'ps'));
    must(await compose(c, 'notes', ['unpause', 'writer']), 'unpause');
    const unpaused = psRows(must(await compose(c, 'notes', ['ps', 'writer']), 'ps'));
    must(await compose(c, 'notes', ['kill', '-s', 'SIGKILL', 'writer']), 'kill');
    const killed = psRows(must(await compose(c, 'notes', ['ps', 'writer']), 'ps'));
    assert.deepEqual([paused, unpaused, killed], [['notes_writer_1 Paused'], ['notes_writer_1 Up'], ['notes_writer_1 Exit 137']]);
    must(await compose(c, 'notes', ['rm', '-f', 'writer']), 'rm');
    const rest = psRows(must(await compose(c, 'notes', ['ps']), 'ps'));
    assert.deepEqual(rest, ['notes_reader_1 Up']);
    must(await compose(c, 'notes', ['down', '-v', '-t', '1']), 'down');
    const vols = must(await docker(c, ['volume', 'ls', '-q']), 'volumes');
    assert.equal(vols, '');
    c.record('notes lifecycle', [paused, unpaused, killed, rest, vols]);
  });
});
