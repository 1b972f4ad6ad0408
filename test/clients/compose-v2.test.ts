// berth compose end to end: the 6-service application (test/fixtures/compose/app6) run against a
// private berthd twice, once through `berth compose` and once through the Docker CLI's plugin
// (`docker compose`, after `berth compose install-plugin`), each under its own project name. Each
// run checks what Compose v2 users rely on, and records the facts it saw with the project name
// taken out; the last test compares the two records, so the plugin path (the Docker CLI's plugin
// protocol, its global flags and environment) gives exactly what berth compose gives.
//
// Per run: up -d --wait (the start order from StartedAt/FinishedAt: migrate only after db is
// healthy, app only after migrate exited 0, web after app; everything up when --wait returns),
// ps -a --format json, name resolution by service name and alias across the two networks (and
// not across them), the published port, the bind and the secret, a profile's service, scale up to
// 3 workers and back to 1, an override file that changes one service's environment (only that
// service's container is recreated), and down -v (nothing of the project left, asked through
// the API by the project label).
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon, DOCKER, makeBusybox, repo, runCmd, type Result } from '../helpers/daemon.ts';

const BERTH = join(repo, 'bin/berth');
const APP6 = join(repo, 'test/fixtures/compose/app6');
const FILE = join(APP6, 'compose.yaml');
const OVERRIDE = join(APP6, 'override-worker-env.yaml');
const SERVICES = ['app', 'cache', 'db', 'migrate', 'web', 'worker'];

interface Inspect {
  Id: string; Name: string;
  State: { Status: string; StartedAt: string; FinishedAt: string; ExitCode: number; Health?: { Status: string } };
  Config: { Env: string[]; Labels: Record<string, string> };
}

/** One way of running Compose: berth compose itself, or the Docker CLI with berth as its compose plugin. */
interface Driver { key: 'berth' | 'plugin'; project: string; run(args: string[], timeoutMs?: number): Promise<Result> }

function must(r: Result, what: string): string {
  assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** `ps --format json`: one object per line (Compose ≥ 2.21) or one array (before). */
function psJson(out: string): Record<string, unknown>[] {
  const text = out.trim();
  if (!text) return [];
  if (text.startsWith('[')) return JSON.parse(text) as Record<string, unknown>[];
  return text.split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('berth compose: app6 (6 services) through berth compose and the docker compose plugin', { timeout: 200_000 }, () => {
  const d = new TestDaemon();
  // The plugin's CLI config: install-plugin writes <dir>/cli-plugins/docker-compose
  const pluginConfig = mkdtempSync('/tmp/berth-compose-plugin-');
  const env = { ...d.env, NO_COLOR: '1', COMPOSE_ANSI: 'never', COMPOSE_PROGRESS: 'plain', COMPOSE_STATUS_STDOUT: '0' };
  const facts: Record<string, Record<string, unknown>> = { berth: {}, plugin: {} };

  const drivers: Driver[] = [
    { key: 'berth', project: 'app6b', run: (args, timeoutMs = 60_000) => runCmd(BERTH, ['compose', '-p', 'app6b', ...args], { env, timeoutMs }) },
    { key: 'plugin', project: 'app6p', run: (args, timeoutMs = 60_000) => runCmd(DOCKER, ['compose', '-p', 'app6p', ...args], { env: { ...env, DOCKER_CONFIG: pluginConfig }, timeoutMs }) },
  ];

  before(async () => {
    await d.start();
    await makeBusybox(d);
    // Built here, before any `up`, with the classic builder: the tests are about compose's
    // containers, not its builds (compose finds the images present and does not build).
    for (const s of ['web', 'app']) {
      must(await d.docker(['build', '-q', '-t', `app6-${s}:local`, join(APP6, s)], { env: { DOCKER_BUILDKIT: '0' }, timeoutMs: 60_000 }), `build ${s}`);
    }
    must(await runCmd(BERTH, ['compose', 'install-plugin', '--dir', join(pluginConfig, 'cli-plugins')], { env, timeoutMs: 30_000 }), 'install-plugin');
  }, { timeout: 120_000 });

  after(async () => {
    for (const drv of drivers) await drv.run(['-f', FILE, '--profile', 'debug', 'down', '-v', '-t', '0'], 30_000).catch(() => undefined);
    await d.cleanup();
    rmSync(pluginConfig, { recursive: true, force: true });
  }, { timeout: 90_000 });

  /** The project's containers by their name, through the API (the project label). */
  async function containers(project: string): Promise<Map<string, Inspect>> {
    const filters = encodeURIComponent(JSON.stringify({ label: [`com.docker.compose.project=${project}`] }));
    const list = (await d.api('GET', `/containers/json?all=1&filters=${filters}`)).json() as { Id: string }[];
    const out = new Map<string, Inspect>();
    for (const c of list) {
      const i = (await d.api('GET', `/containers/${c.Id}/json`)).json() as Inspect;
      out.set(i.Name.replace(/^\//, ''), i);
    }
    return out;
  }

  /** Runs `cmd` in a container of the project (docker exec: the facts checked are compose's, not exec's). */
  async function inside(name: string, cmd: string[]): Promise<Result> {
    return d.docker(['exec', name, ...cmd]);
  }

  for (const drv of drivers) {
    describe(drv.key === 'berth' ? 'berth compose' : 'docker compose (plugin)', () => {
      const p = drv.project;
      const rec = (key: string, value: unknown): void => { facts[drv.key]![key] = JSON.parse(JSON.stringify(value).replaceAll(p, 'PROJECT')); };
      const ids = new Map<string, string>();
      // the later steps build on the first: when up failed they are skipped, not failed again
      let upOk = false;
      const needsUp = (t: TestContext): boolean => { if (!upOk) t.skip('up -d --wait failed'); return !upOk; };

      it('up -d --wait starts the six services in dependency order and returns when they are up', async () => {
        must(await drv.run(['-f', FILE, 'up', '-d', '--wait'], 120_000), 'up -d --wait');
        const cs = await containers(p);
        assert.deepEqual([...cs.keys()].sort(), SERVICES.map((s) => `${p}-${s}-1`));
        const c = (s: string): Inspect => cs.get(`${p}-${s}-1`)!;
        for (const s of SERVICES) ids.set(s, c(s).Id);
        // --wait: every service running (db healthy), the one-shot exited 0, when up returned
        const states = Object.fromEntries(SERVICES.map((s) => [s, `${c(s).State.Status}${c(s).State.Health ? ` ${c(s).State.Health!.Status}` : ''} ${c(s).State.ExitCode}`]));
        assert.deepEqual(states, { app: 'running 0', cache: 'running 0', db: 'running healthy 0', migrate: 'exited 0', web: 'running 0', worker: 'running 0' });
        const t = (s: string, f: 'StartedAt' | 'FinishedAt'): number => Date.parse(c(s).State[f]);
        // db is healthy only once it has slept 1 s (DB_READY_DELAY), so whoever waits for it starts ≥ 1 s later
        const order = {
          'migrate started after db was healthy': t('migrate', 'StartedAt') - t('db', 'StartedAt') >= 1000,
          'app started after migrate finished': t('app', 'StartedAt') >= t('migrate', 'FinishedAt'),
          'app started after db was healthy': t('app', 'StartedAt') - t('db', 'StartedAt') >= 1000,
          'web started after app': t('web', 'StartedAt') >= t('app', 'StartedAt'),
          'worker started after app and cache': t('worker', 'StartedAt') >= t('app', 'StartedAt') && t('worker', 'StartedAt') >= t('cache', 'StartedAt'),
        };
        assert.deepEqual(Object.entries(order).filter(([, ok]) => !ok).map(([k]) => k), [],
          `times: ${JSON.stringify(Object.fromEntries(SERVICES.map((s) => [s, [c(s).State.StartedAt, c(s).State.FinishedAt]])))}`);
        rec('up states', states);
        rec('up order', order);
        upOk = true;
      });

      it('ps -a --format json lists each service with its state and health', async (t) => {
        if (needsUp(t)) return;
        const rows = psJson(must(await drv.run(['-f', FILE, 'ps', '-a', '--format', 'json']), 'ps'));
        const seen = rows.map((r) => `${String(r.Service)} ${String(r.Name)} ${String(r.State)} ${String(r.Health ?? '')}`.trimEnd()).sort();
        assert.deepEqual(seen, [
          `app ${p}-app-1 running`, `cache ${p}-cache-1 running`, `db ${p}-db-1 running healthy`,
          `migrate ${p}-migrate-1 exited`, `web ${p}-web-1 running`, `worker ${p}-worker-1 running`,
        ]);
        // without -a, the exited one-shot is not listed (Compose v2)
        const running = psJson(must(await drv.run(['-f', FILE, 'ps', '--format', 'json']), 'ps')).map((r) => String(r.Service)).sort();
        assert.deepEqual(running, ['app', 'cache', 'db', 'web', 'worker']);
        rec('ps', seen);
      });

      it('services resolve each other by name and alias on the networks they share, and only there', async (t) => {
        if (needsUp(t)) return;
        const web = `${p}-web-1`;
        const worker = `${p}-worker-1`;
        const got = {
          // web (front) → app by its front alias, and through web's cgi proxy
          'web→api': (await inside(web, ['wget', '-qO-', 'http://api:8080/'])).stdout,
          'web→app': (await inside(web, ['wget', '-qO-', 'http://app:8080/'])).stdout,
          'web proxy': (await inside(web, ['wget', '-qO-', 'http://localhost/cgi-bin/api'])).stdout,
          // worker (back) → db by its alias and by name; migrate's schema is in db's volume
          'worker→database': (await inside(worker, ['wget', '-qO-', 'http://database:5432/schema'])).stdout,
          'worker→db': (await inside(worker, ['wget', '-qO-', 'http://db:5432/schema'])).stdout,
          // web is only on front, db only on back: neither resolves the other
          'worker→web resolves': (await inside(worker, ['nslookup', 'web'])).code === 0,
          'web→db resolves': (await inside(web, ['nslookup', 'db'])).code === 0,
          'web→database resolves': (await inside(web, ['nslookup', 'database'])).code === 0,
        };
        assert.deepEqual(got, {
          'web→api': 'app production schema-v1\n', 'web→app': 'app production schema-v1\n', 'web proxy': 'app production schema-v1\n',
          'worker→database': 'schema-v1\n', 'worker→db': 'schema-v1\n',
          'worker→web resolves': false, 'web→db resolves': false, 'web→database resolves': false,
        });
        rec('dns', got);
      });

      it('the published port, the bind (through compose exec) and the secret', async (t) => {
        if (needsUp(t)) return;
        const port = must(await drv.run(['-f', FILE, 'port', 'web', '80']), 'port').trim();
        assert.match(port, /^127\.0\.0\.1:\d+$/);
        const res = await fetch(`http://${port}/`, { signal: AbortSignal.timeout(5_000) });
        assert.equal(await res.text(), 'web-ok\n');
        const bind = must(await drv.run(['-f', FILE, 'exec', '-T', 'web', 'cat', '/www/static/index.html']), 'exec cat');
        assert.equal(bind, 'static-ok\n');
        const ro = await drv.run(['-f', FILE, 'exec', '-T', 'web', 'touch', '/www/static/x']);
        assert.notEqual(ro.code, 0, 'the bind is read-only');
        const secret = (await inside(`${p}-app-1`, ['cat', '/run/secrets/db_password'])).stdout;
        assert.equal(secret, 's3cret\n');
        rec('port/bind/secret', [bind, ro.code !== 0, secret]);
      });

      it('a profile service starts only with its profile, and joins both networks', async (t) => {
        if (needsUp(t)) return;
        const plain = must(await drv.run(['-f', FILE, 'config', '--services']), 'config --services').trim().split('\n').sort();
        const withDebug = must(await drv.run(['-f', FILE, '--profile', 'debug', 'config', '--services']), 'config --services').trim().split('\n').sort();
        assert.deepEqual(plain, SERVICES);
        assert.deepEqual(withDebug, [...SERVICES, 'debug'].sort());
        must(await drv.run(['-f', FILE, '--profile', 'debug', 'up', '-d', '--wait', 'debug'], 60_000), 'up debug');
        const dbg = `${p}-debug-1`;
        const reach = [
          (await inside(dbg, ['wget', '-qO-', 'http://api:8080/'])).stdout,
          (await inside(dbg, ['wget', '-qO-', 'http://database:5432/schema'])).stdout,
        ];
        assert.deepEqual(reach, ['app production schema-v1\n', 'schema-v1\n']);
        // the other services were left as they were
        const cs = await containers(p);
        for (const s of SERVICES) assert.equal(cs.get(`${p}-${s}-1`)?.Id, ids.get(s), `${s} was recreated by up debug`);
        must(await drv.run(['-f', FILE, '--profile', 'debug', 'rm', '-s', '-f', 'debug'], 30_000), 'rm -s -f debug');
        assert.equal((await containers(p)).has(dbg), false);
        rec('profile', [plain, withDebug, reach]);
      });

      it('up -d --scale worker=3 adds worker-2 and -3; --scale worker=1 takes them away again', async (t) => {
        if (needsUp(t)) return;
        must(await drv.run(['-f', FILE, 'up', '-d', '--wait', '--scale', 'worker=3'], 60_000), 'scale up');
        const three = [...(await containers(p)).entries()].filter(([n]) => n.startsWith(`${p}-worker-`));
        assert.deepEqual(three.map(([n, c]) => `${n} ${c.State.Status}`).sort(), [1, 2, 3].map((i) => `${p}-worker-${i} running`));
        // scaling one service leaves the others (and worker-1) alone
        const after3 = await containers(p);
        for (const s of SERVICES) assert.equal(after3.get(`${p}-${s}-1`)?.Id, ids.get(s), `${s}-1 was recreated by --scale`);
        must(await drv.run(['-f', FILE, 'up', '-d', '--wait', '--scale', 'worker=1'], 60_000), 'scale down');
        const one = [...(await containers(p)).keys()].filter((n) => n.startsWith(`${p}-worker-`));
        assert.deepEqual(one, [`${p}-worker-1`]);
        rec('scale', [three.map(([n]) => n).sort(), one]);
      });

      it('an override that changes worker\'s environment recreates worker only', async (t) => {
        if (needsUp(t)) return;
        must(await drv.run(['-f', FILE, '-f', OVERRIDE, 'up', '-d', '--wait'], 60_000), 'up with override');
        const cs = await containers(p);
        const changed = SERVICES.filter((s) => cs.get(`${p}-${s}-1`)?.Id !== ids.get(s));
        assert.deepEqual(changed, ['worker']);
        const w = cs.get(`${p}-worker-1`)!;
        assert.ok(w.Config.Env.includes('WORKER_MODE=changed'), `worker env: ${w.Config.Env.join(' ')}`);
        assert.equal(w.State.Status, 'running');
        // the same files again: nothing changes
        must(await drv.run(['-f', FILE, '-f', OVERRIDE, 'up', '-d', '--wait'], 60_000), 'up again');
        const again = await containers(p);
        assert.deepEqual(SERVICES.filter((s) => again.get(`${p}-${s}-1`)?.Id !== cs.get(`${p}-${s}-1`)?.Id), []);
        rec('recreate', changed);
      });

      it('down -v leaves no container, network or volume of the project', async (t) => {
        if (needsUp(t)) return;
        must(await drv.run(['-f', FILE, '-f', OVERRIDE, 'down', '-v'], 60_000), 'down -v');
        const label = encodeURIComponent(JSON.stringify({ label: [`com.docker.compose.project=${p}`] }));
        const left = {
          containers: ((await d.api('GET', `/containers/json?all=1&filters=${label}`)).json() as { Names: string[] }[]).map((c) => c.Names[0]),
          networks: ((await d.api('GET', `/networks?filters=${label}`)).json() as { Name: string }[]).map((n) => n.Name),
          volumes: (((await d.api('GET', `/volumes?filters=${label}`)).json() as { Volumes: { Name: string }[] | null }).Volumes ?? []).map((v) => v.Name),
        };
        assert.deepEqual(left, { containers: [], networks: [], volumes: [] });
        rec('down', left);
      });
    });
  }

  // projects/hello: no -p and no -f, from its directory: the name is the directory's, .env is read there
  const HELLO = join(repo, 'test/fixtures/compose/projects/hello');
  for (const drv of drivers) {
    it(`${drv.key === 'berth' ? 'berth compose' : 'docker compose'}: hello takes its name from its directory and its variables from .env`, async () => {
      const inDir = (args: string[]): Promise<Result> => drv.key === 'berth'
        ? runCmd(BERTH, ['compose', '--project-directory', HELLO, ...args], { env, timeoutMs: 60_000 })
        : runCmd(DOCKER, ['compose', '--project-directory', HELLO, ...args], { env: { ...env, DOCKER_CONFIG: pluginConfig }, timeoutMs: 60_000 });
      try {
        must(await inDir(['up', '-d', '--wait']), 'up');
        const cs = await containers('hello');
        assert.deepEqual([...cs.keys()], ['hello-hello-1']);
        const c = cs.get('hello-hello-1')!;
        assert.ok(c.Config.Env.includes('GREETING=world'), c.Config.Env.join(' '));
        assert.equal(c.Config.Labels['hello.tier'], 'demo');
        let logs = '';
        for (let i = 0; i < 40 && !logs.includes('hello world'); i++) {
          logs = must(await inDir(['logs', '--no-log-prefix', 'hello']), 'logs');
          if (!logs.includes('hello world')) await new Promise((r) => setTimeout(r, 100));
        }
        assert.equal(logs, 'hello world\n');
        const ls = JSON.parse(must(await inDir(['ls', '--format', 'json']), 'ls')) as { Name: string; Status: string }[];
        assert.deepEqual(ls.filter((l) => l.Name === 'hello').map((l) => l.Status), ['running(1)']);
        facts[drv.key]!.hello = [c.Config.Labels['hello.tier'], logs, ls.filter((l) => l.Name === 'hello')];
      } finally {
        must(await inDir(['down']), 'down');
      }
      assert.equal((await containers('hello')).size, 0);
    });
  }

  it('berth compose and docker compose (the plugin) saw the same', () => {
    assert.ok(Object.keys(facts.berth!).length > 0, 'the berth compose run recorded its facts');
    assert.deepEqual(facts.plugin, facts.berth);
  });
});
