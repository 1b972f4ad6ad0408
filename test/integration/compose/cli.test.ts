// berth compose's lifecycle commands against a private berthd, through bin/berth and through the
// Docker CLI with berth installed as its compose plugin: a two-service project (db, and web that
// depends on it, with a named volume) brought up detached, its containers checked through the
// API, stopped, started, restarted, listed by `ls`, and taken down with -v (no container, network
// or volume left). The plugin part runs `docker compose` with DOCKER_CONFIG at a temporary dir the
// plugin was installed into, DOCKER_HOST and `-H` naming the private daemon.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile, readlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestDaemon, makeBusybox, runCmd, until, DOCKER } from '../../helpers/daemon.ts';
import { berthCli, BERTH } from '../../helpers/berth-cli.ts';

const P = 'h4cli';

const COMPOSE = `services:
  db:
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
    volumes: [data:/data]
  web:
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
    depends_on: [db]
volumes:
  data: {}
`;

describe('berth compose lifecycle and the docker compose plugin', () => {
  const d = new TestDaemon();
  const { berth } = berthCli(d, { timeoutMs: 30_000 });
  let dir = '';
  const compose = (args: string[], project = P) => berth(['compose', '-p', project, ...args], { cwd: dir });

  /** The project's containers through the API: name → state. */
  const states = async (project = P): Promise<Record<string, string>> => {
    const r = await d.api('GET', `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ label: [`com.docker.compose.project=${project}`] }))}`);
    return Object.fromEntries((r.json() as { Names: string[]; State: string }[]).map((c) => [c.Names[0]!.slice(1), c.State]));
  };
  const byLabel = async (kind: 'networks' | 'volumes', project = P): Promise<string[]> => {
    const r = await d.api('GET', `/${kind}?filters=${encodeURIComponent(JSON.stringify({ label: [`com.docker.compose.project=${project}`] }))}`);
    const j = r.json();
    return (kind === 'volumes' ? j.Volumes ?? [] : j).map((x: { Name: string }) => x.Name).sort();
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'h4-compose-'));
    await writeFile(join(dir, 'compose.yaml'), COMPOSE);
    await d.start();
    await makeBusybox(d);
  });
  after(async () => {
    // whatever a failed test left: the project's containers, network and volume go with the daemon's roots
    await d.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('up -d creates the network, volume and both containers, progress in Compose\'s plain form', async () => {
    const r = await compose(['up', '-d']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await states(), { [`${P}-db-1`]: 'running', [`${P}-web-1`]: 'running' });
    assert.deepEqual(await byLabel('networks'), [`${P}_default`]);
    assert.deepEqual(await byLabel('volumes'), [`${P}_data`]);
    assert.match(r.stderr, new RegExp(`^ Container ${P}-db-1  Started$`, 'm'));
    assert.match(r.stderr, new RegExp(`^ Network ${P}_default  Created$`, 'm'));
    // a second up changes nothing
    const again = await compose(['up', '-d']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, new RegExp(`^ Container ${P}-web-1  Running$`, 'm'));
  });

  it('ls lists the project with its status and file', async () => {
    const r = await berth(['compose', 'ls']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^NAME\s+STATUS\s+CONFIG FILES\n/);
    assert.match(r.stdout, new RegExp(`^${P}\\s+running\\(2\\)\\s+${dir}/compose.yaml$`, 'm'));
    assert.deepEqual(JSON.parse((await berth(['compose', 'ls', '--format', 'json'])).stdout).filter((p: { Name: string }) => p.Name === P).map((p: { Status: string }) => p.Status), ['running(2)']);
  });

  it('stop, start, restart one service', async () => {
    let r = await compose(['stop', '-t', '2']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await states(), { [`${P}-db-1`]: 'exited', [`${P}-web-1`]: 'exited' });
    assert.equal((await berth(['compose', 'ls', '-q'])).stdout.split('\n').includes(P), false);
    assert.match((await berth(['compose', 'ls', '-a'])).stdout, new RegExp(`^${P}\\s+exited\\(2\\)`, 'm'));
    r = await compose(['start']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await states(), { [`${P}-db-1`]: 'running', [`${P}-web-1`]: 'running' });
    const before = (await d.docker(['inspect', '-f', '{{.State.StartedAt}}', `${P}-web-1`])).stdout;
    r = await compose(['restart', '-t', '2', 'web']);
    assert.equal(r.code, 0, r.stderr);
    assert.notEqual((await d.docker(['inspect', '-f', '{{.State.StartedAt}}', `${P}-web-1`])).stdout, before);
    assert.equal((await states())[`${P}-web-1`], 'running');
  });

  it('down -v with only -p and no file removes containers, network and volume', async () => {
    const r = await berth(['compose', '-p', P, 'down', '-v', '-t', '2'], { cwd: tmpdir() });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await states(), {});
    assert.deepEqual(await byLabel('networks'), []);
    assert.deepEqual(await byLabel('volumes'), []);
  });

  it('docker compose through the installed plugin talks to the daemon DOCKER_HOST or -H names', async () => {
    const cfg = join(dir, 'docker-config');
    const inst = await berth(['compose', 'install-plugin', '--dir', join(cfg, 'cli-plugins')]);
    assert.equal(inst.code, 0, inst.stderr);
    assert.match(await readlink(join(cfg, 'cli-plugins/docker-compose')), /bin\/docker-compose$/);
    const env = { ...d.env, DOCKER_CONFIG: cfg };
    const dc = (args: string[], e: NodeJS.ProcessEnv = env) => runCmd('sh', ['-c', 'cd "$0" && shift && exec "$@"', dir, 'x', DOCKER, ...args], { env: e, timeoutMs: 30_000 });
    const v = await dc(['compose', 'version']);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /^Berth Compose version v/);
    const up = await dc(['compose', '-p', `${P}p`, 'up', '-d']);
    assert.equal(up.code, 0, up.stderr);
    assert.deepEqual(await states(`${P}p`), { [`${P}p-db-1`]: 'running', [`${P}p-web-1`]: 'running' });
    // -H before the plugin's name reaches the plugin (DOCKER_HOST pointing elsewhere)
    const viaH = await dc(['-H', `unix://${d.socket}`, 'compose', '-p', `${P}p`, 'down', '-v', '-t', '2'], { ...env, DOCKER_HOST: 'unix:///nonexistent.sock' });
    assert.equal(viaH.code, 0, viaH.stderr);
    assert.deepEqual(await states(`${P}p`), {});
    assert.deepEqual(await byLabel('volumes', `${P}p`), []);
  });

  it('attached up: --exit-code-from ends with that service\'s status and stops the others', async () => {
    const sub = join(dir, 'attached');
    await mkdir(sub, { recursive: true });
    await writeFile(join(sub, 'compose.yaml'), `services:
  once:
    image: busybox
    command: ["sh", "-c", "sleep 1; echo once says hi; exit 3"]
  web:
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
`);
    const r = await berth(['compose', '-p', `${P}a`, 'up', '--exit-code-from', 'once', '-t', '2'], { cwd: sub });
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stdout, /once says hi/);
    assert.deepEqual(await states(`${P}a`), { [`${P}a-once-1`]: 'exited', [`${P}a-web-1`]: 'exited' });
    assert.equal((await berth(['compose', '-p', `${P}a`, 'down', '-t', '1'], { cwd: sub })).code, 0);
  });

  it('attached up: Ctrl-C stops the project gracefully, status 130', async () => {
    const sub = join(dir, 'sigint');
    await mkdir(sub, { recursive: true });
    await writeFile(join(sub, 'compose.yaml'), `services:
  web:
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
`);
    const child = spawn(BERTH, ['-H', `unix://${d.socket}`, 'compose', '-p', `${P}s`, 'up', '-t', '2'], { cwd: sub, env: d.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    child.stdout.resume();
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      await until(async () => (await states(`${P}s`))[`${P}s-web-1`] === 'running', 20_000, 'web running');
      child.kill('SIGINT');
      const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 20_000))]);
      assert.equal(code, 130, err);
      assert.match(err, /Gracefully stopping\.\.\. \(press Ctrl\+C again to force\)/);
      assert.equal((await states(`${P}s`))[`${P}s-web-1`], 'exited');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await berth(['compose', '-p', `${P}s`, 'down', '-t', '1'], { cwd: sub });
    }
  });
  it('attached up: a second Ctrl-C kills what the first one is still stopping', async () => {
    const sub = join(dir, 'sigint2');
    await mkdir(sub, { recursive: true });
    // TERM ignored, a 30 s grace period: only the kill ends it soon
    await writeFile(join(sub, 'compose.yaml'), `services:
  stubborn:
    image: busybox
    command: ["sh", "-c", "trap '' TERM; while true; do sleep 1; done"]
    stop_grace_period: 30s
`);
    const child = spawn(BERTH, ['-H', `unix://${d.socket}`, 'compose', '-p', `${P}k`, 'up'], { cwd: sub, env: d.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    child.stdout.resume();
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      await until(async () => (await states(`${P}k`))[`${P}k-stubborn-1`] === 'running', 20_000, 'stubborn running');
      child.kill('SIGINT');
      await until(async () => err.includes('Gracefully stopping'), 10_000, 'the graceful stop');
      const t0 = Date.now();
      child.kill('SIGINT');
      const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000))]);
      assert.notEqual(code, 'timeout', `the second Ctrl-C did not end up: ${err}`);
      assert.ok(Date.now() - t0 < 15_000);
      await until(async () => (await states(`${P}k`))[`${P}k-stubborn-1`] === 'exited', 10_000, 'stubborn killed');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await berth(['compose', '-p', `${P}k`, 'down', '-t', '1'], { cwd: sub });
    }
  });

  it('a failed up leaves what up again and down handle: nothing of the project is left after down -v', async () => {
    const sub = join(dir, 'failing');
    await mkdir(sub, { recursive: true });
    await writeFile(join(sub, 'compose.yaml'), `services:
  migrate:
    image: busybox
    command: ["sh", "-c", "exit \${MIGRATE_EXIT:-1}"]
  app:
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
    depends_on:
      migrate:
        condition: service_completed_successfully
    volumes: [appdata:/data]
    networks: [back]
networks:
  back: {}
volumes:
  appdata: {}
`);
    const failed = await berth(['compose', '-p', `${P}f`, 'up', '-d'], { cwd: sub });
    assert.equal(failed.code, 1, failed.stdout);
    assert.match(failed.stderr, /service "migrate" didn't complete successfully: exit 1/);
    assert.doesNotMatch(failed.stderr, /\n\s+at /, 'no stack trace');
    // what the failed up made is the project's: up again picks it up, with the fix
    const again = await berth(['compose', '-p', `${P}f`, 'up', '-d'], { cwd: sub, env: { MIGRATE_EXIT: '0' } });
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(await states(`${P}f`), { [`${P}f-app-1`]: 'running', [`${P}f-migrate-1`]: 'exited' });
    assert.equal((await berth(['compose', '-p', `${P}f`, 'down', '-v', '-t', '1'], { cwd: sub })).code, 0);
    assert.deepEqual(await states(`${P}f`), {});
    assert.deepEqual(await byLabel('networks', `${P}f`), []);
    assert.deepEqual(await byLabel('volumes', `${P}f`), []);
  });
});
