// berth compose's dispatch: help, unknown commands, usage errors, load errors as one line,
// config's forms, version, flag checks that come before any daemon call, and ls's grouping.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { Ctx } from '../../../../src/cli/command.ts';
import { composeMain } from '../../../../src/cli/compose/main.ts';
import { summarize } from '../../../../src/cli/compose/meta.ts';
import { attachedServices, parseScale } from '../../../../src/cli/compose/lifecycle.ts';
import { pluginMetadata, pluginDir } from '../../../../src/cli/compose/plugin.ts';

const dir = mkdtempSync(join(tmpdir(), 'berth-compose-unit-'));
after(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'compose.yaml'), 'name: shop\nservices:\n  web:\n    image: busybox\n    depends_on: [db]\n    volumes: [data:/data]\n  db:\n    image: busybox\n  tool:\n    image: busybox\n    profiles: [tools]\nvolumes:\n  data: {}\n');

async function run(argv: string[], env: Record<string, string> = {}) {
  let out = '';
  let err = '';
  const ctx: Ctx = {
    client: () => { throw new Error('no daemon in unit tests'); },
    out: { write: (s: string) => { out += s; return true; } } as never,
    err: { write: (s: string) => { err += s; return true; } } as never,
    stdin: new PassThrough(),
    invokedAs: 'berth compose',
    configDir: dir,
  };
  const code = await composeMain(ctx, argv, { prog: 'berth', env, cwd: dir, term: { stdoutTTY: false, stderrTTY: false } });
  return { code, out, err };
}

test('help lists the subcommands with their descriptions; a subcommand has its own help', async () => {
  const r = await run(['--help']);
  assert.equal(r.code, 0);
  assert.match(r.out, /^Usage:  berth compose \[OPTIONS\] COMMAND\n/);
  assert.match(r.out, /\n  up +Create and start containers\n/);
  assert.match(r.out, /\n  down +Stop and remove containers, networks\n/);
  assert.match(r.out, /-f, --file stringArray/);
  assert.doesNotMatch(r.out, /docker-cli-plugin-metadata/);
  const up = await run(['up', '--help']);
  assert.match(up.out, /^Usage:  berth compose up \[OPTIONS\] \[SERVICE\.\.\.\]\n\nCreate and start containers\n\nOptions:\n/);
  assert.match(up.out, /--abort-on-container-exit/);
  assert.equal((await run([])).out, r.out);
});

test('an unknown command is Compose\'s error; a bad flag is a usage error (125)', async () => {
  assert.deepEqual(await run(['xyz']), { code: 1, out: '', err: 'unknown berth command: "compose xyz"\n' });
  const bad = await run(['up', '--bogus']);
  assert.equal(bad.code, 125);
  assert.equal(bad.err, 'unknown flag: --bogus\n');
  assert.equal((await run(['--bogus', 'up'])).code, 125);
});

test('version, -v, --short and json', async () => {
  assert.match((await run(['version'])).out, /^Berth Compose version v\d+\.\d+\.\d+\n$/);
  assert.equal((await run(['-v'])).out, (await run(['version'])).out);
  assert.match((await run(['version', '--short'])).out, /^\d+\.\d+\.\d+\n$/);
  assert.match(JSON.parse((await run(['version', '--format', 'json'])).out).version, /^v/);
});

test('config: the lists and the document, through the loader and renderConfig', async () => {
  const services = await run(['config', '--services']);
  assert.equal(services.code, 0, services.err);
  assert.equal(services.out, 'db\nweb\n');
  assert.equal((await run(['config', '--volumes'])).out, 'data\n');
  assert.equal((await run(['config', '--profiles'])).out, 'tools\n');
  assert.equal((await run(['--profile', 'tools', 'config', '--services'])).out, 'db\ntool\nweb\n');
  assert.equal((await run(['config', '--services'], { COMPOSE_PROFILES: 'tools' })).out, 'db\ntool\nweb\n');
  assert.equal((await run(['config', '-q'])).out, '');
  const doc = await run(['config']);
  assert.match(doc.out, /^name: shop\nservices:\n/);
  assert.equal(JSON.parse((await run(['config', '--format', 'json'])).out).name, 'shop');
  assert.equal(JSON.parse((await run(['-p', 'other', 'config', '--format', 'json'])).out).name, 'other');
  assert.match((await run(['-p', 'Other', 'config'])).err, /^invalid project name "Other"/);
});

test('a load error is one line on stderr, status 1, no stack', async () => {
  const r = await run(['-f', 'missing.yaml', 'config']);
  assert.equal(r.code, 1);
  assert.equal(r.err.trim().split('\n').length, 1, r.err);
  assert.match(r.err, /missing\.yaml/);
  assert.doesNotMatch(r.err, /\n\s+at /);
});

test('flags that exclude each other fail before the engine is called', async () => {
  assert.deepEqual(await run(['up', '--build', '--no-build']), { code: 1, out: '', err: '--build and --no-build are incompatible\n' });
  assert.equal((await run(['up', '-d', '--abort-on-container-exit'])).err, '--detach cannot be combined with --abort-on-container-exit, --attach, --attach-dependencies or --watch\n');
  assert.equal((await run(['up', '--force-recreate', '--no-recreate'])).err, '--force-recreate and --no-recreate are incompatible\n');
  assert.equal((await run(['up', 'nosuch'])).err, 'no such service: nosuch\n');
  assert.equal((await run(['--dry-run', 'up'])).code, 1);
  assert.throws(() => parseScale(['web']), /invalid --scale value "web"/);
  assert.deepEqual(parseScale(['web=3', 'db=0']), { web: 3, db: 0 });
});

test('attached up shows --attach, else the named services (with deps on --attach-dependencies), less --no-attach and attach: false', () => {
  const p = { services: { web: { name: 'web', depends_on: { db: { condition: 'service_started' } } }, db: { name: 'db' }, quiet: { name: 'quiet', attach: false } } } as never;
  assert.deepEqual(attachedServices(p, [], [], [], false), ['web', 'db']);
  assert.deepEqual(attachedServices(p, ['web'], [], [], false), ['web']);
  assert.deepEqual(attachedServices(p, ['web'], [], [], true), ['web', 'db']);
  assert.deepEqual(attachedServices(p, [], [], ['db'], false), ['web']);
  assert.deepEqual(attachedServices(p, [], ['quiet'], [], false), ['quiet']);
});

test('ls groups containers by project with Compose\'s status text', () => {
  const c = (p: string, State: string, files = '/a/compose.yaml') => ({ State, Labels: { 'com.docker.compose.project': p, 'com.docker.compose.project.config_files': files } });
  assert.deepEqual(summarize([c('shop', 'running'), c('shop', 'exited'), c('shop', 'running'), c('app', 'running', '/b/x.yml,/b/y.yml'), { State: 'running', Labels: {} }]), [
    { Name: 'app', Status: 'running(1)', ConfigFiles: '/b/x.yml,/b/y.yml' },
    { Name: 'shop', Status: 'exited(1), running(2)', ConfigFiles: '/a/compose.yaml' },
  ]);
});

test('the plugin metadata is what the Docker CLI reads; the plugin dir defaults to $DOCKER_CONFIG/cli-plugins', () => {
  const m = JSON.parse(pluginMetadata());
  assert.equal(m.SchemaVersion, '0.1.0');
  assert.equal(m.Vendor, 'Berth');
  assert.equal(m.ShortDescription, 'Docker Compose');
  assert.equal(pluginDir(undefined, '/home/u/.docker'), '/home/u/.docker/cli-plugins');
  assert.equal(pluginDir('/x/p', '/home/u/.docker'), '/x/p');
});
