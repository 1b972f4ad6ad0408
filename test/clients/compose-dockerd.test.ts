// berth compose drives any Docker-API daemon: the 6-service app6 (test/fixtures/compose/app6) by
// `berth compose` against a private dockerd (Debian's 20.10, API 1.41: a service on two networks
// is created on one and connected to the other afterwards) and against a private berthd (API 1.47:
// both in the one create), at the same time. Each half builds the two images with `compose build`
// (the classic /build), brings the project up with --wait, checks the start order, the states,
// name resolution between services and down -v; the transcripts must be the same.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { repo, runCmd, type Result } from '../helpers/daemon.ts';
import { onBothDaemons, type PairContext } from './client-pair.ts';

const BERTH = join(repo, 'bin/berth');
const APP6 = join(repo, 'test/fixtures/compose/app6');
const FILE = join(APP6, 'compose.yaml');
const P = 'app6d';
const SERVICES = ['app', 'cache', 'db', 'migrate', 'web', 'worker'];

function must(r: Result, what: string): string {
  assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

onBothDaemons('berth compose against dockerd and berthd', (c: PairContext) => {
  const env = (): NodeJS.ProcessEnv => ({ ...c.d().env, NO_COLOR: '1', COMPOSE_PROGRESS: 'plain' });
  const compose = (args: string[], timeoutMs = 90_000): Promise<Result> => runCmd(BERTH, ['compose', '-p', P, '-f', FILE, ...args], { env: env(), timeoutMs });
  const docker = (args: string[]): Promise<Result> => runCmd('/usr/local/bin/docker', args, { env: env() });
  let upOk = false;

  it('compose build builds web and app with the classic builder', async () => {
    must(await compose(['build', 'web', 'app'], 120_000), 'build');
    const images = must(await docker(['images', '--format', '{{.Repository}}:{{.Tag}}']), 'images').trim().split('\n').filter((i) => i.startsWith('app6-')).sort();
    assert.deepEqual(images, ['app6-app:local', 'app6-web:local']);
    c.record('built', images);
  });

  it('up -d --wait: every service up, in dependency order', async () => {
    must(await compose(['up', '-d', '--wait']), 'up -d --wait');
    upOk = true;
    const ids = must(await docker(['ps', '-aq', '--filter', `label=com.docker.compose.project=${P}`]), 'ps').trim().split('\n');
    const all = JSON.parse(must(await docker(['inspect', ...ids]), 'inspect')) as { Name: string; State: { Status: string; StartedAt: string; FinishedAt: string; ExitCode: number; Health?: { Status: string } }; NetworkSettings: { Networks: Record<string, unknown> } }[];
    const by = new Map(all.map((x) => [x.Name.replace(`/${P}-`, '').replace(/-1$/, ''), x]));
    assert.deepEqual([...by.keys()].sort(), SERVICES);
    const t = (s: string, f: 'StartedAt' | 'FinishedAt'): number => Date.parse(by.get(s)!.State[f]);
    const facts = {
      states: Object.fromEntries(SERVICES.map((s) => { const st = by.get(s)!.State; return [s, `${st.Status}${st.Health ? ` ${st.Health.Status}` : ''} ${st.ExitCode}`]; })),
      networks: Object.fromEntries(SERVICES.map((s) => [s, Object.keys(by.get(s)!.NetworkSettings.Networks).sort()])),
      order: {
        'app started after migrate finished': t('app', 'StartedAt') >= t('migrate', 'FinishedAt'),
        'app started after db was healthy (db sleeps 1 s)': t('app', 'StartedAt') - t('db', 'StartedAt') >= 1000,
        'web started after app': t('web', 'StartedAt') >= t('app', 'StartedAt'),
      },
    };
    assert.deepEqual(facts.states, { app: 'running 0', cache: 'running 0', db: 'running healthy 0', migrate: 'exited 0', web: 'running 0', worker: 'running 0' });
    assert.ok(Object.values(facts.order).every(Boolean), JSON.stringify(facts.order));
    c.record('up', facts);
  });

  it('services find each other by name and alias on the networks they share', async (t) => {
    if (!upOk) { t.skip('up failed'); return; }
    const lookups: Record<string, boolean> = {};
    for (const [from, to] of [['web', 'api'], ['web', 'app'], ['worker', 'database'], ['worker', 'cache'], ['web', 'db']] as const) {
      const r = await compose(['exec', '-T', from, 'nslookup', to], 30_000);
      lookups[`${from} -> ${to}`] = r.code === 0 && /Address:?\s+\d+\.\d+\.\d+\.\d+/.test(r.stdout.split('\n').slice(2).join('\n'));
    }
    // web is on front only: db (back only) is not found from it
    assert.deepEqual(lookups, { 'web -> api': true, 'web -> app': true, 'worker -> database': true, 'worker -> cache': true, 'web -> db': false });
    c.record('dns', lookups);
  });

  it('down -v leaves no container, network or volume of the project', async () => {
    must(await compose(['down', '-v', '-t', '1']), 'down -v');
    const left = {
      containers: must(await docker(['ps', '-aq', '--filter', `label=com.docker.compose.project=${P}`]), 'ps').trim(),
      networks: must(await docker(['network', 'ls', '-q', '--filter', `label=com.docker.compose.project=${P}`]), 'network ls').trim(),
      volumes: must(await docker(['volume', 'ls', '-q', '--filter', `label=com.docker.compose.project=${P}`]), 'volume ls').trim(),
    };
    assert.deepEqual(left, { containers: '', networks: '', volumes: '' });
    c.record('down', left);
  });
}, { timeout: 300_000 });
