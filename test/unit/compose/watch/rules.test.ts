// develop.watch rules: which changed host paths each rule takes (ignore, include, the build
// context's .dockerignore, editors' temp files, .git), where they go in the container, what a
// batch asks for, and the errors Compose gives for rules it cannot follow. A temp dir, no daemon.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ComposeError, type Project, type Service } from '../../../../src/compose/model/types.ts';
import { compileWatch, matchRule, planBatch } from '../../../../src/compose/watch/rules.ts';
import { selectWithDependencies, goQuoteList } from '../../../../src/compose/watch/watcher.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-watch-rules-'));
  await mkdir(join(dir, 'app/src/sub'), { recursive: true });
  await mkdir(join(dir, 'app/node_modules'), { recursive: true });
  await writeFile(join(dir, 'app/Dockerfile'), 'FROM busybox\n');
  await writeFile(join(dir, 'app/.dockerignore'), '# comment\n**/*.log\nsrc/secret\n!src/secret/keep\n');
  await writeFile(join(dir, 'app/package.json'), '{}');
  await writeFile(join(dir, 'lone.txt'), 'x');
});
after(async () => { await rm(dir, { recursive: true, force: true }); });

function project(services: Record<string, Partial<Service>>): Project {
  return {
    name: 'proj', workingDir: dir, configFiles: [join(dir, 'compose.yaml')],
    services: Object.fromEntries(Object.entries(services).map(([n, s]) => [n, { name: n, ...s }])),
    disabledServices: {}, networks: {}, volumes: {}, secrets: {}, configs: {}, extensions: {}, environment: {}, profiles: [],
  };
}

function webProject(): Project {
  const app = join(dir, 'app');
  return project({
    web: {
      build: { context: app },
      develop: {
        watch: [
          { action: 'sync', path: join(app, 'src'), target: '/srv/src', ignore: ['sub/skip*'] },
          { action: 'rebuild', path: join(app, 'package.json') },
          { action: 'sync+restart', path: app, target: '/srv', include: ['*.conf'] },
        ],
      },
    },
    db: { image: 'busybox' },
  });
}

test('a sync rule maps paths under its path to the target, and leaves ignored ones', async () => {
  const app = join(dir, 'app');
  const { rules, paths } = await compileWatch(webProject(), ['web', 'db']);
  assert.deepEqual(paths, [join(app, 'src'), join(app, 'package.json'), app]);
  const sync = rules[0]!;
  assert.deepEqual(matchRule(sync, join(app, 'src/a.js')), { hostPath: join(app, 'src/a.js'), containerPath: '/srv/src/a.js' });
  assert.deepEqual(matchRule(sync, join(app, 'src/sub/deep/b.js'))?.containerPath, '/srv/src/sub/deep/b.js');
  assert.equal(matchRule(sync, join(app, 'src')) !== null, true, 'the rule path itself maps to the target');
  assert.equal(matchRule(sync, join(app, 'package.json')), null, 'outside the rule path');
  assert.equal(matchRule(sync, join(app, 'src-other/x')), null, 'a sibling with the same prefix is not under the path');
  // the rule's ignore is anchored at its path
  assert.equal(matchRule(sync, join(app, 'src/sub/skip-me.js')), null);
  // the context's .dockerignore is anchored at the context, the last match wins
  assert.equal(matchRule(sync, join(app, 'src/debug.log')), null);
  assert.equal(matchRule(sync, join(app, 'src/secret/x')), null);
  assert.notEqual(matchRule(sync, join(app, 'src/secret/keep')), null);
  // editors' temp files and .git, at any depth
  for (const p of ['src/.a.js.swp', 'src/a.js~', 'src/4913', 'src/.#a.js', 'src/#a.js#', 'src/.git/index', 'src/x___jb_tmp___']) {
    assert.equal(matchRule(sync, join(app, p)), null, p);
  }
});

test('include keeps only what it names; a rule without target maps without a container path', async () => {
  const app = join(dir, 'app');
  const { rules } = await compileWatch(webProject(), ['web']);
  const restart = rules[2]!;
  assert.equal(matchRule(restart, join(app, 'nginx.conf'))?.containerPath, '/srv/nginx.conf');
  assert.equal(matchRule(restart, join(app, 'conf.d/x.conf')), null, 'include is anchored: *.conf does not reach into subdirectories');
  assert.equal(matchRule(restart, join(app, 'main.js')), null);
  const rebuild = rules[1]!;
  assert.deepEqual(matchRule(rebuild, join(app, 'package.json')), { hostPath: join(app, 'package.json') });
});

test('a batch: rebuild, sync, restart and exec, each service once', async () => {
  const app = join(dir, 'app');
  const p = webProject();
  p.services.web!.develop!.watch.push({ action: 'sync+exec', path: join(app, 'src'), target: '/srv/src', exec: { command: ['kill', '-HUP', '1'] } });
  const { rules } = await compileWatch(p, ['web']);
  const plan = planBatch(rules, [join(app, 'src/a.js'), join(app, 'src/b.js'), join(app, 'package.json'), join(app, 'x.conf'), join(app, 'src/a.js~')]);
  assert.deepEqual(plan.rebuild, ['web']);
  assert.deepEqual(plan.restart, ['web']);
  assert.deepEqual(plan.sync.get('web')!.map((m) => m.containerPath), ['/srv/src/a.js', '/srv/src/a.js', '/srv/src/b.js', '/srv/src/b.js', '/srv/x.conf']);
  assert.equal(plan.exec.get('web')!.length, 1);
  assert.deepEqual(planBatch(rules, [join(dir, 'lone.txt')]), { rebuild: [], sync: new Map(), restart: [], exec: new Map() });
});

test("Compose's errors for rules it cannot follow", async () => {
  const rejects = (p: Project, re: RegExp) => assert.rejects(compileWatch(p, Object.keys(p.services)), (e: unknown) => e instanceof ComposeError && re.test((e as Error).message));
  await rejects(project({ web: { build: { context: dir } }, db: { image: 'x' } }), /^none of the selected services is configured for watch, consider setting a 'develop' section$/);
  await rejects(project({ web: { image: 'x', develop: { watch: [{ action: 'rebuild', path: dir }] } } }), /^can't watch service "web" with action rebuild without a build context$/);
  await rejects(project({ web: { image: 'x', develop: { watch: [{ action: 'sync+exec', path: dir, target: '/x' }] } } }), /^can't watch with action "sync\+exec" on service web without a command$/);
  await rejects(project({ web: { image: 'x', develop: { watch: [{ action: 'sync', path: join(dir, 'nope'), target: '/x' }] } } }), /develop\.watch path .*nope does not exist/);
  await rejects(project({ web: { image: 'x', develop: { watch: [{ action: 'explode', path: dir }] } } }), /invalid watch action "explode"/);
});

test('a sync rule on a bind-mounted path is skipped with a warning', async () => {
  const p = project({ web: { image: 'x', volumes: [{ type: 'bind', source: dir, target: '/d' }], develop: { watch: [
    { action: 'sync', path: join(dir, 'app'), target: '/d/app' },
    { action: 'restart', path: join(dir, 'lone.txt') },
  ] } } });
  const c = await compileWatch(p, ['web']);
  assert.deepEqual(c.paths, [join(dir, 'lone.txt')]);
  assert.deepEqual(c.warnings, [`path '${join(dir, 'app')}' also declared by a bind mount volume, this path won't be monitored!`]);
});

test('services named on the command line bring their dependencies; unknown ones are an error', () => {
  const p = project({ web: { depends_on: { db: { condition: 'service_started', required: true } } }, db: {}, other: {} });
  assert.deepEqual(selectWithDependencies(p, ['web']), ['web', 'db']);
  assert.deepEqual(selectWithDependencies(p, []), ['web', 'db', 'other']);
  assert.throws(() => selectWithDependencies(p, ['nope']), /^Error: no such service: nope$/);
  assert.equal(goQuoteList(['web', 'api']), '["web" "api"]');
});
